"""How a publish can go wrong, as the engine acts on it: the classes publishers raise and the
media pipeline raises for a file that cannot be used (re-exported by `platforms/base.py`)."""

from __future__ import annotations


class PublishError(Exception):
    """Base of the three ways a publish can go wrong; the engine acts on the class."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class Retryable(PublishError):
    """The platform certainly did not act (refused connection, 429, 5xx before creating).
    `retry_after` (seconds) comes from the platform when it says how long to wait."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Permanent(PublishError):
    """The platform refused and will refuse again; reported in its own words."""


class OutcomeUnknown(PublishError):
    """The irreversible request left, but no answer came back; never re-sent blindly."""


class AnswerLost(PublishError):
    """The request left and its answer was lost, for a target whose payload carries a stable
    id (the webhook's `postSubmissionId`): the engine keeps the sending mark and tries again
    later through `reconcile`, which delivers the same id again (at least once)."""


class NotSent(Retryable):
    """Raised by `reconcile` when the platform shows that the item certainly never became a
    post (a Meta container that ended in ERROR or EXPIRED): the engine drops the sending mark
    and retries the item from `prepare`, as after any Retryable."""


class AccountDisconnected(Permanent):
    """The platform refused the account's credentials for good (a revoked token, a failed
    refresh). The engine fails the post and marks the account disconnected with this message,
    so that later posts to it are refused at request time."""
