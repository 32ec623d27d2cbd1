"""Backstrong: the backend for back-strengthening exercise apps."""

__version__ = "0.1.0"
