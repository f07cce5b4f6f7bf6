"""Accessible documents: alternative text for every figure of the PDF (PDF/UA-1).

Pandoc's Typst writer drops an image's description, and PDF/UA-1 requires one for every
figure; the text is built from the figure's caption and its ARD rows (the methods and the
groups it shows), so it says what the figure presents without repeating numbers that the
reader cannot trace. It is added to each ``image("media/<label>-<n>.svg", ...)`` call.
"""
from __future__ import annotations

import re
from typing import Iterable, Mapping

_IMAGE = re.compile(r'image\("media/([^"/]+?)-(\d+)\.svg"')


def figure_alt(caption: str, rows: Iterable[Mapping]) -> str:
    rows = list(rows)
    text = " ".join(str(caption or "").split()).rstrip(".")
    methods = list(dict.fromkeys(str(r["method"]) for r in rows if r.get("method")))[:3]
    groups = list(dict.fromkeys(str(r["group1_level"]) for r in rows if r.get("group1_level")))[:6]
    parts = [text + "."] if text else []
    if methods:
        parts.append("Shows " + "; ".join(methods) + ".")
    if groups:
        parts.append("Groups: " + ", ".join(groups) + ".")
    parts.append("Every plotted value is in the results store (ard.json).")
    return " ".join(parts)


def _typst_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def add_typst_alt(typ: str, alts: Mapping[str, str]) -> str:
    """Give each embedded figure image its ``alt`` (label -> text); unknown labels keep
    the caption-less fallback, the label itself, so that no figure is left without."""
    def repl(m: re.Match) -> str:
        alt = alts.get(m.group(1)) or m.group(1)
        return f"{m.group(0)}, alt: {_typst_string(alt)}"
    return _IMAGE.sub(repl, typ)
