"""Pingan (平安): an open platform for a city's public-safety operations."""

__version__ = "0.1.0"
