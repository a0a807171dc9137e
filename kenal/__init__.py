"""Kenal: one trustworthy record per customer."""

__version__ = "0.1.0"
