"""Reading ids and numbers from request parameters without surprises."""

from __future__ import annotations


def parse_id(value: str | None, *, maximum: int = 2**53) -> int | None:
    """A positive ASCII integer, or None: "²".isdigit() is True, int("²") is not."""
    value = (value or "").strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 16:
        return None
    number = int(value)
    return number if 0 <= number <= maximum else None
