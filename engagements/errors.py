from __future__ import annotations


class DomainError(Exception):
    """An action the rules refuse; the message is for the person who tried it."""


class NotAllowed(DomainError):
    """The person may see the task but not make this move (answered with 403)."""


class Conflict(DomainError):
    """Someone else changed the task since the form was shown."""
