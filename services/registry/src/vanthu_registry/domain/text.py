"""Vietnamese text folding for accent-insensitive search.

`quyet dinh` must find `Quyết định`: text is decomposed (NFD), the combining
marks dropped, đ/Đ mapped to d (it is a letter of its own, not a d with a mark,
so NFD leaves it alone), lower-cased, and cut into alphanumeric tokens. The same
function prepares stored text and queries, on PostgreSQL and SQLite alike, so
both back ends match the same way.
"""

from __future__ import annotations

import re
import unicodedata

_TOKEN = re.compile(r"[0-9a-z]+")
_SPECIAL = str.maketrans({"đ": "d", "Đ": "d", "ð": "d"})


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.translate(_SPECIAL))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.lower()


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(fold(text))


def search_body(*parts: str | None) -> str:
    """The tokens of every part, space separated: what the full-text index stores."""
    return " ".join(token for part in parts if part for token in tokens(part))


def query_tokens(query: str, *, limit: int = 12) -> list[str]:
    """Distinct tokens of a user query, in order, at most `limit` of them."""
    seen: list[str] = []
    for token in tokens(query):
        if token not in seen:
            seen.append(token)
    return seen[:limit]
