"""Domain errors raised by services and mapped to HTTP once, in `app.main`.

Messages are English message ids, translated for the request's language when the response is rendered.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status_code = 400
    title = "Bad request"

    def __init__(self, message: str, *, code: str | None = None, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or type(self).__name__.lower()
        self.params = params


class Invalid(DomainError):
    status_code = 422
    title = "Invalid input"


class NotFound(DomainError):
    status_code = 404
    title = "Not found"


class Conflict(DomainError):
    status_code = 409
    title = "Conflict"


class Forbidden(DomainError):
    status_code = 403
    title = "Forbidden"


class Unauthorized(DomainError):
    status_code = 401
    title = "Unauthorized"


class TooManyRequests(DomainError):
    status_code = 429
    title = "Too many requests"

    def __init__(self, message: str, *, retry_after: int, **params: Any) -> None:
        super().__init__(message, retry_after=retry_after, **params)
        self.retry_after = retry_after


class PasswordChangeRequired(Forbidden):
    title = "Password change required"


def N_(message: str) -> str:
    """Mark a string for the message catalog without translating it here."""
    return message
