"""``trialsupp audit``: list every number in the rendered output that no ARD row accounts for.

HTML: a number is bound when it sits inside ``<span class="ts-stat" data-ard="...">``
whose ids exist in the store and whose text equals their formatted values.
PDF: the text of each page is tokenised; a number is bound when it equals the
``stat_fmt`` of some ARD row (or a token of one, e.g. a CI limit).
Exempt everywhere: element numbers ("eTable 3", "Table 14-3.01"), page numbers,
dates and times, visit names ("Week 52"), digits inside words (e.g. a gene name, "ALSAQ-40"),
and the study's own ``audit.exempt`` patterns.
"""
from __future__ import annotations

import json
import bisect
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd

# no match starting inside a number: after "-" (range "0.51-0.80") or "," (the "400.0" of "1,550.0-4,400.0")
# a number, including JAMA's P values without a leading zero (".33", "<.001")
_DIGIT = re.compile(r"\d")
NUMBER = re.compile(r"(?<![\w.,\-\u2212/])[\u2212-]?(?:\d+(?:[.,]\d+)*|\.\d+)%?(?![\w])")
EXEMPT = [
    r"\be(?:Table|Figure|Methods|Results|References)\s*\d+",
    r"\b(?:Table|Figure|Listing)\s+\d+(?:-\d+(?:\.\d+)*)?",
    r"\bPage\s+\d+\s+of\s+\d+", r"\(document page \d+ of \d+\)", r"\bpage\s+\d+",
    r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2}| UTC)?)?",
    r"\b\d{1,2}:\d{2}(?::\d{2})?\b",
    r"\b(?:January|February|March|April|May|June|July|August|September|October|November|December)\s+(?:\d{1,2},\s+)?\d{4}\b",
    r"\b\d{1,2}\s+(?:January|February|March|April|May|June|July|August|September|October|November|December)\s+\d{4}\b",
    r"(?i)\b(?:week|day|month|year|visit|cycle)s?\s+\d+(?:\s*(?:and|to|-)\s*\d+)?",
    r"\b95%\s*CIs?\b", r"\b(?:Python|Pandoc|Typst|Quarto)\s+\d+(?:\.\d+)*",
    r"\bsha256:[0-9a-f]+", r"\b[0-9a-f]{12,64}\b",
]


@dataclass
class Unbound:
    where: str
    number: str
    context: str

    def line(self) -> str:
        return f"{self.where}: {self.number!r} in \u201c{self.context}\u201d"


def _blank(m: "re.Match[str]") -> str:
    return " " * len(m.group(0))          # same length: positions in the text stay valid


def _strip_exempt(text: str, extra: list[str]) -> str:
    for pattern in EXEMPT + extra:
        text = re.sub(pattern, _blank, text)
    return text


def numbers_at(text: str, extra: list[str] = ()) -> list[tuple[int, str, str]]:
    """(position, number, context) of each number that no exemption covers."""
    if not _DIGIT.search(text):        # every NUMBER holds a digit (most stat spans: nothing left)
        return []
    clean = _strip_exempt(text, list(extra))
    return [(m.start(), m.group(0), " ".join(clean[max(0, m.start() - 30):m.end() + 30].split()))
            for m in NUMBER.finditer(clean)]


def numbers_in(text: str, extra: list[str] = ()) -> list[tuple[str, str]]:
    return [(number, context) for _pos, number, context in numbers_at(text, extra)]


class _Walker(HTMLParser):
    SKIP = {"script", "style", "svg", "code", "pre", "title", "head"}
    # citation and footer are config text; references are bibliographic data
    EXEMPT_CLASSES = {"ts-exempt", "ts-citation", "ts-footer"}
    EXEMPT_IDS = {"ereferences", "provenance"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple] = []                    # (tag, is_stat, is_skip, ids)
        self.free: list[str] = []
        self.stats: list[tuple[str, str]] = []          # (ids, text)
        self._stat_text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("br", "img", "meta", "link", "input", "hr", "col", "source", "wbr"):
            return
        a = dict(attrs)
        classes = set((a.get("class") or "").split())
        is_stat = "ts-stat" in classes and "data-ard" in a
        skip = (tag in self.SKIP or classes & self.EXEMPT_CLASSES or a.get("id") in self.EXEMPT_IDS
                or a.get("aria-hidden") == "true"
                or (tag == "sup" and "ts-stat" not in classes))   # reference and footnote marks
        self.stack.append((tag, is_stat, skip, a.get("data-ard")))
        if is_stat:
            self._stat_text = []

    def handle_endtag(self, tag):
        while self.stack:
            t, is_stat, _skip, ids = self.stack.pop()
            if is_stat:
                self.stats.append((ids, "".join(self._stat_text).strip()))
            if t == tag:
                break

    def handle_data(self, data):
        if any(s for _t, _st, s, _i in self.stack):
            return
        if any(st for _t, st, _s, _i in self.stack):
            self._stat_text.append(data)
        else:
            self.free.append(data)


def audit_html(html: str, ard: pd.DataFrame, extra: list[str] = ()) -> list[Unbound]:
    walker = _Walker()
    walker.feed(html)
    fmt_by_id = dict(zip(ard["id"], ard["stat_fmt"].astype(str)))
    problems = []
    for ids, text in walker.stats:
        missing = [i for i in ids.split() if i not in fmt_by_id]
        if missing:
            problems.append(Unbound("HTML", text, f"bound to unknown ARD id(s) {', '.join(missing)}"))
            continue
        shown = [fmt_by_id[i] for i in ids.split()]
        if not all(s in text for s in shown):
            problems.append(Unbound("HTML", text, f"differs from the ARD value(s) {shown} of {ids}"))
            continue
        rest = text                  # a span holds its values and nothing else that is a number
        for s in sorted(shown, key=len, reverse=True):
            rest = rest.replace(s, " ", 1)
        for number, _context in numbers_in(rest, extra):
            problems.append(Unbound("HTML", number, f"inside the span of {ids} ({text!r}) but not one of "
                                                    f"its ARD values {shown}"))
    problems += audit_figures(html, set(fmt_by_id))
    reasons = _error_texts(ard)
    for chunk in " ".join(walker.free).split("\n"):
        for reason in reasons:           # "Not estimable (NE): SD needs at least 2 values."
            chunk = chunk.replace(reason, " ")
        for number, context in numbers_in(chunk, extra):
            problems.append(Unbound("HTML", number, context))
    return problems


_SVG_IMG = re.compile(r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"')
_BOUND_GROUP = re.compile(r'<g id="ard:([^"]+)"')


def figure_bindings(html: str) -> list[list[str]]:
    """ARD ids of each number drawn in the figures of the HTML (inline or embedded SVG)."""
    import base64
    svgs = [html] + [base64.b64decode(m.group(1)).decode("utf-8", "replace") for m in _SVG_IMG.finditer(html)]
    return [ids.split("+") for svg in svgs for ids in _BOUND_GROUP.findall(svg)]


def audit_figures(html: str, known: set[str]) -> list[Unbound]:
    """Every number drawn in a figure is bound to ARD ids that exist in the store."""
    return [Unbound("HTML figure", "+".join(ids), f"drawn number bound to unknown ARD id(s) "
                                                 f"{', '.join(i for i in ids if i not in known)}")
            for ids in figure_bindings(html) if any(i not in known for i in ids)]


LABEL_COLUMNS = ("group1_level", "group2_level", "variable_level")


def _error_texts(ard: pd.DataFrame) -> list[str]:
    """Texts of the ARD that tables print and that may hold digits (``_row_texts``), longest
    first. Numbers inside them are accounted for by those rows."""
    return sorted({t for row in _row_texts(ard) for t in row}, key=len, reverse=True)


def _stat_tokens(ard: pd.DataFrame) -> set[str]:
    return set().union(*_row_tokens(ard))


def _row_tokens(ard: pd.DataFrame) -> list[frozenset[str]]:
    """Per row: the tokens a document may print for it (its formatted value, the numbers in
    it and its blank-separated parts) and the numbers inside its ``_error_texts``; minus
    signs as hyphens. Rows repeat values: each distinct text is tokenised once."""
    seen: dict[str, frozenset[str]] = {}

    def of_value(text: str) -> frozenset[str]:
        if text not in seen:
            found = {text, *(m.group(0) for m in NUMBER.finditer(text)), *(t.strip("()%,") for t in text.split())}
            seen[text] = frozenset(t.replace("\u2212", "-") for t in found)
        return seen[text]

    def of_texts(texts: tuple[str, ...]) -> frozenset[str]:
        key = "\x00texts\x00" + "\x00".join(texts)
        if key not in seen:
            seen[key] = frozenset(m.group(0).replace("\u2212", "-") for t in texts for m in NUMBER.finditer(t))
        return seen[key]

    texts = _row_texts(ard)
    return [of_value(fmt) | of_texts(extra) if extra else of_value(fmt)
            for fmt, extra in zip(ard["stat_fmt"].astype(str), texts)]


def _row_texts(ard: pd.DataFrame) -> list[tuple[str, ...]]:
    """Per row, the texts it contributes that tables print and that may hold digits: its NE
    reason (``error``, printed in footnotes: "SD needs at least 2 values") and its category
    labels from the data (levels such as "Grade 3", an AE term "COVID 19"; purely numeric
    levels are left out, so a bare number is never exempted)."""
    per_row: list[list[str]] = [[] for _ in range(len(ard))]
    if "error" in ard.columns:
        for row, e in zip(per_row, ard["error"]):
            if isinstance(e, str) and e.strip():
                row.append(str(e).strip().rstrip("."))
    for col in LABEL_COLUMNS:
        if col in ard.columns:
            for row, v in zip(per_row, ard[col]):
                if isinstance(v, str) and re.search(r"\d", v) and not NUMBER.fullmatch(v.strip()):
                    row.append(v.strip())
    return [tuple(r) for r in per_row]


def pdf_pages_text(pdf: Path) -> list[str]:
    """Text of each page: poppler's pdftotext when installed (fast), else pypdf."""
    import shutil
    import subprocess
    exe = shutil.which("pdftotext")
    if exe:
        proc = subprocess.run([exe, "-enc", "UTF-8", str(pdf), "-"], capture_output=True, timeout=120)
        if proc.returncode == 0:
            pages = proc.stdout.decode("utf-8", "replace").split("\f")
            return pages[:-1] if pages and not pages[-1].strip() else pages
    from pypdf import PdfReader
    return [page.extract_text() or "" for page in PdfReader(str(pdf)).pages]


def _references_start(pages: list[str]) -> tuple[int, int] | None:
    """(page index, char offset) where the trailing eReferences / Provenance sections start:
    the earliest of the last line reading each heading (the first is the contents entry)."""
    last = {}
    for i, text in enumerate(pages):
        for m in re.finditer(r"(?m)^(eReferences|Provenance)\s*$", text):
            last[m.group(1)] = (i, m.start())
    return min(last.values()) if last else None


def _element_tokens(ard: pd.DataFrame, rows: list[frozenset[str]] | None = None) -> dict[str, set[str]]:
    """Formatted values per element (``output_id``), as ``_stat_tokens`` gives them
    (``rows``: ``_row_tokens(ard)``, when at hand)."""
    rows = _row_tokens(ard) if rows is None else rows
    by_element: dict[str, set[str]] = {}
    for oid, tokens in zip(ard["output_id"], rows):
        if isinstance(oid, str) and oid.strip():
            by_element.setdefault(oid, set()).update(tokens)
    return by_element


def _element_at(line: str, starts: "re.Pattern[str] | None") -> str | None:
    m = starts.match(line) if starts else None
    return m.group(1) if m else None


SECTION = re.compile(r"^(?:e(?:Methods|Results|Tables|Figures|References|Appendix)|Provenance|Contents)\s*$")


@dataclass
class PdfContext:
    """What the PDF audit needs of the ARD alone: every token, the tokens of each element and the
    pattern of a caption line (made before the PDF exists: the render makes it while Typst runs)."""
    tokens: set
    by_element: dict
    starts: "re.Pattern[str] | None"


def pdf_context(ard: pd.DataFrame) -> PdfContext:
    rows = _row_tokens(ard)
    by_element = _element_tokens(ard, rows)
    names = sorted((e for e in by_element if re.search(r"\d", e)), key=len, reverse=True)
    # a caption line: "eTable 3. Title", "Table 14-3.01 Title", or a page header holding the id alone
    starts = re.compile(r"^(?:(?:e?Table|e?Figure|Listing)\s+)?(" + "|".join(re.escape(n) for n in names)
                        + r")(?:$|(?![\d.\-]*\d)[.:]?\s+[A-Z(])") if names else None   # alone, or its title
    return PdfContext(set().union(*rows), by_element, starts)


def audit_pdf(pdf: Path, ard: pd.DataFrame, extra: list[str] = (), exempt_texts: list[str] = (),
              context: PdfContext | None = None) -> list[Unbound]:
    """Each number of the PDF must be a formatted ARD value; inside an element (from its
    caption, e.g. "eTable 3." or "Table 14-3.01", to the next caption or section heading,
    after the contents page) it must be a value of THAT element's rows. ``context``:
    ``pdf_context(ard)``, if made already."""
    ctx = context or pdf_context(ard)
    tokens, by_element, starts = ctx.tokens, ctx.by_element, ctx.starts
    pages = pdf_pages_text(pdf)
    refs = _references_start(pages)
    if refs:
        pages = [t if i < refs[0] else (t[:refs[1]] if i == refs[0] else "") for i, t in enumerate(pages)]
    contents = next((i for i, t in enumerate(pages) if re.search(r"(?m)^Contents\s*$", t)), None)
    problems = []
    element = None
    for page_no, page in enumerate(pages, start=1):
        # the page as one line (exemptions may span line breaks), with the element each
        # line belongs to; the contents page lists captions without being the elements
        parts, owners = [], []
        element = None            # each page names its element (caption or page header), else prose rules
        for raw in page.splitlines():
            line = " ".join(raw.split())
            if not line:
                continue
            if contents is not None and page_no - 1 > contents:
                found = _element_at(line, starts)
                if found:
                    element = found
                elif SECTION.match(line):
                    element = None
            parts.append(line)
            owners.append(element if contents is not None and page_no - 1 > contents else None)
        text = " ".join(parts)
        for exempt in exempt_texts:
            if exempt:
                text = text.replace(" ".join(exempt.split()), " " * len(" ".join(exempt.split())))
        bounds, pos = [], 0
        for line in parts:
            bounds.append(pos)
            pos += len(line) + 1
        for at, number, context in numbers_at(text, extra):
            plain = number.replace("\u2212", "-")
            if plain not in tokens and plain.rstrip("%") not in tokens:
                problems.append(Unbound(f"PDF page {page_no}", number, context))
                continue
            owner = owners[max(0, bisect.bisect_right(bounds, at) - 1)] if owners else None
            own = by_element.get(owner) if owner else None
            if own is not None and plain not in own and plain.rstrip("%") not in own:
                problems.append(Unbound(f"PDF page {page_no}, {owner}", number,
                                        f"{context} (a value of another element, not of {owner})"))
    return problems


def audit_output(out_dir: Path, extra: list[str] | None = None,
                 exempt_texts: list[str] | None = None) -> list[Unbound]:
    """Audit ``supplement.html`` and ``supplement.pdf`` of a render against its ``ard.json``.
    ``extra`` (default: the study's ``audit_exempt`` patterns) and ``exempt_texts`` (default:
    the study's citation and footer) are config text, not statistics."""
    ard, extra, exempt_texts = audit_context(out_dir, extra, exempt_texts)
    out_dir = Path(out_dir)
    problems = []
    html = out_dir / "supplement.html"
    if html.exists():
        problems += audit_html(html.read_text(encoding="utf-8"), ard, extra)
    pdf = out_dir / "supplement.pdf"
    if pdf.exists():
        problems += audit_pdf(pdf, ard, extra, exempt_texts)
    return problems


def audit_context(out_dir: Path, extra: list[str] | None = None, exempt_texts: list[str] | None = None):
    """(ARD frame, exempt patterns, exempt texts) for auditing the documents of ``out_dir``."""
    from trialsupp.ard.store import read_store
    out_dir = Path(out_dir)
    ard = read_store(out_dir)
    if extra is None or exempt_texts is None:
        run = ard.attrs.get("run", {})
        run_json = out_dir / "run.json"     # the resolved study config and project: works from any folder
        if run_json.is_file():
            run = {**run, **json.loads(run_json.read_text(encoding="utf-8"))}
        study_texts, study_patterns = _study_exemptions(run.get("study_config") or run.get("study"),
                                                        run.get("project"))
        extra = study_patterns if extra is None else extra
        exempt_texts = study_texts if exempt_texts is None else exempt_texts
    return ard, extra, exempt_texts


def study_exemptions(st) -> tuple[list[str], list[str]]:
    """(config texts, regex patterns) the study ``st`` (a loaded ``Study``) exempts from the audit."""
    from trialsupp.pipeline.stage import study_metadata
    meta = study_metadata(st)
    return [meta.get("citation", ""), meta.get("footer", "")], list(st.raw.get("audit_exempt") or [])


def _study_exemptions(study: str | None, project: str | None = None) -> tuple[list[str], list[str]]:
    """(config texts, regex patterns) the study exempts from the audit."""
    if not study:
        return [], []
    from trialsupp.study import ConfigError, load_study
    try:
        st = load_study(study, project)
    except ConfigError:   # a study given by a path that moved: audit without exemptions
        return [], []
    return study_exemptions(st)
