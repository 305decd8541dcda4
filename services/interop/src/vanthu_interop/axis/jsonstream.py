"""Read one large string field of a JSON object as a stream.

`getEdoc` answers `{"status":"OK",…,"data":"<base64 of the whole edXML>"}`: for a packet with a
100 MB attachment `data` is ~180 MB of text. Decoding that with `json.loads` would hold it
several times over, so this scanner hands the field's characters to a callback chunk by chunk
and keeps only the small fields. It understands the JSON string escapes (Java libraries write
`\\/` for `/`) and skips nested values of other fields.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_MAX_SMALL_FIELD = 1 << 20
_SPECIAL = re.compile(r'["\\]')  # what ends a run of plain characters in a JSON string


class JsonStreamError(ValueError):
    pass


class FieldStreamer:
    """Feed bytes of a top-level JSON object; `on_chars` receives the chosen field's text."""

    def __init__(self, field: str, on_chars: Callable[[str], None]) -> None:
        self.field = field
        self.on_chars = on_chars
        self.fields: dict[str, Any] = {}
        self.seen_field = False
        self._state = "start"
        self._key: list[str] = []
        self._current_key = ""
        self._small: list[str] = []
        self._small_len = 0
        self._depth = 0
        self._in_nested_string = False
        self._escape = False
        self._unicode: str | None = None
        self._streaming = False
        self._pending_bytes = b""

    def feed(self, data: bytes) -> None:
        data = self._pending_bytes + data
        # Keep an incomplete UTF-8 sequence for the next chunk.
        cut = len(data)
        for back in range(1, min(4, len(data)) + 1):
            byte = data[-back]
            if byte & 0xC0 == 0x80:
                continue
            if byte >= 0xC0:
                needed = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
                if needed > back:
                    cut = len(data) - back
            break
        self._pending_bytes = data[cut:]
        self._scan(data[:cut].decode("utf-8"))

    def close(self) -> dict[str, Any]:
        if self._pending_bytes or self._state != "done":
            raise JsonStreamError("truncated JSON")
        return self.fields

    # -- the scanner ---------------------------------------------------------------------

    def _scan(self, text: str) -> None:
        i, n = 0, len(text)
        while i < n:
            state = self._state
            if state == "in_string":
                i = self._string(text, i)
                continue
            if state == "nested":
                i = self._nested(text, i)
                continue
            if state == "scalar":
                i = self._scalar(text, i)
                continue
            ch = text[i]
            i += 1
            if ch in " \t\r\n":
                continue
            if state == "start":
                if ch != "{":
                    raise JsonStreamError("not a JSON object")
                self._state = "key_or_end"
            elif state in ("key_or_end", "key"):
                if ch == "}" and state == "key_or_end":
                    self._state = "done"
                elif ch == '"':
                    self._begin_string(key=True)
                else:
                    raise JsonStreamError(f"unexpected {ch!r} where a key was expected")
            elif state == "colon":
                if ch != ":":
                    raise JsonStreamError("expected ':'")
                self._state = "value"
            elif state == "value":
                if ch == '"':
                    self._begin_string(key=False)
                elif ch in "{[":
                    self._depth = 1
                    self._small = [ch]
                    self._small_len = 1
                    self._state = "nested"
                else:
                    self._small = [ch]
                    self._small_len = 1
                    self._state = "scalar"
            elif state == "after_value":
                if ch == ",":
                    self._state = "key"
                elif ch == "}":
                    self._state = "done"
                else:
                    raise JsonStreamError(f"unexpected {ch!r} after a value")
            elif state == "done":
                raise JsonStreamError("data after the JSON object")

    def _begin_string(self, *, key: bool) -> None:
        self._state = "in_string"
        self._is_key = key
        self._streaming = not key and self._current_key == self.field
        self._small = []
        self._small_len = 0
        if self._streaming:
            self.seen_field = True

    def _emit(self, piece: str) -> None:
        if not piece:
            return
        if self._streaming:
            self.on_chars(piece)
            return
        self._small_len += len(piece)
        if self._small_len > _MAX_SMALL_FIELD:
            raise JsonStreamError("a small field is too long")
        self._small.append(piece)

    def _string(self, text: str, i: int) -> int:
        # The pieces of this chunk are handed on joined: a base64 field written by a Java library
        # has an escaped `\\/` every 64 characters or so, and a call per piece would cost more
        # than the scanning. Runs of plain characters are found by the regex engine, not a loop.
        n = len(text)
        if self._streaming and self._unicode is None and not self._escape:
            # The usual streamed chunk: base64 whose only escape is `\\/`, done in C.
            j = text.find('"', i)
            run = text[i : n if j < 0 else j]
            if "\\" in run:
                run = run.replace("\\/", "/")
            if "\\" not in run:
                self._emit(run)
                if j < 0:
                    return n
                self._end_string()
                return j + 1
        pieces: list[str] = []
        while i < n:
            if self._unicode is not None:
                need = 4 - len(self._unicode)
                self._unicode += text[i : i + need]
                i += min(need, n - i)
                if len(self._unicode) == 4:
                    pieces.append(chr(int(self._unicode, 16)))
                    self._unicode = None
                continue
            if self._escape:
                ch = text[i]
                i += 1
                self._escape = False
                if ch == "u":
                    self._unicode = ""
                elif ch in _ESCAPES:
                    pieces.append(_ESCAPES[ch])
                else:
                    raise JsonStreamError(f"bad escape \\{ch}")
                continue
            special = _SPECIAL.search(text, i)
            j = special.start() if special is not None else n
            if j > i:
                pieces.append(text[i:j])
            if j == n:
                i = n
                break
            i = j + 1
            if text[j] == "\\":
                self._escape = True
                continue
            self._emit("".join(pieces))
            self._end_string()
            return i
        self._emit("".join(pieces))
        return i

    def _end_string(self) -> None:
        value = "".join(self._small)
        if self._is_key:
            self._current_key = value
            self._state = "colon"
            return
        if not self._streaming:
            self.fields[self._current_key] = value
        self._streaming = False
        self._state = "after_value"

    def _nested(self, text: str, i: int) -> int:
        n = len(text)
        start = i
        while i < n:
            ch = text[i]
            i += 1
            if self._in_nested_string:
                if self._escape:
                    self._escape = False
                elif ch == "\\":
                    self._escape = True
                elif ch == '"':
                    self._in_nested_string = False
            elif ch == '"':
                self._in_nested_string = True
            elif ch in "{[":
                self._depth += 1
            elif ch in "}]":
                self._depth -= 1
                if self._depth == 0:
                    self._emit(text[start:i])
                    self.fields[self._current_key] = json.loads("".join(self._small))
                    self._state = "after_value"
                    return i
        self._emit(text[start:i])
        return i

    def _scalar(self, text: str, i: int) -> int:
        n = len(text)
        j = i
        while j < n and text[j] not in ",} \t\r\n":
            j += 1
        self._emit(text[i:j])
        if j == n:
            return n
        self.fields[self._current_key] = json.loads("".join(self._small))
        self._state = "after_value"
        return j
