"""Read tables and paragraphs back from DOCX (WordprocessingML) and HTML, for comparison."""
from __future__ import annotations

import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree as ET

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


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
