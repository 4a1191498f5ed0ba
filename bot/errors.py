"""Errors whose message is meant for the person who caused them."""

from __future__ import annotations


class UserFacingError(Exception):
    """An error whose message is shown as-is to the person (Slack, email or CLI)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AccessDenied(UserFacingError):
    """The person may not do this (unknown, revoked, or lacking the role)."""


class NotYours(AccessDenied):
    """The subject exists (or not: the answer is the same) but the person may not see it."""


class ForgedRequest(AccessDenied):
    """A request whose ids or hidden state could not have come from our own screens."""

    def __init__(self, message: str = "That request is not valid. Nothing was changed.") -> None:
        super().__init__(message)


class NotFound(UserFacingError):
    """The thing asked for does not exist or is not visible to the person."""


class InvalidInput(UserFacingError):
    """Input failed validation; `field` names the input it concerns, when there is one."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
