"""postmock: serve a Postman Collection as a local mock server."""

__version__ = "0.2.0"

__all__ = ["__version__"]
