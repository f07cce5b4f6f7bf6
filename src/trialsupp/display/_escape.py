"""One escaping function per output target (HTML, Typst markup, RTF).

Every text that reaches a renderer (titles, labels, cell text, footnotes) goes
through exactly one of these functions, so that an AE term such as
``<script>alert(1)</script>`` or ``Pain *severe* [grade 3]`` is shown as text.
"""
from __future__ import annotations

import re

__all__ = ["escape_html", "escape_typst", "escape_rtf", "strip_controls"]

_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"}

# Characters with a meaning in Typst markup. A backslash before any of them gives
# the literal character (checked by compiling each one with the typst package,
# see tests/display/test_escape.py):
#   \ escape   # code   $ math   * strong   _ emph   ` raw   @ reference
#   < > label   [ ] content   ~ non-breaking space   / term list, // and /* comments
#   = heading   - list, --/--- dashes, -? soft hyphen   + enumeration
#   ' " smart quotes   . "1." enumeration and "..." ellipsis   : "http://" links
_TYPST_SPECIAL = frozenset("\\#$*_`@<>[]~/=-+'\".:")


def _control(c: str) -> bool:
    """C0 controls other than tab/newline/return, DEL and C1 controls (BEL, ESC, ...): never shown."""
    o = ord(c)
    return (o < 32 and c not in "\t\n\r") or 0x7F <= o <= 0x9F


_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")     # what _control() matches


def strip_controls(text: str) -> str:
    return _CONTROLS.sub("", str(text))


def escape_html(text: str) -> str:
    """Escape ``& < > " '`` for HTML text and attribute values; control characters are removed."""
    return "".join(_HTML.get(c, c) for c in str(text) if not _control(c))


def escape_typst(text: str) -> str:
    """Escape text for Typst *markup* (inside ``[...]``): backslash before every special char.

    Line breaks become spaces (use the renderer's explicit line-break support for
    intended breaks); other control characters are dropped.
    """
    out = []
    for c in str(text):
        if c in _TYPST_SPECIAL:
            out.append("\\" + c)
        elif c in "\r\n\t":
            out.append(" ")
        elif _control(c):
            continue
        else:
            out.append(c)
    return "".join(out)


def escape_typst_string(text: str) -> str:
    """Escape text for a Typst *string literal* ``"..."`` (code mode)."""
    return (strip_controls(text).replace("\\", "\\\\").replace('"', '\\"')
            .replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t"))


def escape_rtf(text: str) -> str:
    r"""Escape text for RTF: ``\ { }`` get a backslash; non-ASCII becomes ``\uN?``.

    ``N`` is the signed 16-bit code unit (RTF 1.9); characters outside the BMP are
    written as a UTF-16 surrogate pair. Newlines become ``\line``, tabs ``\tab``.
    """
    out = []
    for c in str(text):
        o = ord(c)
        if c in "\\{}":
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\line ")
        elif c == "\t":
            out.append("\\tab ")
        elif _control(c) or c == "\r":
            continue
        elif o < 128:
            out.append(c)
        else:
            data = c.encode("utf-16-be")
            for i in range(0, len(data), 2):
                unit = int.from_bytes(data[i:i + 2], "big")
                if unit > 32767:
                    unit -= 65536
                out.append(f"\\u{unit}?")
    return "".join(out)
