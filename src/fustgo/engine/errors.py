"""The one exception tree of FustGo.

Every error a user can see derives from `FustgoError` and carries a message that names the
object at fault and the next step. The runner classifies errors by type, never by message:

- `RetryableError`: transient (timeouts, a dropped connection); retried with backoff.
- `DataError`: one or more records are bad; they go to the dead-letter output.
- `TerminalError`: retrying cannot help (bad credentials, a missing table); the run stops.
"""

from __future__ import annotations


class FustgoError(Exception):
    """Root of every FustGo error."""


class ConfigError(FustgoError):
    """A pipeline or plugin configuration is invalid."""


class TerminalError(FustgoError):
    """Retrying cannot help; the run stops with this message."""


class RetryableError(FustgoError):
    """A transient failure; the operation may succeed if tried again."""

    def __init__(self, message: str, *, retry_after_seconds: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class DataError(FustgoError):
    """Records could not be handled; they belong in the dead-letter output, not in a log line."""


class ErrorLimitExceeded(FustgoError):
    """More records failed than `settings.error_limit` allows."""


class RunInterrupted(FustgoError):
    """The run was stopped by a signal after draining and saving its checkpoint."""
