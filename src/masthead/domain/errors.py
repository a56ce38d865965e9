"""Validation errors that name the field, so a client can fix the request without guessing."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field; `path` uses the compat dotted form (`post.target.pageId`)."""

    path: str
    message: str

    def render(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ValidationFailed(Exception):
    """A request that can never succeed; the API answers 422 and queues nothing.

    `message` is the compat `message` field. It defaults to the first error rendered as
    `path: message`; some compat messages (`"Wrong Account ID"`) are given verbatim instead.
    """

    def __init__(self, errors: list[FieldError], message: str | None = None) -> None:
        if not errors:
            raise ValueError("ValidationFailed needs at least one error")
        self.errors = errors
        self.message = message or errors[0].render()
        super().__init__(self.message)

    @classmethod
    def one(cls, path: str, message: str, *, compat_message: str | None = None) -> ValidationFailed:
        return cls([FieldError(path, message)], compat_message)
