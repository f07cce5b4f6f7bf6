"""``json.dumps(obj, indent=1, ensure_ascii=False[, sort_keys=True])``, byte for byte, fast.

The standard library indents with its pure-Python encoder: ~3 s for the 28,000 ARD rows of
cdiscpilot01, written in ``ard.json`` and in the executed notebook that emits them. Here every
long list of flat records (the ARD rows, wherever they sit) is written by ``_dump_rows``; the
rest of the document (small) by the standard library. Tests compare the two on real documents.
"""
from __future__ import annotations

import json
from json.encoder import encode_basestring
from typing import Any

_INF = float("inf")
MIN_ROWS = 16          # shorter lists: the standard library's speed is fine


def _is_rows(value: Any) -> bool:
    return (type(value) is list and len(value) >= MIN_ROWS
            and all(type(r) is dict and all(type(k) is str for k in r) for r in value))


def dumps_indented(obj: Any, sort_keys: bool = False) -> str:
    """The text of ``json.dumps(obj, indent=1, ensure_ascii=False, sort_keys=sort_keys)``."""
    found: list[list[dict]] = []
    nonce = f"\u0000rows-{id(found):x}-"

    def mark(value: Any) -> Any:
        if _is_rows(value):
            found.append(value)
            return f"{nonce}{len(found) - 1}\u0000"
        if type(value) is dict or isinstance(value, dict):
            return {k: mark(v) for k, v in value.items()}
        if type(value) is list:
            return [mark(v) for v in value]
        return value

    skeleton = mark(obj)
    head = json.dumps(skeleton, indent=1, ensure_ascii=False, sort_keys=sort_keys)
    if not found:
        return head
    pieces, pos = [], 0
    for i, rows in enumerate(found):
        token = json.dumps(f"{nonce}{i}\u0000")
        at = head.index(token, pos)
        line_start = head.rfind("\n", 0, at) + 1
        level = len(head[line_start:at]) - len(head[line_start:at].lstrip(" "))   # the list's own indent
        pieces += [head[pos:at], _dump_rows(rows, level, sort_keys)]
        pos = at + len(token)
    pieces.append(head[pos:])
    return "".join(pieces)


def _dump_rows(rows: list[dict[str, Any]], level: int, sort_keys: bool = False) -> str:
    """A list of flat dicts whose closing bracket is indented by ``level``, as the indent=1
    encoder writes it (values that are containers: by the standard library, re-indented)."""
    item = " " * (level + 2)
    nested: dict[str, str] = {}
    keys: dict[str, str] = {}

    def value(v: Any) -> str:
        if v is None:
            return "null"
        t = type(v)
        if t is str:
            return encode_basestring(v)
        if t is bool:
            return "true" if v else "false"
        if t is int:
            return int.__repr__(v)               # what the encoder writes for an int
        if t is float:
            return float.__repr__(v) if v == v and v not in (_INF, -_INF) else json.dumps(v)
        flat = json.dumps(v, ensure_ascii=False, sort_keys=sort_keys)     # C encoder: the cache key
        if flat not in nested:
            nested[flat] = json.dumps(v, indent=1, ensure_ascii=False,
                                      sort_keys=sort_keys).replace("\n", "\n" + item)
        return nested[flat]

    out = []
    for r in rows:
        if not r:
            out.append("{}")
            continue
        parts = []
        for k, v in (sorted(r.items()) if sort_keys else r.items()):
            kk = keys.get(k)
            if kk is None:
                kk = keys.setdefault(k, encode_basestring(k))
            parts.append(f"{kk}: {value(v)}")
        out.append("{\n" + item + (",\n" + item).join(parts) + "\n" + " " * (level + 1) + "}")
    inner = " " * (level + 1)
    return "[\n" + inner + (",\n" + inner).join(out) + "\n" + " " * level + "]"
