"""JAMA numbering of eTables and eFigures.

Elements are numbered in order of FIRST CITATION in the text (AMA Manual of
Style): the first table cited is eTable 1 even if it appears later. Elements
that are never cited are numbered after the cited ones, in order of
appearance, and reported in :attr:`Numbering.uncited` (a supplement should
cite every element). A citation of a label that no element carries is an
error naming file and line.

Quarto numbers floats in order of appearance; when the two orders differ the
outputs of the two publishers would differ, see :func:`appearance_mismatch`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from trialsupp.publish.qmd import (Document, Embed, FloatDiv, Loc, PublishError, Text,
                                   prose_lines, xrefs)

DEFAULT_TITLES = {"tbl": "eTable", "fig": "eFigure"}


@dataclass
class Numbering:
    """label -> "eTable N"; plus the order of elements and diagnostics."""
    numbers: dict[str, str]
    kinds: dict[str, str]                    # label -> "tbl" | "fig"
    appearance: list[str]                    # labels in document order
    citations: list[tuple[str, Loc]]         # every citation, in order
    uncited: list[str] = field(default_factory=list)
    title_delim: str = "."

    def caption(self, label: str, title: str | None) -> str:
        """'eTable 1. Title' (the delimiter from crossref ``title-delim``)."""
        head = self.numbers[label]
        return f"{head}{self.title_delim} {title}" if title else head

    def number(self, label: str) -> int:
        return int(self.numbers[label].rsplit(" ", 1)[1])


def crossref_settings(*configs: dict) -> tuple[dict[str, str], dict[str, str], str]:
    """(caption titles, reference prefixes, title delimiter) from ``crossref:``
    blocks of the project config and front matter (later ones win)."""
    titles, prefixes, delim = dict(DEFAULT_TITLES), dict(DEFAULT_TITLES), "."
    explicit_prefix = {}
    for cfg in configs:
        cr = (cfg or {}).get("crossref") or {}
        for kind in ("tbl", "fig"):
            if f"{kind}-title" in cr:
                titles[kind] = str(cr[f"{kind}-title"])
            if f"{kind}-prefix" in cr:
                explicit_prefix[kind] = str(cr[f"{kind}-prefix"])
        if "title-delim" in cr:
            delim = str(cr["title-delim"])
    for kind in ("tbl", "fig"):
        prefixes[kind] = explicit_prefix.get(kind, titles[kind])
    return titles, prefixes, delim


def floats_in_order(doc: Document) -> list[tuple[str, Loc]]:
    """Numbered elements (embeds and ``#tbl-``/``#fig-`` divs) in document order."""
    seen: dict[str, Loc] = {}
    out = []
    for item in doc.items:
        if isinstance(item, Embed) and item.label.startswith(("tbl-", "fig-")):
            label, loc = item.label, item.loc
        elif isinstance(item, FloatDiv):
            label, loc = item.label, item.loc
        else:
            continue
        if label in seen:
            raise PublishError(f"{loc}: duplicate element label '{label}' "
                               f"(first used at {seen[label]})")
        seen[label] = loc
        out.append((label, loc))
    return out


def citations_in_order(doc: Document) -> list[tuple[str, Loc]]:
    out = []
    for item in doc.items:
        if isinstance(item, (Text, FloatDiv)):
            for line, loc, prose in prose_lines(item.lines):
                if prose:
                    out.extend((label, loc) for label in xrefs(line))
    return out


def number_elements(doc: Document, *, titles: dict[str, str] | None = None,
                    title_delim: str = ".") -> Numbering:
    """Number the document's eTables and eFigures by first citation."""
    titles = titles or DEFAULT_TITLES
    floats = floats_in_order(doc)
    labels = [label for label, _ in floats]
    known = set(labels)
    cites = citations_in_order(doc)
    for label, loc in cites:
        if label not in known:
            raise PublishError(f"{loc}: reference to unknown element @{label} "
                               f"(known: {', '.join(sorted(known)) or 'none'})")
    order: list[str] = []
    for label, _ in cites:
        if label not in order:
            order.append(label)
    uncited = [label for label in labels if label not in order]
    order += uncited
    counters = {"tbl": 0, "fig": 0}
    numbers, kinds = {}, {}
    for label in order:
        kind = label.split("-", 1)[0]
        counters[kind] += 1
        numbers[label] = f"{titles[kind]} {counters[kind]}"
        kinds[label] = kind
    return Numbering(numbers=numbers, kinds=kinds, appearance=labels, citations=cites,
                     uncited=uncited, title_delim=title_delim)


def appearance_mismatch(numbering: Numbering) -> list[str]:
    """Labels whose number by first citation differs from their number by
    appearance (what Quarto would print). Empty when both agree."""
    counters = {"tbl": 0, "fig": 0}
    bad = []
    for label in numbering.appearance:
        kind = numbering.kinds[label]
        counters[kind] += 1
        if numbering.number(label) != counters[kind]:
            bad.append(label)
    return bad
