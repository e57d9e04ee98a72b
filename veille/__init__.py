"""Veille: document search and regulatory watch (configuration, CLI, demo)."""

__version__ = "0.1.0"
