"""postmock: serve a Postman Collection as a local mock server."""

__version__ = "0.1.0"

__all__ = ["__version__"]
