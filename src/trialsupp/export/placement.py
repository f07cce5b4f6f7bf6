"""Where each ARD value appears in a render: HTML anchor (the enclosing element id of
its ``ts-stat`` span) and PDF page (the page of the value's output that prints it)."""
from __future__ import annotations

import re
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd


class _Anchors(HTMLParser):
    """ARD id -> ids of the innermost element with an ``id`` around each of its spans."""
    VOID = {"br", "img", "meta", "link", "input", "hr", "col", "source", "wbr", "area", "base"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str | None]] = []
        self.anchors: dict[str, list[str]] = defaultdict(list)

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        a = dict(attrs)
        self.stack.append((tag, a.get("id")))
        if "ts-stat" in (a.get("class") or "").split() and a.get("data-ard"):
            ids = [i for _t, i in reversed(self.stack) if i]
            # the element (tbl-x / fig-x) when inside one, else the innermost section
            anchor = next((i for i in ids if re.match(r"(tbl|fig|table|figure)-", i) and not i.endswith("-table")),
                          ids[0] if ids else None)
            for ard_id in a["data-ard"].split():
                if anchor and anchor not in self.anchors[ard_id]:
                    self.anchors[ard_id].append(anchor)

    def handle_startendtag(self, tag, attrs):      # <img ... />: no element to close
        pass

    def handle_endtag(self, tag):
        if not any(t == tag for t, _i in self.stack):
            return
        while self.stack:
            if self.stack.pop()[0] == tag:
                break


def html_anchors(html: str) -> dict[str, list[str]]:
    parser = _Anchors()
    parser.feed(html)
    return dict(parser.anchors)


def _norm(text: str) -> str:
    return " ".join(text.replace("\u2212", "-").split())


def _output_pattern(output_id: str, caption: str | None = None) -> re.Pattern:
    """A caption or running header naming the output: "eTable 2. Title" / "Table 14-3.01".
    With the caption known, a citation in the text ("see eTable 2") does not match."""
    oid = re.escape(output_id)
    if re.fullmatch(r"\d+(?:-\d+)*(?:\.\d+)*", output_id):      # CSR numbers print as "Table 14-3.01"
        oid = r"(?:Table|Figure|Listing)\s+" + oid
    if caption:
        words = _norm(caption).split()[:4]
        return re.compile(oid + r"\.?\s+" + r"\s+".join(re.escape(w) for w in words))
    return re.compile(oid + r"(?![\d.]\d)")


def output_pages(pages: list[str], output_ids: list[str],
                 captions: dict[str, str] | None = None) -> dict[str, list[int]]:
    """1-based pages on which each output is printed: from the first page naming it that is
    not a contents page, through the page before the next output starts (a later page that
    only shares the number, such as the R Submission Pilot 1 table numbered like a CSR table
    or a Provenance entry, does not extend it)."""
    first = {}
    for oid in output_ids:
        pat = _output_pattern(oid, (captions or {}).get(oid))
        hits = [i for i, text in enumerate(pages) if pat.search(_norm(text)) and not _contents_page(text)]
        if hits:
            first[oid] = hits[0]
    order = sorted((p, oid) for oid, p in first.items())
    spans = {}
    for k, (page, oid) in enumerate(order):
        nxt = order[k + 1][0] if k + 1 < len(order) else len(pages)
        spans[oid] = list(range(page + 1, max(page, nxt - 1) + 2))
    return spans


def _contents_page(text: str) -> bool:
    return bool(re.search(r"(?im)^\s*(contents|table of contents)\s*$", text))


def pdf_pages(ard: pd.DataFrame, pages: list[str], captions: dict[str, str] | None = None) -> dict[str, list[int]]:
    """ARD id -> PDF pages (1-based) within its output's pages that print its formatted value."""
    spans = output_pages(pages, sorted({str(o) for o in ard["output_id"].dropna()}), captions)
    norm = [_norm(t) for t in pages]
    found = {}
    for rid, oid, shown in zip(ard["id"], ard["output_id"], ard["stat_fmt"]):
        span = spans.get(str(oid), [])
        if shown is None or str(shown) == "":
            continue
        text = _norm(str(shown))
        hit = [p for p in span if text in norm[p - 1]]
        if hit:
            found[rid] = hit
    return found


def locate(out_dir: Path, ard: pd.DataFrame, captions: dict[str, str] | None = None) -> dict[str, list[dict]]:
    """ARD id -> list of places: ``{"file", "anchor"}`` for HTML, ``{"file", "page"}`` for PDF."""
    places: dict[str, list[dict]] = defaultdict(list)
    html = out_dir / "supplement.html"
    if html.exists():
        for rid, anchors in html_anchors(html.read_text(encoding="utf-8")).items():
            places[rid] += [{"file": html.name, "anchor": "#" + a} for a in anchors]
    pdf = out_dir / "supplement.pdf"
    if pdf.exists():
        from trialsupp.ard.audit import pdf_pages_text
        for rid, pages in pdf_pages(ard, pdf_pages_text(pdf), captions).items():
            places[rid] += [{"file": pdf.name, "page": p} for p in pages]
    return dict(places)
