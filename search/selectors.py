"""The search read: what the person typed, checked; then one ranked query per kind (in
search.kinds), within what they may see; then the hits merged by rank.

On PostgreSQL a hit is a full-text match (`to_tsvector(...) @@ to_tsquery(...)`, the words
as prefixes, served by the GIN expression indexes of search/migrations), ranked with
ts_rank and its snippet cut by ts_headline. On SQLite (the default for `make run`) a hit
has every word somewhere in its fields (icontains), ranked title hits first.
"""

from __future__ import annotations

import functools
import operator
import re
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db import connection, models
from django.db.models import Case, Q, Value, When
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .kinds import CONFIGS, HEADLINE_CONFIG, KINDS, Kind

MAX_LENGTH = 100  # characters of the query
MAX_WORDS = 8
PER_KIND = 20  # the best hits of each kind; the page says when there were more
SNIPPET_CHARS = 160  # the SQLite snippet's window
# Words are runs of letters and digits: nothing else reaches the tsquery (no operator,
# quote or colon a person could type), so no input can make it a syntax error.
_WORD = re.compile(r"[^\W_]+")
# ts_headline marks a match with these; control characters, so they are not in any text a
# person typed through a form (the pages' forms refuse them), and are removed if they were.
_START, _STOP = "\x02", "\x03"


class SearchInputError(ValueError):
    pass


@dataclass(frozen=True)
class Hit:
    kind: Kind
    rank: float
    title: SafeString
    engagement: str
    snippet: SafeString
    url: str


@dataclass(frozen=True)
class Results:
    query: str
    words: list[str]
    hits: list[Hit]
    more: list[Kind]  # kinds with more hits than shown
    kinds: tuple[Kind, ...]


def words_of(raw: str) -> list[str]:
    """The words to look for, or SearchInputError with a message naming the field."""
    raw = raw.strip()
    if len(raw) > MAX_LENGTH:
        raise SearchInputError(
            f"Search: at most {MAX_LENGTH} characters, please (this has {len(raw)})."
        )
    words = list(dict.fromkeys(w.lower() for w in _WORD.findall(raw)))
    if raw and not words:
        raise SearchInputError("Search: type a word or a number to look for.")
    if len(words) > MAX_WORDS:
        raise SearchInputError(f"Search: at most {MAX_WORDS} words, please.")
    return words


def search(user: Any, raw: str, *, kinds: tuple[Kind, ...] = KINDS) -> Results:
    """The hits this person may see, best first (one query per kind). Raises
    SearchInputError for a query too long or without a word; no words: no hits."""
    words = words_of(raw)
    hits: list[Hit] = []
    more: list[Kind] = []
    if words:
        find = _postgres if connection.vendor == "postgresql" else _fallback
        for kind in kinds:
            found = find(kind, kind.visible(user), words)
            if len(found) > PER_KIND:
                more.append(kind)
            hits += found[:PER_KIND]
    hits.sort(key=lambda h: -h.rank)
    return Results(query=raw.strip(), words=words, hits=hits, more=more, kinds=kinds)


def tsquery(words: list[str]) -> SearchQuery:
    """Every word, each as a prefix ("firew" finds "firewall") of an English stem or of a
    plain word (both are in the document's vector, see search.kinds)."""

    def either(word: str) -> SearchQuery:
        return functools.reduce(
            operator.or_,
            (SearchQuery(f"{word}:*", search_type="raw", config=config) for config in CONFIGS),
        )

    return functools.reduce(operator.and_, (either(w) for w in words))


def _postgres(kind: Kind, visible: models.QuerySet, words: list[str]) -> list[Hit]:
    query = tsquery(words)
    rows = (
        visible.alias(_document=kind.vector())
        .filter(_document=query)
        .annotate(
            _rank=SearchRank(kind.vector(), query),
            _snippet=SearchHeadline(
                kind.snippet_text(),
                query,
                config=HEADLINE_CONFIG,
                start_sel=_START,
                stop_sel=_STOP,
                max_words=30,
                min_words=12,
                max_fragments=2,
                fragment_delimiter=" … ",
            ),
        )
        .select_related(*kind.related)
        .order_by("-_rank", "-pk")[: PER_KIND + 1]
    )
    return [_hit(kind, row, row._rank, _marked(row._snippet), words) for row in rows]


def _fallback(kind: Kind, visible: models.QuerySet, words: list[str]) -> list[Hit]:
    def anywhere(fields: tuple[str, ...]) -> Q:
        return functools.reduce(
            operator.and_,
            (
                functools.reduce(operator.or_, (Q(**{f"{f}__icontains": w}) for f in fields))
                for w in words
            ),
        )

    titles = kind.title_fields()
    rows = (
        visible.filter(anywhere(tuple(f for f, _ in kind.weighted)))
        .annotate(
            _rank=Case(When(anywhere(titles), then=Value(1.0)), default=Value(0.5))
            if titles
            else Value(0.5),
            _snippet=kind.snippet_text(),
        )
        .select_related(*kind.related)
        .order_by("-_rank", "-pk")[: PER_KIND + 1]
    )
    return [_hit(kind, row, row._rank, _cut(row._snippet, words), words) for row in rows]


def _hit(kind: Kind, row: Any, rank: float, snippet: SafeString, words: list[str]) -> Hit:
    return Hit(
        kind=kind,
        rank=float(rank),
        title=highlight(kind.title(row), words, prefix=True),
        engagement=str(kind.engagement(row)),
        snippet=snippet,
        url=kind.url(row),
    )


def _marked(headline: str | None) -> SafeString:
    """ts_headline's text, escaped, its marked matches in <mark>."""
    out = []
    for i, part in enumerate(re.split(f"{_START}(.*?){_STOP}", headline or "", flags=re.S)):
        part = escape(part.replace(_START, "").replace(_STOP, ""))
        out.append(f"<mark>{part}</mark>" if i % 2 else part)
    return mark_safe("".join(out))  # every piece escaped above


def highlight(text: str, words: list[str], *, prefix: bool = False) -> SafeString:
    """The text escaped, each match of a word in <mark> (with `prefix`, whole words that
    start with one of the words or its rough stem; otherwise the word anywhere, as icontains
    found it)."""
    if not words:
        return escape(text)
    if prefix:  # a word's rough stem too ("deploying" marks "Deployment", as PostgreSQL found it)
        words = [*words, *(w[: max(4, len(w) - 3)] for w in words if len(w) > 5)]
    alternatives = "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))
    pattern = rf"(\b(?:{alternatives})\w*)" if prefix else rf"({alternatives})"
    out = []
    for i, part in enumerate(re.split(pattern, text, flags=re.I)):
        out.append(f"<mark>{escape(part)}</mark>" if i % 2 else escape(part))
    return mark_safe("".join(out))  # every piece escaped above


def _cut(text: str | None, words: list[str]) -> SafeString:
    """The SQLite snippet: a window of the text around the first match, highlighted."""
    text = " ".join((text or "").split())
    lowered = text.lower()
    found = [i for i in (lowered.find(w) for w in words) if i >= 0]
    start = max(0, min(found, default=0) - SNIPPET_CHARS // 3)
    if start:
        start = text.find(" ", start) + 1 or start
    window = text[start : start + SNIPPET_CHARS]
    cut = start + SNIPPET_CHARS < len(text)
    if cut and " " in window:
        window = window[: window.rindex(" ")]  # end on a whole word
    lead = "… " if start else ""
    tail = " …" if cut else ""
    return mark_safe(lead + highlight(window, words) + tail)  # escaped by highlight()
