"""Hot queries built by the ORM once per process, then run with new parameters.

Building a query with the ORM (resolving its expressions and joins, compiling the SQL) is
Python work that costs several milliseconds for a query with JSON subqueries, on every
request. For a query whose shape never changes, only its parameters (a task's id, the
signed-in person's id), `rows(key, build, **ids)` builds it once with sentinel values in
place of the ids, remembers the compiled SQL and where each sentinel sits among its
parameters, and afterwards runs that SQL with the ids substituted, through the same
compiler state, so the rows come back exactly as the ORM's (model instances with their
select_related objects and annotations, converters applied).

`key` names the shape: everything that changes the SQL other than the ids must be in it
(e.g. whether the viewer is known to be a portal admin). The key is tied to the building
function (its module, name and line, a partial's keywords) and the ids' names, so two call
sites cannot share an entry, and a closure (whose captured values would shape the SQL
unseen) is never kept. A shape is kept only when proven: built with the caller's own
values, it must compile to the same SQL with exactly those values at the sentinels' places.
A query that fails the proof (a value computed from a day, an id out of a column's range,
an id inside a string) or compiles to nothing is simply run the ordinary way each time.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Hashable
from functools import partial
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet
from django.db.transaction import TransactionManagementError

# Never an id (ids are positive), and within a 32-bit integer column's range: Django
# compiles a lookup with a value out of the column's range to "no rows" (a constant).
_SENTINEL = -2_100_000_000
_compiled: dict[Hashable, Any] = {}
# Shapes kept per process at most (each a compiled query, some tens of KB): past it, a new
# shape runs the ordinary way. The portal's hot shapes are a few dozen.
MAX_SHAPES = 256


def _sentinel(i: int, value: Any) -> Any:
    if type(value) is dt.datetime:  # an aware moment: never a real one of the portal
        return dt.datetime(1, 1, 2, tzinfo=dt.UTC) + dt.timedelta(minutes=i)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.date(1, 1, 1) + dt.timedelta(days=i)  # never a real day of the portal
    if type(value) is not int:
        raise TypeError(f"prepared.rows takes ids, days and times, not {type(value).__name__}")
    return _SENTINEL - i


def numbered(prefix: str, values: Any) -> dict[str, int]:
    """A list of ids as keyword arguments for rows() (`build` takes them back in order with
    `in_order`): a list's length belongs in the key."""
    return {f"{prefix}{i:05d}": value for i, value in enumerate(values)}


def in_order(prefix: str, ids: dict[str, Any]) -> list[Any]:
    return [ids[name] for name in sorted(ids) if name.startswith(prefix)]


def _compile(build: Callable[..., QuerySet], ids: dict[str, Any]) -> Any:
    sentinels = {name: _sentinel(i, ids[name]) for i, name in enumerate(sorted(ids))}
    try:
        queryset = build(**sentinels)
    except (OverflowError, ValueError):
        return None  # a day or id the query computes with (today - n): not a parameter
    if queryset._known_related_objects:
        return None  # a related manager's queryset would hand every row the first owner
    compiler = queryset.query.get_compiler(using=queryset.db)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return None
    params = tuple(params)
    slots = {
        name: [i for i, p in enumerate(params) if type(p) is type(value) and p == value]
        for name, value in sentinels.items()
    }
    if any(not found for found in slots.values()) or any(str(v) in sql for v in sentinels.values()):
        return None  # an id is not a plain parameter: not safe to substitute
    # The proof: the same query built with the caller's own values must compile to the
    # same SQL, with exactly those values at the slots and the same constants elsewhere.
    # A value the query computes with (today + n), folds into the SQL (an id out of a
    # column's range drops its condition) or hides in a string fails it: run ordinarily.
    real = build(**ids)
    try:
        real_sql, real_params = real.query.get_compiler(using=real.db).as_sql()
    except EmptyResultSet:
        return None
    if real_sql != sql or tuple(real_params) != _substituted(params, slots, ids):
        return None
    return queryset, compiler, sql, params, slots


def _substituted(template: tuple, slots: dict[str, list[int]], ids: dict[str, Any]) -> tuple:
    params = list(template)
    for name, positions in slots.items():
        for i in positions:
            params[i] = ids[name]
    return tuple(params)


def _check_ids(ids: dict[str, Any]) -> None:
    for name, value in ids.items():
        if type(value) is dt.datetime and value.tzinfo is None:
            raise TypeError(f"prepared.rows takes aware times; {name} is naive")
        if type(value) not in (int, dt.date, dt.datetime):
            raise TypeError(
                f"prepared.rows takes ids, days and times; {name} is {type(value).__name__}"
            )


def _shape_of(
    key: Hashable, build: Callable[..., QuerySet], ids: dict[str, Any]
) -> Hashable | None:
    """The caller's key, tied to the function that builds the query (with the keyword
    arguments a partial gives it and the values a closure captured) and to the names of the
    ids: two call sites cannot share a compiled query by choosing the same key, and what
    shapes the SQL unseen is part of it. None when a captured value cannot be a key."""
    func, bound = build, ()
    if isinstance(build, partial):
        func = build.func
        bound = tuple(sorted((k, repr(v)) for k, v in build.keywords.items()))
    captured = []
    for cell in getattr(func, "__closure__", None) or ():
        try:
            value = cell.cell_contents
            hash(value)
        except (ValueError, TypeError):
            return None  # an empty cell, or a value that cannot be a key: not kept
        captured.append(value)
    bound = (*bound, *captured)
    code = getattr(func, "__code__", None)
    return (
        key,
        getattr(func, "__module__", ""),
        getattr(func, "__qualname__", ""),
        code.co_firstlineno if code else 0,
        bound,
        tuple(sorted(ids)),
    )


def rows(key: Hashable, build: Callable[..., QuerySet], **ids: Any) -> list[Any]:
    """`list(build(**ids))`, the SQL compiled once per process for `key`: `ids` are ids
    (ints), days (dates) and moments (aware datetimes), the only values that may differ
    between two calls with the same key."""
    _check_ids(ids)
    shape = _shape_of(key, build, ids)
    if shape is None:
        return list(build(**ids))
    key = shape
    entry = _compiled.get(key)
    if entry is None:
        if len(_compiled) >= MAX_SHAPES:
            return list(build(**ids))
        entry = _compiled[key] = _compile(build, ids) or False
    if entry is False:
        return list(build(**ids))
    queryset, compiler, sql, template, slots = entry
    if queryset.query.select_for_update and connections[queryset.db].get_autocommit():
        raise TransactionManagementError(
            "select_for_update cannot be used outside of a transaction."
        )
    params = list(_substituted(template, slots, ids))
    mine = copy.copy(compiler)
    mine.connection = connections[queryset.db]  # this thread's connection, not the builder's
    mine.as_sql = lambda *args, **kwargs: (sql, params)  # type: ignore[method-assign]
    query = copy.copy(queryset.query)
    query.get_compiler = lambda *args, **kwargs: mine  # type: ignore[method-assign]
    # A new QuerySet sharing the built one's state (copy.copy would evaluate it: a
    # QuerySet's pickling state is its rows).
    fresh = queryset.__class__.__new__(queryset.__class__)
    fresh.__dict__.update(queryset.__dict__)
    fresh._query = query
    fresh._result_cache = None
    fresh._prefetch_done = False
    return list(fresh)
