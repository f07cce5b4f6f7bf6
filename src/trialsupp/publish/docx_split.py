"""One DOCX per output element, cut from the whole document Pandoc has already written.

Pandoc writes each output section of the supplement between a bookmark named after the
section's id (``toBookmarkName``: the id itself, or ``X`` + SHA-1 when it is longer than 40
characters or starts with no letter) and that bookmark's end. The body between them, with the
whole document's final section properties (page size, footer), styles, settings, and only the
relationships, media and list definitions that body uses, is the package Pandoc writes when
given the element's HTML alone with the same reference document: same paragraphs, tables and
page setup, for one Pandoc run instead of one per element (``tests/standards/test_docx_csr.py``
and ``test_docx_split.py`` compare them). An element not found is left to Pandoc.
Zip entries keep the whole document's order and dates (``SOURCE_DATE_EPOCH``).
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

DOCUMENT = "word/document.xml"
RELS = "word/_rels/document.xml.rels"
NOTE_RELS = "word/_rels/footnotes.xml.rels"
_REF = re.compile(r'\br:(?:id|embed|link|pict)="([^"]+)"')
_REL = re.compile(r"<Relationship\b[^>]*/>")
_NUM = re.compile(r'<w:num w:numId="(\d+)"\s*>.*?</w:num>', re.S)
_ABSTRACT = re.compile(r'<w:abstractNum w:abstractNumId="(\d+)"\s*>.*?</w:abstractNum>', re.S)
_BOOKMARK_ID = re.compile(r'(<w:bookmark(?:Start|End) w:id=")(\d+)"')
# notes and comments live in parts of their own, numbered across the document: not cut here
_UNCUT = re.compile(r"<w:(?:footnoteReference|endnoteReference|commentReference|commentRangeStart)\b")


def bookmark_name(ident: str) -> str:
    """The bookmark Pandoc's DOCX writer gives an element id (``toBookmarkName``)."""
    if ident[:1].isalpha() and len(ident) <= 40:
        return ident
    return "X" + hashlib.sha1(ident.encode("utf-8")).hexdigest()[1:]


def _attr(tag: str, name: str) -> str:
    m = re.search(rf'\b{name}="([^"]*)"', tag)
    return m.group(1) if m else ""


class WholeDocx:
    """The whole document's parts, read once; ``body`` finds an element, ``package`` makes its DOCX."""

    def __init__(self, path: Path):
        with zipfile.ZipFile(path) as z:
            self.infos = z.infolist()
            self.parts = {i.filename: z.read(i) for i in self.infos}
        doc = self.parts[DOCUMENT].decode("utf-8")
        body = re.search(r"<w:body>\s*", doc)
        sect = list(re.finditer(r"\s*<w:sectPr>", doc))[-1]     # the document's final section
        self.doc, self.head, self.tail = doc, doc[:body.end()], doc[sect.start():]
        self.landscape = 'w:orient="landscape"' in self.tail
        self.pos = body.end()                                     # elements are cut in document order
        ids = [int(i) for i in re.findall(r'<w:bookmarkStart w:id="(\d+)"', doc)]
        self.first_bookmark = min(ids, default=0)                 # Pandoc's first bookmark id
        self.doc_refs = set(_REF.findall(doc))
        self.doc_nums = set(re.findall(r'<w:numId w:val="(\d+)"', doc))

    def body(self, ident: str) -> str | None:
        """The element's body (its bookmark to the bookmark's end), or None if not found."""
        start = re.compile(rf'<w:bookmarkStart w:id="(\d+)" w:name="{re.escape(bookmark_name(ident))}"\s*/>')
        m = start.search(self.doc, self.pos)
        if not m:
            return None
        end = re.compile(rf'<w:bookmarkEnd w:id="{m.group(1)}"\s*/>').search(self.doc, m.end())
        if not end:
            return None
        self.pos = end.end()
        body = self.doc[m.start():end.end()]
        return None if _UNCUT.search(body) else body

    def package(self, body: str, title: str) -> bytes:
        """The DOCX package of one element's ``body``, titled ``title`` in its properties."""
        # bookmark ids numbered from Pandoc's first, in the element's own order
        ids = sorted({int(i) for _s, i in _BOOKMARK_ID.findall(body)})
        renumber = {str(i): str(self.first_bookmark + k) for k, i in enumerate(ids)}
        body = _BOOKMARK_ID.sub(lambda m: f'{m.group(1)}{renumber[m.group(2)]}"', body)
        parts = dict(self.parts)
        document = self.head + body + self.tail
        parts[DOCUMENT] = document.encode("utf-8")
        # package-level relationships (styles, footer, ...) and those the element uses
        used = set(_REF.findall(document))
        dropped = [r for r in _REL.findall(parts[RELS].decode("utf-8")) if _attr(r, "Id") in self.doc_refs - used]
        for name in (RELS, NOTE_RELS):          # Pandoc lists the links for the notes too
            if name in parts:
                rels = parts[name].decode("utf-8")
                for rel in dropped:
                    rels = rels.replace(rel, "")
                parts[name] = rels.encode("utf-8")
        types = parts["[Content_Types].xml"].decode("utf-8")
        for rel in dropped:
            part = "word/" + _attr(rel, "Target")
            if part in parts:
                del parts[part]
                types = re.sub(rf'<Override PartName="/{re.escape(part)}"[^>]*/>', "", types)
        parts["[Content_Types].xml"] = types.encode("utf-8")
        if "word/numbering.xml" in parts:
            parts["word/numbering.xml"] = self._numbering(parts["word/numbering.xml"].decode("utf-8"), body)
        parts["docProps/core.xml"] = core_title(parts["docProps/core.xml"], title)
        if "docProps/custom.xml" in parts:    # the page's <meta> properties describe the page, not the table
            parts["docProps/custom.xml"] = re.sub(rb"(<Properties\b[^>]*?)\s*>.*</Properties>", rb"\1 />",
                                                  parts["docProps/custom.xml"], flags=re.S)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for info in self.infos:
                if info.filename in parts:
                    z.writestr(info, parts[info.filename])
        return buf.getvalue()

    def _numbering(self, xml: str, body: str) -> bytes:
        """List definitions: those no list of the document uses (Pandoc's defaults), and the body's."""
        used = set(re.findall(r'<w:numId w:val="(\d+)"', body))
        listed = set(re.findall(r'<w:abstractNumId w:val="(\d+)"', xml))
        xml = _NUM.sub(lambda m: m.group(0) if m.group(1) in used or m.group(1) not in self.doc_nums else "", xml)
        kept = set(re.findall(r'<w:abstractNumId w:val="(\d+)"', xml))
        return _ABSTRACT.sub(lambda m: m.group(0) if m.group(1) in kept or m.group(1) not in listed else "",
                             xml).encode("utf-8")


def core_title(core: bytes, title: str) -> bytes:
    """``docProps/core.xml`` with the document title ``title``."""
    return re.sub(rb"<dc:title>.*?</dc:title>|<dc:title\s*/>",
                  lambda _m: b"<dc:title>" + escape(title).encode("utf-8") + b"</dc:title>", core, count=1)


def cut_elements(whole: Path, elements: list[tuple[str, Path, str]], *,
                 landscape: bool) -> set[Path] | None:
    """Write ``target`` for each (element id, target, title) found in the ``whole`` DOCX and
    return the targets written (an element not found is left to the caller); None, writing
    nothing, if the whole document's page is not of the layout asked for."""
    doc = WholeDocx(whole)
    if doc.landscape != landscape:
        return None
    written = set()
    for ident, target, title in elements:
        body = doc.body(ident)
        if body is None:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".docx")
        with os.fdopen(fd, "wb") as f:
            f.write(doc.package(body, title))
        os.replace(tmp, target)
        written.add(target)
    return written
