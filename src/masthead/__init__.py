"""Masthead: self-hosted social publishing that speaks the Blotato v2 API."""
