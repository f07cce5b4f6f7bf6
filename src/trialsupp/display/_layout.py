"""One table layout step shared by the HTML, Typst and RTF renderers.

Column widths come from the content, as the automatic table layout of CSS and
LaTeX's ``tabulary`` do: every column gets at least its *minimum* width (the
widest unbreakable piece: a whole number cell such as "65 (75.6%)" or
"−7.13 to −4.74", or the longest word of a text cell), and the space left over
goes to the columns that would otherwise wrap, in proportion to how much they
need (their *natural* width, text on one line, minus their minimum). A table
whose minimum widths do not fit is set in a smaller font (never below a readable
minimum), then landscape, then split into column groups that each repeat the stub
column (:func:`parts_layout`), as SAS ODS and r2rtf page wide tables.

Widths are measured with the font metrics of the output (``fontTools`` reads the
advance widths of the TrueType font; Liberation Sans is metric-compatible with
Arial, the PDF's table font; the RTF is set in Courier New, a monospace font).

Numeric cells are also decimal-aligned in the CSR layout: :func:`decimal_parts`
splits a cell at its first number's decimal point (or after the number when it
has none); renderers right-align the part before and left-align the rest in
boxes of the column's widest parts, so units line up down the column.
"""
from __future__ import annotations

import dataclasses
import functools
import glob
import re
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

from ._table_data import TableData

__all__ = ["is_numeric", "tokens", "protect", "decimal_parts", "Layout", "layout", "text_width",
           "mono_width", "NBSP", "Part", "parts_layout", "column_groups", "part_data", "row_blocks", "row_groups",
           "MAX_BLOCK"]

NBSP = "\u00a0"
# Words that may appear in a statistic cell without making it text.
_STAT_WORDS = {"to", "NE", "NA", "NC", "P", "n", "N", "x", "e", "vs", "mo", "wk", "y", "d"}
_NUM = re.compile(r"[−\-+<>≤≥]?(?:\d[\d,]*(?:\.\d+)?|\.\d+)")
_WORD = re.compile(r"[A-Za-z]+")


def is_numeric(text: str) -> bool:
    """True for a statistic cell line: digits, punctuation and a few stat words ("to", "NE")."""
    t = text.strip()
    if not t:
        return False
    if t in ("NE", "NA", "NC", "-", "—", "–"):
        return True
    if not re.search(r"\d", t):
        return False
    return all(w in _STAT_WORDS for w in _WORD.findall(t))


_EST_INTERVAL = re.compile(r"^(\S+) (\(.*(?:\d[-–]\d|\d[-–][−\-]|\sto\s|\d[,;]\s?[−\-]?\d).*\))$")


_N = r"[−\-+<>≤≥]?\d[\d,]*(?:\.\d+)?%?"
# statistics inside text that must stay on one line: "(95% CI 0.4 to 6.7)", "−3.2 to 5.5",
# "48.1 (12.6)", "P = .004", "60 (tofersen" is not one (a word follows the parenthesis)
_STAT_SPANS = re.compile(
    r"\((?:95|90|99)% CI,? [^()]*\)"                                   # (95% CI 0.4 to 6.7)
    rf"|{_N}\s+to\s+{_N}"                                            # −3.2 to 5.5
    rf"|{_N} \({_N}(?:[-–]{_N}|, {_N}| to {_N})?\)"                   # 48.1 (12.6), 3.5 (0.4-6.7)
    rf"|\bP [=<>] ?\.?\d+")                                          # P = .004


def protect(text: str) -> str:
    """Spaces inside statistics that appear in text become non-breaking spaces."""
    return _STAT_SPANS.sub(lambda m: m.group(0).replace(" ", NBSP), text)


def tokens(line: str) -> list[str]:
    """Unbreakable pieces of one cell line. A statistic is one piece ("65 (75.6%)", "49.0 (8.0)",
    "−7.13 to −4.74"), except that an estimate may go above its interval when the column is
    narrow: "12.1 (7.6-20.0)" -> "12.1", "(7.6-20.0)" (the interval itself never breaks).
    Text breaks at spaces."""
    t = line.strip()
    if is_numeric(t):
        m = _EST_INTERVAL.match(t)
        return [m.group(1), m.group(2)] if m else [t]
    return [w.replace(NBSP, " ") for w in protect(t).split(" ") if w.strip()]


def decimal_parts(text: str) -> Optional[tuple[str, str]]:
    """(lead, tail) of a numeric cell: split at the first number's decimal point, or after the
    number when it has none ("65 (75.6%)" -> ("65", " (75.6%)"); "−1.2 (0.3)" -> ("−1", ".2 (0.3)")).
    None for text cells and cells that do not start with a number."""
    if "\n" in text or not is_numeric(text):
        return None
    m = _NUM.match(text.strip())
    if not m:
        return None
    t = text.strip()
    num = m.group(0)
    dot = num.find(".")
    cut = dot if dot >= 0 else len(num)
    return t[:cut], t[cut:]


# ---- font metrics -------------------------------------------------------------------
_FONT_FILES = {
    (False,): ("LiberationSans-Regular.ttf", "Arial.ttf", "DejaVuSans.ttf"),
    (True,): ("LiberationSans-Bold.ttf", "Arial_Bold.ttf", "DejaVuSans-Bold.ttf"),
}
_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "/Library/Fonts",
              "C:/Windows/Fonts")


@functools.lru_cache(maxsize=4)
def _advances(bold: bool) -> tuple[dict[int, float], float]:
    """Advance widths (em) by code point of the sans table font; (table, default width)."""
    try:
        from fontTools.ttLib import TTFont
    except ImportError:         # pragma: no cover - fontTools comes with matplotlib
        return {}, 0.56
    for name in _FONT_FILES[(bold,)]:
        for d in _FONT_DIRS:
            hits = glob.glob(f"{d}/**/{name}", recursive=True)
            if hits:
                f = TTFont(sorted(hits)[0], lazy=True)
                upm = f["head"].unitsPerEm
                hmtx = f["hmtx"]
                table = {cp: hmtx[g][0] / upm for cp, g in f.getBestCmap().items()}
                return table, table.get(ord("0"), 0.56)
    return {}, 0.56             # no font found: average glyph of a sans font


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Width in points of ``text`` in the sans table font at ``size`` points."""
    table, default = _advances(bold)
    return sum(table.get(ord(c), default) for c in text) * size


def mono_width(text: str, size: float, bold: bool = False) -> float:
    """Width in points in a monospace font (Courier New: 0.6 em per character)."""
    return len(text) * 0.6 * size


Measure = Callable[[str, float, bool], float]


@dataclass(frozen=True)
class Layout:
    """Column widths in points (stub first), the font size, and whether to turn the page."""
    widths: tuple[float, ...]
    font_size: float
    landscape: bool
    numeric: tuple[bool, ...]           # data columns holding statistics (stub excluded)
    minimum: tuple[float, ...]
    overflow: bool = False              # even the minimum widths do not fit

    @property
    def total(self) -> float:
        return sum(self.widths)

    def fractions(self) -> tuple[float, ...]:
        t = self.total or 1.0
        return tuple(w / t for w in self.widths)


def spans_table(d: TableData, row) -> bool:
    """A group label, or a row heading with no cell text: set across the whole table."""
    return row.kind == "group" or (row.kind == "heading"
                                   and not any(row.cell(c.key).text for c in d.columns))


MAX_BLOCK = 6       # a labelled block of up to this many rows is never split across pages


def row_blocks(d: TableData, max_rows: int = MAX_BLOCK) -> dict[int, int]:
    """Labelled row blocks kept together on one page: {first row index: number of rows}.

    A block is a data row with a stub label followed by data rows of the same indent whose
    label is blank (continuations of it: e.g. an arm and its visits, "Xan. High" / Baseline,
    Week 24, End of Trt.). Blocks of 2 to ``max_rows`` rows; a longer one may break."""
    from ._table_data import resolve
    marked = {k[1] for k in resolve(d).marks if k[0] == "row"}
    out, rows, i = {}, d.rows, 0
    while i < len(rows):
        r = rows[i]
        n = 1
        if r.kind == "data" and r.label.strip() and not spans_table(d, r):
            while (i + n < len(rows) and rows[i + n].kind == "data" and not rows[i + n].label.strip()
                   and rows[i + n].indent == r.indent and i + n not in marked
                   and not spans_table(d, rows[i + n])):
                n += 1
        if 2 <= n <= max_rows:
            out[i] = n
        i += n
    return out


def parent_rows(d: TableData, max_rows: int = MAX_BLOCK) -> dict[int, int]:
    """Data rows that head deeper-indented data rows, with the size of their block: {row index: rows}.

    A parent is a data row with a stub label whose next rows are data rows indented deeper (its
    children: a visit's "Week 2: n" above its Normal / High shift rows in CDISC 14-6.04, a body
    system above its terms). A parent is never the last row of a page; a block of up to
    ``max_rows`` rows (the parent and its children) is kept whole where the format allows (RTF)."""
    out, rows = {}, d.rows
    for i, r in enumerate(rows):
        if r.kind != "data" or not r.label.strip() or spans_table(d, r):
            continue
        n = 1
        while (i + n < len(rows) and rows[i + n].kind == "data" and rows[i + n].indent > r.indent
               and not spans_table(d, rows[i + n])):
            n += 1
        if n > 1:
            out[i] = n if n <= max_rows else 2     # a longer block keeps its parent with the first child
    return out


MAX_GROUP = 15      # RTF: a group of up to this many rows fits a landscape CSR page with room to spare


def _level(d: TableData, row) -> Optional[int]:
    """Nesting level of a group label (0) or a spanning row heading (1 + indent); None otherwise."""
    if row.kind == "group":
        return 0
    return 1 + row.indent if spans_table(d, row) else None


def row_groups(d: TableData, max_rows: int = MAX_GROUP) -> dict[int, int]:
    """Short labelled groups kept together on one page: {label row index: number of rows}.

    A group is a group label or a spanning row heading and every row until the next label of
    the same or a higher level (or a data row indented no deeper than a heading). Groups of 2
    to ``max_rows`` rows; a longer one may break (its nested shorter groups still stay whole).
    RTF cannot repeat such labels on a continuation page, so keeping the group whole is what
    puts its label above its rows."""
    out, rows = {}, d.rows
    for i, r in enumerate(rows):
        lv = _level(d, r)
        if lv is None:
            continue
        n = 1
        while i + n < len(rows):
            nxt = rows[i + n]
            nlv = _level(d, nxt)
            if nlv is not None and nlv <= lv:
                break
            if nlv is None and r.kind != "group" and nxt.indent <= r.indent:
                break
            n += 1
        if 2 <= n <= max_rows:
            out[i] = n
    return out


def _column_texts(d: TableData) -> list[tuple[list[str], list[str]]]:
    """Per column (stub first): (header lines, body lines)."""
    stub_body = []
    for r in d.rows:
        if spans_table(d, r):
            continue            # group labels and row headings span the whole table
        stub_body += [("  " * r.indent) + x for x in r.label.split("\n")]
    out = [(d.stub_header.split("\n"), stub_body)]
    for c in d.columns:
        head = c.header.text.split("\n")
        body = [x for r in d.rows if r.kind != "group" for x in r.cell(c.key).text.split("\n")]
        out.append((head, body))
    return out


def _numeric_column(body: Sequence[str]) -> bool:
    lines = [b for b in body if b.strip()]
    return bool(lines) and sum(is_numeric(b) for b in lines) >= 0.8 * len(lines)


def _marked_columns(d: TableData) -> set[int]:
    """Columns (stub = 0) with a footnote mark in a cell or heading."""
    from ._table_data import resolve
    keys = list(d.column_keys())
    out = set()
    for key in resolve(d).marks:
        if key[0] in ("row", "stub"):
            out.add(0)
        elif key[0] == "column":
            out.add(keys.index(key[1]) + 1)
        elif key[0] == "cell":
            out.add(keys.index(key[2]) + 1)
    return out


def text_mass(d: TableData, size: float, measure: Measure) -> list[float]:
    """Total width of the body text per column (stub first): how much each column has to say."""
    return [sum(measure(line, size, False) for line in body) for _, body in _column_texts(d)]


def measure_columns(d: TableData, size: float, measure: Measure, pad: float, decimal: bool = False
                    ) -> tuple[list[float], list[float], list[bool]]:
    """(minimum, natural) width per column (stub first), including ``pad`` on each side.
    ``decimal``: statistic columns are decimal-aligned (their parts sit in boxes as wide as the
    widest part before and after the decimal point)."""
    mins, nats, numeric = [], [], []
    marked = _marked_columns(d)
    for j, (head, body) in enumerate(_column_texts(d)):
        mn = nat = 0.0
        for line in head:
            nat = max(nat, measure(line, size, True))
            for w in line.split():
                mn = max(mn, measure(w, size, True))
        for line in body:
            nat = max(nat, measure(line, size, False))
            for tok in tokens(line):
                mn = max(mn, measure(tok, size, False))
        is_num = j > 0 and _numeric_column(body)
        if decimal and is_num:
            parts = [p for p in (decimal_parts(b) for b in body) if p]
            if parts:
                whole = (max(measure(a, size, False) for a, _ in parts)
                         + max(measure(b, size, False) for _, b in parts))
                mn, nat = max(mn, whole), max(nat, whole)
        mark = 0.45 * size if j in marked else 0.0      # a superscript letter after the text
        mins.append(mn + 2 * pad + mark)
        nats.append(max(nat, mn) + 2 * pad + mark)
        numeric.append(is_num)
    return mins, nats, numeric


def _distribute(mins: list[float], nats: list[float], avail: float, fixed: dict[int, float],
                mass: Optional[list[float]] = None) -> list[float]:
    widths = [fixed.get(j, m) for j, m in enumerate(mins)]
    free = [j for j in range(len(mins)) if j not in fixed]
    rest = avail - sum(widths)
    if rest <= 0:
        return widths
    need = {j: max(nats[j] - widths[j], 0.0) for j in free}
    total_need = sum(need.values())
    if total_need >= rest:
        # some columns wrap: widths in proportion to how much text each has (as LaTeX's
        # tabulary does), so that rows are about equally tall in every wrapping column;
        # a column never gets less than its minimum or more than its natural width
        wrap = [j for j in free if need[j] > 0]
        weight = {j: (mass[j] if mass else need[j]) or 1e-9 for j in wrap}
        open_ = list(wrap)
        while open_:
            room = avail - sum(w for j, w in enumerate(widths) if j not in open_)
            total = sum(weight[j] for j in open_)
            target = {j: room * weight[j] / total for j in open_}
            over = [j for j in open_ if target[j] >= nats[j]]       # fits on one line: natural
            under = [j for j in open_ if target[j] <= mins[j]]      # keeps its minimum
            if not over and not under:
                for j in open_:
                    widths[j] = target[j]
                break
            for j in over:
                widths[j] = nats[j]
            open_ = [j for j in open_ if j not in over and j not in under]
        return widths
    for j in free:                                  # everything fits on one line
        widths[j] += need[j]
    rest -= total_need
    data = [j for j in free if j > 0] or free       # spread the rest over the data columns
    for j in data:
        widths[j] += rest / len(data)
    return widths


def layout(d: TableData, *, avail: float, avail_landscape: Optional[float] = None,
           size: float, min_size: Optional[float] = None, measure: Measure = text_width,
           pad: float = 4.0, stub_share: Optional[float] = None) -> Layout:
    """Choose column widths (points) for ``d`` in ``avail`` points of text width.

    A table whose minimum widths exceed ``avail`` is set in smaller type (down to
    ``min_size``), then, when ``avail_landscape`` is given, on a landscape page.
    ``stub_share`` (e.g. 0.35) or ``d.stub_width`` ("24%") fixes the stub's share.
    """
    min_size = min_size if min_size is not None else max(size - 1.5, 6.0)
    sizes = [size]
    s = size
    while s - 0.5 >= min_size - 1e-9:
        s = round(s - 0.5, 2)
        sizes.append(s)
    tries = [(a, False) for a in [avail]] + ([(avail_landscape, True)] if avail_landscape else [])
    share = (float(d.stub_width.rstrip("%")) / 100 if d.stub_width else stub_share)
    decimal = d.rules.pvalue_style == "csr"
    for width, land in tries:
        for s in sizes:
            mins, nats, numeric = measure_columns(d, s, measure, pad, decimal)
            if sum(mins) > width + 1e-6:
                continue
            # the stub's share is a preference: it gives way to the minimum widths
            fixed = {0: min(max(mins[0], share * width), width - sum(mins[1:]))} if share else {}
            w = _distribute(mins, nats, width, fixed, text_mass(d, s, measure))
            return Layout(tuple(w), s, land, tuple(numeric[1:]), tuple(mins))
    # does not fit even in the smallest type: the minimum widths scaled to the page
    # (statistics may wrap, and the layout check of the test suite fails)
    width, land = tries[-1]
    mins, _, numeric = measure_columns(d, sizes[-1], measure, pad, decimal)
    k = width / sum(mins)
    return Layout(tuple(m * k for m in mins), sizes[-1], land, tuple(numeric[1:]), tuple(mins),
                  overflow=True)


# ---- tables wider than the page: column groups ---------------------------------------
def _units(d: TableData) -> list[list[int]]:
    """Data column indices (0-based) that stay together in a column group: a spanner's columns."""
    keys = list(d.column_keys())
    units, j = [], 0
    spans = {min(keys.index(k) for k in s.columns): len(s.columns) for s in d.spanners}
    while j < len(keys):
        n = spans.get(j, 1)
        units.append(list(range(j, j + n)))
        j += n
    return units


def column_groups(d: TableData, *, avail: float, size: float, measure: Measure = text_width,
                  pad: float = 4.0) -> list[tuple[int, ...]]:
    """Data columns of each part of a table too wide for ``avail`` points at ``size``: as few
    parts as fit (each repeats the stub column), consecutive columns, a spanner's columns
    together unless they alone are too wide, the parts as even in width as possible."""
    mins, _, _ = measure_columns(d, size, measure, pad, d.rules.pvalue_style == "csr")
    stub, cols = mins[0], mins[1:]
    room = avail - stub
    units = []
    for u in _units(d):
        units += [[j] for j in u] if sum(cols[j] for j in u) > room else [u]
    width = [sum(cols[j] for j in u) for u in units]
    if any(w > room + 1e-6 for w in width):
        raise ValueError("a single column is wider than the page")
    # fewest parts (greedy), then the most even split into that many consecutive parts
    parts, used = 1, 0.0
    for w in width:
        if used + w > room + 1e-6:
            parts, used = parts + 1, 0.0
        used += w
    n = len(units)
    pre = [0.0]
    for w in width:
        pre.append(pre[-1] + w)

    @functools.lru_cache(maxsize=None)
    def best(i: int, k: int) -> tuple[float, tuple[int, ...]]:
        """(widest part, cut points) splitting units[i:] into k parts."""
        if k == 1:
            return (pre[n] - pre[i], ()) if pre[n] - pre[i] <= room + 1e-6 else (float("inf"), ())
        out = (float("inf"), ())
        for cut in range(i + 1, n - k + 2):
            head = pre[cut] - pre[i]
            if head > room + 1e-6:
                break
            rest, cuts = best(cut, k - 1)
            cand = (max(head, rest), (cut,) + cuts)
            out = min(out, cand)
        return out

    _, cuts = best(0, parts)
    bounds = (0,) + cuts + (n,)
    return [tuple(j for u in units[a:b] for j in u) for a, b in zip(bounds, bounds[1:])]


def part_data(d: TableData, columns: Sequence[int]) -> TableData:
    """The table with only these data columns (the stub and every row kept); spanners over
    them, clipped to them."""
    from ._table_data import Spanner
    keep = [d.columns[j] for j in columns]
    keys = {c.key for c in keep}
    spanners = tuple(s if set(s.columns) <= keys else Spanner(s.label, tuple(k for k in s.columns if k in keys))
                     for s in d.spanners if keys & set(s.columns))
    return dataclasses.replace(d, columns=tuple(keep), spanners=spanners)


@dataclass(frozen=True)
class Part:
    """One column group of a table: its data, layout, and its data columns (1-based, of all)."""
    data: TableData
    layout: Layout
    columns: tuple[int, ...]
    of: int                     # data columns of the whole table

    def label(self, k: int, n: int) -> str:
        """"Part 1 of 2: columns 1-6 of 12"; empty for a table set whole."""
        if n <= 1 or not self.columns:
            return ""
        return f"Part {k} of {n}: columns {self.columns[0]}-{self.columns[-1]} of {self.of}"


def parts_layout(d: TableData, *, avail: float, avail_landscape: Optional[float] = None,
                 size: float, min_size: Optional[float] = None, measure: Measure = text_width,
                 pad: float = 4.0, stub_share: Optional[float] = None) -> list[Part]:
    """The layout step for a page: the whole table (:func:`layout`), or, when it does not fit
    even in ``min_size`` type (and on a landscape page, when ``avail_landscape`` is given),
    column groups that each repeat the stub (:func:`column_groups`), all set in the largest
    type in which every group fits. Type never goes below ``min_size``."""
    kw = dict(measure=measure, pad=pad, stub_share=stub_share)
    lay = layout(d, avail=avail, avail_landscape=avail_landscape, size=size, min_size=min_size, **kw)
    n = len(d.columns)
    if not lay.overflow or n < 2:
        return [Part(d, lay, tuple(range(1, n + 1)), n)]
    width = avail_landscape if lay.landscape and avail_landscape else avail
    small = lay.font_size
    try:
        groups = column_groups(d, avail=width, size=small, measure=measure, pad=pad)
    except ValueError:          # one column alone is too wide: nothing to split (the layout check fails)
        return [Part(d, lay, tuple(range(1, n + 1)), n)]
    parts = [part_data(d, g) for g in groups]
    s = size
    while s > small:            # the largest type in which every part fits
        if all(sum(measure_columns(p, s, measure, pad, d.rules.pvalue_style == "csr")[0]) <= width + 1e-6
               for p in parts):
            break
        s = round(s - 0.5, 2)
    s = max(s, small)
    out = []
    for g, p in zip(groups, parts):
        pl = layout(p, avail=width, size=s, min_size=s, **kw)
        out.append(Part(p, dataclasses.replace(pl, landscape=lay.landscape), tuple(j + 1 for j in g), n))
    return out
