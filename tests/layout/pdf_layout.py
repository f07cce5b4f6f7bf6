"""Read a PDF's text with positions (poppler ``pdftotext -bbox-layout``) and find layout faults:
statistics broken across lines, headings or captions left as the last line of a page, and text
outside the text column. Used by the layout checks of the rendered PDFs and of the RTFs
converted to PDF by LibreOffice."""
from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

NS = "{http://www.w3.org/1999/xhtml}"
MARGIN_ZONE = 56.0          # points at the top and bottom of a page that hold the running header/footer


@dataclass
class Line:
    text: str
    words: list[tuple[float, float, float, float, str]]
    x0: float
    y0: float
    x1: float
    y1: float
    block: int


@dataclass
class Page:
    number: int
    width: float
    height: float
    lines: list[Line] = field(default_factory=list)

    def body(self) -> list[Line]:
        return [ln for ln in self.lines if ln.y0 > MARGIN_ZONE and ln.y1 < self.height - MARGIN_ZONE]

    def margins(self) -> list[Line]:
        return [ln for ln in self.lines if ln.y1 <= MARGIN_ZONE or ln.y0 >= self.height - MARGIN_ZONE]

    @property
    def text(self) -> str:
        return "\n".join(ln.text for ln in self.lines)


def have_poppler() -> bool:
    return shutil.which("pdftotext") is not None


def read_pages(pdf: str | Path) -> list[Page]:
    xml = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], check=True,
                         capture_output=True, text=True).stdout
    root = ET.fromstring(xml.replace("&nbsp;", " "))
    pages = []
    block_id = 0
    for k, p in enumerate(root.iter(NS + "page"), start=1):
        page = Page(k, float(p.get("width")), float(p.get("height")))
        for b in p.iter(NS + "block"):
            block_id += 1
            for ln in b.iter(NS + "line"):
                words = [(float(w.get("xMin")), float(w.get("yMin")), float(w.get("xMax")),
                          float(w.get("yMax")), w.text or "") for w in ln.iter(NS + "word")]
                if not words:
                    continue
                page.lines.append(Line(" ".join(w[4] for w in words), words, float(ln.get("xMin")),
                                       float(ln.get("yMin")), float(ln.get("xMax")), float(ln.get("yMax")),
                                       block_id))
        pages.append(page)
    return pages


_NUM = r"[−\-–]?\d[\d.,]*%?"
_HEAD_TAIL = [
    (re.compile(rf"{_NUM}"), re.compile(rf"\(\s*[−\-<>]?\d")),            # "65" / "(75.6%)"
    (re.compile(r"to"), re.compile(rf"{_NUM}\)?")),                         # "-7.13 to" / "-4.74)"
    (re.compile(rf"\(?{_NUM}[-–]"), re.compile(r"\d")),                     # "0.51-" / "0.80"
    (re.compile(rf"\(?{_NUM}\s*\("), re.compile(r"[−\-]?\d")),              # "12.3 (" / "4.5)"
]


INTERVAL = re.compile(r"^\([^()]*?(?:\d[-–]\d|\d[-–][−\-]|\sto\s|\d[,;]\s?[−\-]?\d)[^()]*\)")


def broken_numbers(page: Page) -> list[str]:
    """Statistics that continue on the next line of the same cell ("65" / "(75.6%)")."""
    out = []
    by_block: dict[int, list[Line]] = {}
    for ln in page.body():
        by_block.setdefault(ln.block, []).append(ln)
    for lines in by_block.values():
        for a, b in zip(lines, lines[1:]):
            h = a.y1 - a.y0
            if not (0 <= b.y0 - a.y1 < 0.8 * h) or a.x1 - a.x0 > 0.45 * page.width:
                continue            # not the next line of a table cell (or a paragraph line)
            if b.x0 > a.x1 or b.x1 < a.x0:
                continue            # not below each other
            head, tail = a.words[-1][4], b.words[0][4]
            if not re.search(r"\d", a.text):
                continue
            if re.fullmatch(_NUM, head) and INTERVAL.match(b.text):
                continue            # an estimate above its whole interval: "12.1" / "(7.6-20.0)"
            if re.match(r"\(\d+% CI\)", b.text):
                continue            # a heading: "RMST difference to week 264" / "(95% CI), wk"
            for hp, tp in _HEAD_TAIL:
                if hp.fullmatch(head) and tp.match(tail):
                    out.append(f"page {page.number}: {a.text!r} / {b.text!r}")
                    break
    return out


POPULATION = re.compile(r"^(?:Analysis\s+)?Population:\s")
CAPTION = re.compile(r"^(?:eTable|eFigure|Table|Figure|Listing)\s+[\dA-Z][\w.\-]*[.:]?\s+\S")


def stranded(page: Page, headings: set[str]) -> list[str]:
    """A heading or caption that is the last line of the page body (its content follows overleaf)."""
    body = page.body()
    if not body:
        return []
    last_y = max(ln.y1 for ln in body)
    last = [ln for ln in body if ln.y1 > last_y - 2]
    text = " ".join(ln.text for ln in sorted(last, key=lambda l: l.x0)).strip()
    if (CAPTION.match(text) or POPULATION.match(text) or text in headings
            or any(h and text.startswith(h) and len(h) > 8 for h in headings)):
        return [f"page {page.number}: last line {text!r}"]
    # a row heading of a table (a group label: one short line without numbers, under a table row)
    if (len(last) == 1 and not re.search(r"\d", re.sub(r"\d+% CI", "", text)) and len(text) <= 60
            and not text.endswith(".")):
        above = [ln for ln in body if ln.y1 <= last[0].y0 + 0.5]
        if above:
            y = max(ln.y1 for ln in above)
            row = [ln for ln in above if ln.y1 > y - 2]
            left = min(ln.x0 for ln in body)
            if len(row) >= 3 and last[0].x0 < left + 2:         # group labels are not indented
                return [f"page {page.number}: table row heading {text!r} is the last line"]
    return []


def overflow(page: Page, tolerance: float = 2.0) -> list[str]:
    """Words outside the text column (its edges: the running header and footer)."""
    frame = page.margins()
    if not frame:
        return []
    left = min(ln.x0 for ln in frame) - tolerance
    right = max(ln.x1 for ln in frame) + tolerance
    out = []
    for ln in page.body():
        for x0, _, x1, _, w in ln.words:
            if x1 > right or x0 < left:
                out.append(f"page {page.number}: {w!r} at x {x0:.0f}-{x1:.0f} (column {left:.0f}-{right:.0f})")
    return out


def outline_titles(pdf: str | Path) -> set[str]:
    """Heading texts (the PDF outline / bookmarks)."""
    from pypdf import PdfReader
    out: set[str] = set()

    def walk(items):
        for it in items:
            if isinstance(it, list):
                walk(it)
            else:
                out.add(" ".join(str(it.title).split()))
    walk(PdfReader(str(pdf)).outline)
    return out


OUTPUT_PAGE = re.compile(r"Page (\d+) of (\d+)\s*\(document page (\d+) of (\d+)\)")


def running_header(page: Page) -> str:
    """The text of the page's running header (the top margin), left to right."""
    top = [ln for ln in page.margins() if ln.y1 <= MARGIN_ZONE]
    return " ".join(ln.text for ln in sorted(top, key=lambda l: (round(l.y0), l.x0)))


def csr_output_header(page: Page) -> tuple[str, bool, int, int] | None:
    """(output id, "(continued)", page within the output, pages of the output) of a CSR running
    header such as "Protocol: X  Table 14-5.01 (continued)  Page 2 of 3 (document page 30 of 44)";
    None when the header names no output (only the document page)."""
    head = running_header(page)
    m = OUTPUT_PAGE.search(head)
    if not m:
        return None
    name = re.sub(r"^Protocol:\s+\S+\s*", "", head[:m.start()]).strip()
    continued = name.endswith("(continued)")
    name = name.removesuffix("(continued)").strip()
    return name, continued, int(m.group(1)), int(m.group(2))


def csr_header_faults(pages: list[Page], appendices: tuple[str, ...] = ("Provenance",)) -> list[str]:
    """CSR running headers that do not match the pages: an output's pages are numbered
    1..n on n consecutive pages, "(continued)" from its second page, its first page shows its
    heading; the appendix sections after the outputs (a page whose first line is one of
    ``appendices``, and every page after it) carry no output header."""
    out: list[str] = []
    run: list[tuple[Page, tuple]] = []

    def close():
        if run:
            name, _, _, n = run[0][1]
            if len(run) != n:
                out.append(f"{name}: header says {n} page(s), printed on {len(run)} "
                           f"(pages {run[0][0].number}-{run[-1][0].number})")
            run.clear()

    appendix_from = None
    for p in pages:
        body = sorted(p.body(), key=lambda l: (round(l.y0), l.x0))
        if appendix_from is None and p.number > 1 and body and body[0].text.strip() in appendices:
            appendix_from = p.number
        h = csr_output_header(p)
        foot = " ".join(ln.text for ln in p.margins() if ln.y0 >= p.height - MARGIN_ZONE)
        if appendix_from is not None and "Source:" in foot:
            out.append(f"page {p.number}: appendix page has an output's footer {foot!r}")
        if h is None:
            close()
            continue
        name, continued, k, n = h
        if appendix_from is not None:
            out.append(f"page {p.number}: appendix page (appendix from page {appendix_from}) has the running "
                       f"header of {name!r}{' (continued)' if continued else ''}, page {k} of {n}")
        if k == 1:
            close()
            if name not in " ".join(ln.text for ln in body):
                out.append(f"page {p.number}: first page of {name!r} without its heading")
        elif not run or run[-1][1][0] != name or run[-1][1][2] != k - 1:
            out.append(f"page {p.number}: {name!r} page {k} of {n} does not follow page {k - 1}")
            close()
        if continued != (k > 1):
            out.append(f"page {p.number}: {name!r} page {k} {'says' if continued else 'lacks'} (continued)")
        run.append((p, h))
    close()
    if appendix_from is None and appendices:
        out.append(f"no page starts with an appendix heading {appendices}")
    return out
