"""Variables, response templates and dynamic values (`{{$randomInt}}`)."""
