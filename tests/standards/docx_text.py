"""Read tables and paragraphs back from DOCX (WordprocessingML) and HTML, for comparison."""
from __future__ import annotations

import hashlib
import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree as ET

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"


def _norm(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


def _para_text(p) -> str:
    return "".join((e.text or "") if e.tag == W + "t" else " " for e in p.iter() if e.tag in (W + "t", W + "br"))


def _cell_text(tc) -> str:
    return _norm(" ".join(_para_text(p) for p in tc.iter(W + "p")))


def docx_tables(path: Path) -> list[list[list[str]]]:
    """Every table: rows of cell texts (vertically merged continuation cells left out)."""
    root = ET.fromstring(zipfile.ZipFile(path).read("word/document.xml"))
    tables = []
    for tbl in root.iter(W + "tbl"):
        rows = []
        for tr in tbl.findall(W + "tr"):
            cells = []
            for tc in tr.findall(W + "tc"):
                vm = tc.find(f"{W}tcPr/{W}vMerge")
                if vm is not None and vm.get(W + "val") != "restart":
                    continue
                cells.append(_cell_text(tc))
            rows.append(cells)
        tables.append(rows)
    return tables


def docx_text(path: Path) -> str:
    root = ET.fromstring(zipfile.ZipFile(path).read("word/document.xml"))
    return _norm(" ".join(_para_text(p) for p in root.iter(W + "p")))


class _Tables(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tables, self.depth, self.cell, self.row = [], 0, None, None
        self.ids: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and "ts-table" in (a.get("class") or ""):
            self.tables.append([])
            self.ids.append(a.get("id"))
            self.depth += 1
        elif self.depth and tag == "tr":
            self.row = []
            self.tables[-1].append(self.row)
        elif self.depth and tag in ("td", "th"):
            self.cell = []
        elif self.depth and tag in ("br", "p") and self.cell is not None:
            self.cell.append(" ")

    def handle_endtag(self, tag):
        if tag == "table" and self.depth:
            self.depth -= 1
        elif self.depth and tag in ("td", "th") and self.cell is not None:
            self.row.append(_norm("".join(self.cell)))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def html_tables(html: str) -> list[tuple[str | None, list[list[str]]]]:
    """(table id, rows of cell texts) of every ``ts-table`` of the HTML."""
    p = _Tables()
    p.feed(html)
    return list(zip(p.ids, p.tables))


NUMBER = re.compile(r"[\u2212-]?\d+(?:\.\d+)?")


def numbers(texts) -> list[str]:
    return [m.group(0).replace("\u2212", "-") for t in texts for m in NUMBER.finditer(t)]


def _footer_text(z: zipfile.ZipFile, part: str) -> str:
    """A header/footer's text, fields shown as ``{PAGE}``: "Page {PAGE} of {NUMPAGES}"."""
    out, skip = [], False
    for e in ET.fromstring(z.read(part)).iter():
        if e.tag == W + "instrText":
            out.append("{" + (e.text or "").split()[0] + "}")
        elif e.tag == W + "fldChar":
            skip = e.get(W + "fldCharType") == "separate"      # the field's cached result
        elif e.tag == W + "t" and not skip:
            out.append(e.text or "")
    return _norm("".join(out))


class _Package:
    """A DOCX package's parts that paragraphs refer to: relationships and list definitions."""

    def __init__(self, z: zipfile.ZipFile):
        self.z = z
        self.rels = {r.get("Id"): r for r in ET.fromstring(z.read("word/_rels/document.xml.rels"))}
        self.formats: dict[tuple[str, str], str] = {}
        if "word/numbering.xml" in z.namelist():
            numbering = ET.fromstring(z.read("word/numbering.xml"))
            abstract = {a.get(W + "abstractNumId"): a for a in numbering.findall(W + "abstractNum")}
            for num in numbering.findall(W + "num"):
                a = abstract[num.find(W + "abstractNumId").get(W + "val")]     # KeyError: a list without definition
                for lvl in a.findall(W + "lvl"):
                    self.formats[(num.get(W + "numId"), lvl.get(W + "ilvl"))] = lvl.find(W + "numFmt").get(W + "val")

    def target(self, rid: str) -> str:
        return self.rels[rid].get("Target")

    def paragraph(self, p) -> tuple:
        style = p.find(f"{W}pPr/{W}pStyle")
        num = p.find(f"{W}pPr/{W}numPr")
        listed = None
        if num is not None:
            listed = self.formats[(num.find(W + "numId").get(W + "val"), num.find(W + "ilvl").get(W + "val"))]
        links = [self.target(h.get(f"{{{R}}}id")) if h.get(f"{{{R}}}id") else "#" + h.get(W + "anchor", "")
                 for h in p.iter(W + "hyperlink")]
        images = [hashlib.sha1(self.z.read("word/" + self.target(b.get(f"{{{R}}}embed")))).hexdigest()
                  for b in p.iter(f"{{{A}}}blip")]
        return ("p", style.get(W + "val") if style is not None else "", _norm(_para_text(p)), listed, links, images)


def _table(tbl) -> tuple:
    rows = []
    for tr in tbl.findall(W + "tr"):
        cells = []
        for tc in tr.findall(W + "tc"):
            span, vm = tc.find(f"{W}tcPr/{W}gridSpan"), tc.find(f"{W}tcPr/{W}vMerge")
            cells.append((_cell_text(tc), int(span.get(W + "val")) if span is not None else 1,
                          None if vm is None else (vm.get(W + "val") or "continue")))
        rows.append((tr.find(f"{W}trPr/{W}tblHeader") is not None, cells))
    return ("tbl", rows)


def _blocks(el, package: _Package) -> list[tuple]:
    out = []
    for child in el:
        if child.tag == W + "p":
            out.append(package.paragraph(child))
        elif child.tag == W + "tbl":
            out.append(_table(child))
        elif child.tag != W + "sectPr":
            out.extend(_blocks(child, package))
    return out


def docx_layout(path: Path) -> dict:
    """What a reader of the DOCX gets, in order: paragraphs (style, text, list format, link
    targets, images' SHA-1) and tables (rows: repeated-header flag, cells with text, column
    span and vertical merge); the page (size, orientation, margins, header and footer texts);
    the title property. Every relationship, list and image referred to must resolve."""
    z = zipfile.ZipFile(path)
    package = _Package(z)
    body = ET.fromstring(z.read("word/document.xml")).find(W + "body")
    sect = body.find(W + "sectPr")
    local = lambda e: {k.split("}")[-1]: v for k, v in e.attrib.items()}      # noqa: E731
    page = {"size": local(sect.find(W + "pgSz")), "margins": local(sect.find(W + "pgMar"))}
    for ref in sect.findall(W + "headerReference") + sect.findall(W + "footerReference"):
        kind = ref.tag.split("}")[1] + ":" + ref.get(W + "type")
        page[kind] = _footer_text(z, "word/" + package.target(ref.get(f"{{{R}}}id")))
    title = ET.fromstring(z.read("docProps/core.xml")).find("{http://purl.org/dc/elements/1.1/}title")
    return {"blocks": _blocks(body, package), "page": page, "title": title.text if title is not None else None}
