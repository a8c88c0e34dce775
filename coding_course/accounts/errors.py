"""Domain errors: what a service or selector refuses, with a stable ``code``.

Services and selectors raise these instead of HTTP exceptions; one middleware
(:class:`coding_course.accounts.middleware.DomainErrorMiddleware`) turns any that a view
does not handle itself into a response: the friendly error page, or JSON for a
request that wants JSON. Logic and tests compare ``code``, never the message.

No Django here: every layer above may import this module.
"""

from __future__ import annotations


class DomainError(Exception):
    """A refused action. ``code`` is stable and machine-readable; the message (``str``
    of the error) is written for the person who asked."""

    code = "refused"
    status = 400
    default_message = "This action was refused."

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        super().__init__(message or self.default_message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self)


class NotFound(DomainError):
    """No such object, or not one the user may reach (answered alike: a 404 never
    confirms that someone else's object exists)."""

    code = "not_found"
    status = 404
    default_message = "No such page."


class Forbidden(DomainError):
    """The user's role does not allow this (403)."""

    code = "forbidden"
    status = 403
    default_message = "Your role does not give access to this page."


class Conflict(DomainError):
    """The object's state does not allow this now (409): already closed, already
    running, already done."""

    code = "conflict"
    status = 409
    default_message = "This cannot be done in the object's current state."


class Refused(DomainError):
    """The request was understood and refused (400, or a message on the form)."""

    code = "refused"
    status = 400
