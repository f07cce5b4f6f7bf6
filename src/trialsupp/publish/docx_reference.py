"""Build the Word reference documents shipped in ``trialsupp/templates/docx/``.

Pandoc takes styles, page size, margins, header and footer from a reference DOCX. Ours
start from Pandoc's default (``pandoc --print-default-data-file reference.docx``) and set:
JAMA-like body text (Arial 10 pt) on Letter portrait for the supplement; CSR text
(Courier New 9 pt) on Letter landscape for the per-output tables; tables with rules above
and below and under the header row; a footer "Page X of Y" (Word fields).

Regenerate with ``python -m trialsupp.publish.docx_reference`` (byte-deterministic).
"""
from __future__ import annotations

import io
import re
import subprocess
import zipfile
from pathlib import Path

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
FOOTER_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer"
FOOTER_CT = "application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"

LAYOUTS = {
    "reference.docx": {"font": "Arial", "size": 20, "table_size": 18, "landscape": False},
    "reference-landscape.docx": {"font": "Courier New", "size": 18, "table_size": 18, "landscape": True},
}


def _field(instr: str) -> str:
    return (f'<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> {instr} '
            f'</w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>1</w:t></w:r>'
            f'<w:r><w:fldChar w:fldCharType="end"/></w:r>')


FOOTER = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:ftr xmlns:w="{W}" xmlns:r="{R}">'
          '<w:p><w:pPr><w:pStyle w:val="Footer"/><w:jc w:val="right"/></w:pPr>'
          '<w:r><w:t xml:space="preserve">Page </w:t></w:r>' + _field("PAGE") +
          '<w:r><w:t xml:space="preserve"> of </w:t></w:r>' + _field("NUMPAGES") + '</w:p></w:ftr>')


def _styles(xml: str, font: str, size: int, table_size: int) -> str:
    fonts = f'<w:rFonts w:ascii="{font}" w:eastAsia="{font}" w:hAnsi="{font}" w:cs="{font}" />'
    xml = re.sub(r"<w:rFonts [^>]*/>", fonts, xml, count=1)                  # docDefaults
    xml = re.sub(r'(<w:rPrDefault>.*?)<w:sz w:val="\d+" />\s*<w:szCs w:val="\d+" />',
                 rf'\1<w:sz w:val="{size}" /><w:szCs w:val="{size}" />', xml, count=1, flags=re.S)
    xml = xml.replace('<w:spacing w:after="200" />', '<w:spacing w:after="120" />', 1)
    # black headings and a modest title, as in a journal supplement or a CSR
    xml = re.sub(r'(<w:style w:type="paragraph" w:styleId="(?:Heading\d|Title|Subtitle)">.*?</w:style>)',
                 lambda m: re.sub(r'<w:color [^>]*/>', '<w:color w:val="000000" />', m.group(1)),
                 xml, flags=re.S)
    xml = re.sub(r'(w:styleId="Title">.*?)<w:sz w:val="\d+" />\s*<w:szCs w:val="\d+" />',
                 r'\1<w:sz w:val="32" /><w:szCs w:val="32" />', xml, count=1, flags=re.S)
    rule = '<w:top w:val="single" w:sz="8" w:space="0" w:color="000000"/>'
    table = (f'<w:tblPr><w:tblInd w:w="0" w:type="dxa" /><w:tblBorders>{rule}'
             f'{rule.replace("w:top", "w:bottom")}</w:tblBorders><w:tblCellMar><w:top w:w="0" w:type="dxa" />'
             '<w:left w:w="80" w:type="dxa" /><w:bottom w:w="0" w:type="dxa" /><w:right w:w="80" w:type="dxa" />'
             f'</w:tblCellMar></w:tblPr><w:rPr><w:sz w:val="{table_size}" /><w:szCs w:val="{table_size}" /></w:rPr>')
    xml = re.sub(r'(<w:style w:type="table" w:default="1" w:styleId="Table">.*?)<w:tblPr>.*?</w:tblPr>',
                 lambda m: m.group(1) + table, xml, count=1, flags=re.S)
    xml = re.sub(r'(w:styleId="Table">.*?<w:tblStylePr w:type="firstRow">\s*<w:tcPr>\s*<w:tcBorders>)\s*'
                 r'<w:bottom w:val="single"/>', r'\1<w:bottom w:val="single" w:sz="4" w:space="0" w:color="000000"/>',
                 xml, count=1, flags=re.S)
    return xml


def _section(landscape: bool) -> str:
    size = '<w:pgSz w:w="15840" w:h="12240" w:orient="landscape"/>' if landscape else \
        '<w:pgSz w:w="12240" w:h="15840"/>'
    return (f'<w:sectPr><w:footerReference w:type="default" r:id="rIdTsFooter"/>{size}'
            '<w:pgMar w:top="1440" w:right="1440" w:bottom="1440" w:left="1440" w:header="720" '
            'w:footer="720" w:gutter="0"/><w:footnotePr><w:numRestart w:val="eachSect" /></w:footnotePr>'
            '</w:sectPr>')


def build(default_docx: bytes, font: str, size: int, table_size: int, landscape: bool) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(default_docx))
    parts = {name: src.read(name) for name in src.namelist()}
    parts["word/styles.xml"] = _styles(parts["word/styles.xml"].decode(), font, size, table_size).encode()
    doc = parts["word/document.xml"].decode()
    if f'xmlns:r="{R}"' not in doc:
        doc = doc.replace("<w:document ", f'<w:document xmlns:r="{R}" ', 1)
    doc = re.sub(r"<w:sectPr>.*?</w:sectPr>", _section(landscape), doc, count=1, flags=re.S)
    parts["word/document.xml"] = doc.encode()
    rels = parts["word/_rels/document.xml.rels"].decode()
    rels = rels.replace("</Relationships>", f'<Relationship Id="rIdTsFooter" Type="{FOOTER_REL}" '
                                            'Target="footer1.xml"/></Relationships>')
    parts["word/_rels/document.xml.rels"] = rels.encode()
    ct = parts["[Content_Types].xml"].decode()
    ct = ct.replace("</Types>", f'<Override PartName="/word/footer1.xml" ContentType="{FOOTER_CT}"/></Types>')
    parts["[Content_Types].xml"] = ct.encode()
    parts["word/footer1.xml"] = FOOTER.encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name in ["[Content_Types].xml"] + sorted(n for n in parts if n != "[Content_Types].xml"):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, parts[name])
    return out.getvalue()


def default_reference() -> bytes:
    from trialsupp.publish.builtin import _pandoc
    exe = _pandoc().get_pandoc_path()
    return subprocess.run([exe, "--print-default-data-file", "reference.docx"], capture_output=True,
                          check=True, timeout=60).stdout


def build_all(target: Path) -> list[Path]:
    base = default_reference()
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, opts in LAYOUTS.items():
        (target / name).write_bytes(build(base, **opts))
        written.append(target / name)
    return written


if __name__ == "__main__":
    from trialsupp.publish.docx import TEMPLATES
    for p in build_all(TEMPLATES):
        print(p)
