"""Errors a user can act on: each says what was found, what was expected and how to fix it.

:class:`ReadWarning` is the warning for a problem in the input that was recovered from.
"""

from __future__ import annotations


class CxnlpError(Exception):
    """Every error cxnlp raises on purpose (the CLI prints it without a traceback)."""


class InputError(CxnlpError):
    """The feedback export cannot be read or does not have what the run needs."""


class NoResponses(InputError):
    """An export with a header but no responses; ``columns`` holds the header's names (a glob's
    empty file, e.g. a day without responses, is skipped rather than failing the run)."""

    def __init__(self, message: str, columns: list[str]) -> None:
        super().__init__(message)
        self.columns = columns


class ConfigError(CxnlpError):
    """The configuration file or an override is invalid."""


class ModelError(CxnlpError):
    """A shipped or user-trained model artifact is missing, corrupt or does not match its card."""


class ReadWarning(UserWarning):
    """A problem in the input that was recovered from (the message says how)."""
