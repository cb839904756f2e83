"""What a person sees: Rich tables, the live table of `serve`, `postmock logs`."""
