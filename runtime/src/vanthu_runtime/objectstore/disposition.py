"""Content-Disposition for downloads whose names are Vietnamese.

RFC 6266: `filename*` carries the real name in UTF-8 (percent-encoded, RFC 5987);
`filename` is an ASCII fallback for old clients. "Công văn số 45.pdf" becomes
`attachment; filename="Cong van so 45.pdf"; filename*=UTF-8''C%C3%B4ng%20v%C4%83n...`.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

# Letters NFKD does not decompose into a base letter plus a combining mark.
_ASCII_FOLDS = str.maketrans({"đ": "d", "Đ": "D"})


def content_disposition(filename: str | None, *, disposition: str = "attachment") -> str:
    if not filename:
        return disposition
    # Control characters (CR/LF above all) must never reach a header; path parts are
    # dropped so a stored name like "a/b.pdf" cannot suggest a directory.
    name = "".join(ch for ch in filename if unicodedata.category(ch)[0] != "C")
    name = name.replace("/", "_").replace("\\", "_").strip() or "download"
    return f"{disposition}; filename=\"{ascii_fallback(name)}\"; filename*=UTF-8''{quote(name, safe='')}"


def ascii_fallback(name: str) -> str:
    """Strip diacritics ("Quyết định" -> "Quyet dinh"); anything else non-ASCII becomes "_"."""
    decomposed = unicodedata.normalize("NFKD", name.translate(_ASCII_FOLDS))
    base = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    ascii_only = "".join(ch if " " <= ch <= "~" and ch not in '"\\' else "_" for ch in base)
    return ascii_only or "download"
