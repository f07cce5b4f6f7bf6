"""The data model of a table: frozen dataclasses, no rendering, no statistics.

A :class:`TableData` is what every renderer (HTML, Typst, RTF) reads. The public
builder (:class:`trialsupp.display.table.Table`) creates new ``TableData`` objects
with :func:`dataclasses.replace`; nothing here is ever mutated.

Text model
    A header or body cell is a :class:`Cell`, a sequence of *parts*: plain text
    (``str``) or a :class:`Stat` (displayed text + the ARD ids it shows + the
    reasons for any "NE" in it). Renderers wrap every ``Stat`` (HTML: a
    ``<span class="ts-stat" data-ard="...">``); plain text is only escaped.
    A ``"\\n"`` in plain text is an intended line break.

Footnotes
    Letters a, b, c ... are assigned at render time by :func:`resolve`, in reading
    order: title, spanners, stub heading, column headings (left to right), then
    each row's label and cells (left to right, top to bottom). Cells showing "NE"
    get an automatic note giving the reason (one letter per distinct reason).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Union

import pandas as pd

from trialsupp.ard.fmt import JAMA, FormatRules

__all__ = ["Stat", "Cell", "Column", "Spanner", "Row", "Location", "Footnote",
           "TableData", "Resolved", "resolve", "letter"]


@dataclass(frozen=True)
class Stat:
    """Displayed statistic text with the ids of the ARD rows it shows."""
    text: str
    ids: tuple[str, ...] = ()
    ne_reasons: tuple[str, ...] = ()


Part = Union[str, Stat]


@dataclass(frozen=True)
class Cell:
    parts: tuple[Part, ...] = ()

    @classmethod
    def plain(cls, text: str) -> "Cell":
        return cls((text,)) if text else cls(())

    @property
    def text(self) -> str:
        return "".join(p if isinstance(p, str) else p.text for p in self.parts)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(i for p in self.parts if isinstance(p, Stat) for i in p.ids)

    @property
    def ne_reasons(self) -> tuple[str, ...]:
        out: list[str] = []
        for p in self.parts:
            if isinstance(p, Stat):
                out += [r for r in p.ne_reasons if r not in out]
        return tuple(out)

    def __str__(self) -> str:
        return self.text


EMPTY = Cell(())


@dataclass(frozen=True)
class Column:
    key: str
    header: Cell
    by: Optional[str] = None          # grouping variable whose level this column shows
    level: Any = None
    where: tuple[tuple[str, Any], ...] = ()   # extra ARD filters for cells of this column
    align: str = "center"


@dataclass(frozen=True)
class Spanner:
    label: Any                        # str, or a Cell (a bound header such as "Placebo (N=86)")
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Row:
    label: str
    cells: tuple[tuple[str, Cell], ...] = ()   # (column key, cell)
    indent: int = 0
    kind: str = "data"      # "data" | "heading" (stub text, empty cells) | "group" (full-width)
    group: Optional[str] = None

    def cell(self, key: str) -> Cell:
        for k, c in self.cells:
            if k == key:
                return c
        return EMPTY


@dataclass(frozen=True)
class Location:
    """Where a footnote mark goes. Build with the ``at_*`` helpers of ``table.py``."""
    kind: str                         # title | stub | spanner | column | row | cell
    row: Optional[str] = None         # row label
    group: Optional[str] = None       # row group (to disambiguate a label)
    column: Optional[str] = None      # column key
    spanner: Optional[str] = None     # spanner label


@dataclass(frozen=True)
class Footnote:
    text: "str | Cell"                        # a Cell when filled from ARD rows (bound numbers)
    locations: tuple[Location, ...] = ()     # empty: a general (unlettered) note


@dataclass(frozen=True)
class TableData:
    title: str = ""
    label: Optional[str] = None
    stub_header: str = ""
    columns: tuple[Column, ...] = ()
    spanners: tuple[Spanner, ...] = ()
    rows: tuple[Row, ...] = ()
    footnotes: tuple[Footnote, ...] = ()
    abbreviations: tuple[tuple[str, str], ...] = ()
    source: Optional[str] = None
    landscape: bool = False
    font_size: Optional[float] = None          # points; None: renderer default
    stub_width: Optional[str] = None            # e.g. "35%"; None: automatic
    rules: FormatRules = JAMA
    by: Optional[str] = None
    ard_frames: tuple[pd.DataFrame, ...] = field(default=(), compare=False, repr=False)

    def column_keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.columns)

    def row_indices(self, loc: Location) -> list[int]:
        return [i for i, r in enumerate(self.rows)
                if r.label == loc.row and (loc.group is None or r.group == loc.group)]


def letter(i: int) -> str:
    """0 -> a, 25 -> z, 26 -> aa ..."""
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(97 + r) + s
    return s


@dataclass(frozen=True)
class Resolved:
    """A table with footnote letters assigned; what the renderers read."""
    data: TableData
    marks: dict          # location key -> tuple of letters
    notes: tuple[tuple[str, str], ...]      # (letter, text) in letter order
    general: tuple[str, ...]
    abbreviations: tuple[tuple[str, str], ...]

    def mark(self, *key) -> tuple[str, ...]:
        return self.marks.get(tuple(key), ())


def _keys_for(data: TableData, loc: Location) -> list[tuple]:
    if loc.kind == "title":
        return [("title",)]
    if loc.kind == "stub":
        return [("stub",)]
    if loc.kind == "spanner":
        return [("spanner", i) for i, s in enumerate(data.spanners) if s.label == loc.spanner]
    if loc.kind == "column":
        return [("column", loc.column)] if loc.column in data.column_keys() else []
    if loc.kind == "row":
        return [("row", i) for i in data.row_indices(loc)]
    if loc.kind == "cell":
        return [("cell", i, loc.column) for i in data.row_indices(loc)
                if loc.column in data.column_keys()]
    raise ValueError(f"unknown footnote location kind {loc.kind!r}")


def _reading_order(data: TableData) -> list[tuple]:
    order: list[tuple] = [("title",)]
    order += [("spanner", i) for i in range(len(data.spanners))]
    order.append(("stub",))
    order += [("column", c.key) for c in data.columns]
    for i, r in enumerate(data.rows):
        order.append(("row", i))
        order += [("cell", i, c.key) for c in data.columns]
    return order


def _ne_note(reason: str) -> str:
    reason = reason.strip().rstrip(".")
    return f"Not estimable (NE): {reason}."


def resolve(data: TableData) -> Resolved:
    """Assign footnote letters in reading order (plus automatic NE notes)."""
    targets: dict[tuple, list[int]] = {}     # location key -> note indices
    texts: list[str] = []
    general: list[str] = []
    for fn in data.footnotes:
        if not fn.locations:
            general.append(fn.text)
            continue
        idx = texts.index(fn.text) if fn.text in texts else len(texts)
        if idx == len(texts):
            texts.append(fn.text)
        for loc in fn.locations:
            for key in _keys_for(data, loc):
                targets.setdefault(key, [])
                if idx not in targets[key]:
                    targets[key].append(idx)
    # automatic notes for NE cells and headers
    any_ne = False
    for key in _reading_order(data):
        cell = None
        if key[0] == "cell":
            cell = data.rows[key[1]].cell(key[2])
        elif key[0] == "column":
            cell = next(c.header for c in data.columns if c.key == key[1])
        if cell is None:
            continue
        for reason in cell.ne_reasons:
            any_ne = True
            t = _ne_note(reason)
            idx = texts.index(t) if t in texts else len(texts)
            if idx == len(texts):
                texts.append(t)
            targets.setdefault(key, [])
            if idx not in targets[key]:
                targets[key].append(idx)
    letters: dict[int, str] = {}
    marks: dict[tuple, tuple[str, ...]] = {}
    for key in _reading_order(data):
        for idx in targets.get(key, []):
            if idx not in letters:
                letters[idx] = letter(len(letters))
        if key in targets:
            marks[key] = tuple(sorted((letters[i] for i in targets[key]), key=lambda s: (len(s), s)))
    notes = tuple(sorted(((l, texts[i]) for i, l in letters.items()), key=lambda x: (len(x[0]), x[0])))
    abbr = list(data.abbreviations)
    if any_ne and not any(a == "NE" for a, _ in abbr):
        abbr.append(("NE", "not estimable"))
    abbr.sort(key=lambda a: a[0].casefold())          # JAMA lists abbreviations alphabetically
    return Resolved(data=data, marks=marks, notes=notes, general=tuple(general),
                    abbreviations=tuple(abbr))
