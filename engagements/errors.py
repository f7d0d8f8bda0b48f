from __future__ import annotations


class DomainError(Exception):
    """An action the rules refuse; the message is for the person who tried it."""


class NotAllowed(DomainError):
    """The person may see the task but not make this move (answered with 403)."""


class Conflict(DomainError):
    """Someone else changed the task since the form was shown."""


class Refused(DomainError):
    """Input refused field by field (a checklist's items): `errors` maps each field to a
    message that names it; the message lists them all. Nothing was saved."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("Nothing was saved. " + " ".join(_sentence(m) for m in errors.values()))


def _sentence(message: str) -> str:
    return message if message.endswith((".", "?", "!")) else message + "."


class NotFound(DomainError):
    """The person may not see the object, or there is no such object (answered with 404,
    so that its existence does not leak)."""
