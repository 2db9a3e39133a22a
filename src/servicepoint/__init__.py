"""servicepoint: an open-source platform for a city's citizen service."""

__version__ = "0.1.0"
