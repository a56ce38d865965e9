"""Masthead: self-hosted social publishing that speaks the Blotato v2 API."""

from importlib.metadata import version

__version__ = version("masthead")
"""From the installed package's metadata: pyproject.toml is the one place it is written."""
