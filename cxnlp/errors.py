"""Errors a user can act on: each says what was found, what was expected and how to fix it."""

from __future__ import annotations


class CxnlpError(Exception):
    """Every error cxnlp raises on purpose (the CLI prints it without a traceback)."""


class InputError(CxnlpError):
    """The feedback export cannot be read or does not have what the run needs."""


class ConfigError(CxnlpError):
    """The configuration file or an override is invalid."""


class ModelError(CxnlpError):
    """A shipped or user-trained model artifact is missing, corrupt or does not match its card."""
