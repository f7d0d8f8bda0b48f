"""CSV injection: a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is read
as a formula by spreadsheets. Every CSV the portal writes goes through `writer()`, which
prefixes such cells with a single quote (OWASP's CSV injection guidance); `restore()` takes the
quote off again when the portal reads its own CSV back (the template import)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """The cell as a spreadsheet will show it, never run it. Numbers stay numbers."""
    if not isinstance(value, str) or not value:
        return value
    if value.startswith(DANGEROUS) or (value.startswith("'") and value[1:].startswith(DANGEROUS)):
        return "'" + value
    return value


def restore(value: str) -> str:
    """The text `neutralise` was given (for reading the portal's own CSV back)."""
    if value.startswith("'") and value[1:].startswith((*DANGEROUS, "'")):
        candidate = value[1:]
        if neutralise(candidate) == value:
            return candidate
    return value


class _SafeWriter:
    def __init__(self, inner):
        self._inner = inner

    def writerow(self, row: Iterable[Any]):
        return self._inner.writerow([neutralise(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out, **kwargs) -> _SafeWriter:
    """csv.writer with every cell neutralised."""
    return _SafeWriter(csv.writer(out, **kwargs))
