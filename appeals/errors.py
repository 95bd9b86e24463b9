"""Domain errors. Messages are English msgids; the portal translates them."""

from __future__ import annotations

from typing import Any


def N_(message: str) -> str:
    """Mark a message for translation without translating it here."""
    return message


class DomainError(Exception):
    """A rule of the domain refused an action; `code` is stable, `message` is for people."""

    code = "domain_error"
    status = 400

    def __init__(self, message: str, *, field: str | None = None, **params: Any) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.field = field
        self.params = params


class NotFound(DomainError):
    """The object does not exist, or the actor may not know that it exists."""

    code = "not_found"
    status = 404


class PermissionDenied(DomainError):
    """The actor is known but lacks the permission for this action."""

    code = "forbidden"
    status = 403


class InvalidInput(DomainError):
    """Input broke a rule; `field` names the form field to show it next to."""

    code = "invalid_input"
    status = 422


class Refusals(InvalidInput):
    """Several fields broke rules at once: every refusal, so a form can show them together.

    It reads as its first refusal, so a caller that handles one refusal still works.
    """

    def __init__(self, refusals: list[InvalidInput]) -> None:
        first = refusals[0]
        super().__init__(first.message, field=first.field, **first.params)
        self.refusals = refusals


def refuse_all(refusals: list[InvalidInput]) -> None:
    """Raise nothing, the one refusal, or all of them at once."""
    if len(refusals) == 1:
        raise refusals[0]
    if refusals:
        raise Refusals(refusals)


def each_refusal(error: DomainError) -> list[DomainError]:
    """The refusals an error stands for: itself, or each of several."""
    return list(error.refusals) if isinstance(error, Refusals) else [error]


class RefusedFile(InvalidInput):
    """An upload intake refused; `reason` is intake's stable code (too_large, too_many_files...)."""

    def __init__(self, reason: str, message: str, **params: Any) -> None:
        super().__init__(message, field="file", **params)
        self.reason = reason


class Conflict(DomainError):
    """The action clashes with the current state (a duplicate, or a concurrent change)."""

    code = "conflict"
    status = 409
