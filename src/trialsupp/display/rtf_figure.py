"""A figure as an RTF page (CSR appendix): page header (protocol, page X of Y, number, title,
population), the PNG picture scaled to the text width, footnotes and the footer line with the
run date/time.

RTF embeds PNG pictures natively (``{\\pict\\pngblip ...}`` with the bytes in hex); Word and
LibreOffice both read it. The header/footer lines use the table renderer's helpers so a figure
page and a table page look alike.
"""
from __future__ import annotations

import struct
from pathlib import Path
from typing import Sequence

from trialsupp.display._render_rtf import _line_lr, _t, run_footer

__all__ = ["figure_rtf"]

TWIPS_PER_IN = 1440


def _png_size(data: bytes) -> tuple[int, int]:
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    return struct.unpack(">II", data[16:24])


def figure_rtf(png: str | Path, path: str | Path, *, number: str, title: str, titles: Sequence[str] = (),
               footnotes: Sequence[str] = (), header_left: str = "", header_right: str = "Page {page} of {pages}",
               footer_left: str = "", footer_right: str = "", font: str = "Courier New",
               font_size: float = 9.0, landscape: bool = True, run: str | None = "auto") -> str:
    """Write ``path`` (a one-figure RTF document) and return its text.

    ``run``: the run date/time after the footer line, as in the table RTFs ("auto": the
    render's time, ``SOURCE_DATE_EPOCH``; None: none)."""
    data = Path(png).read_bytes()
    wpx, hpx = _png_size(data)
    pw, ph = (15840, 12240) if landscape else (12240, 15840)
    margin = TWIPS_PER_IN
    width = pw - 2 * margin
    avail_h = ph - 2 * margin - 2600          # header lines and footnotes
    scale_w = width / wpx
    goal_w, goal_h = width, int(hpx * scale_w)
    if goal_h > avail_h:
        goal_w, goal_h = int(wpx * avail_h / hpx), avail_h
    fs = int(round(font_size * 2))
    out = [r"{\rtf1\ansi\ansicpg1252\deff0\uc1" + "\n",
           r"{\fonttbl{\f0\fmodern\fcharset0 " + _t(font) + r";}}" + "\n",
           r"{\info{\title " + _t(f"{number} {title}") + "}}\n",
           rf"\paperw{pw}\paperh{ph}\margl{margin}\margr{margin}\margt{margin}\margb{margin}"
           rf"\headery720\footery720" + (r"\landscape" if landscape else "") + "\n",
           r"\sectd" + (r"\lndscpsxn" if landscape else "") + rf"\pgwsxn{pw}\pghsxn{ph}" + "\n",
           r"{\header" + "\n"]
    if header_left or header_right:
        out.append(_line_lr(header_left, header_right, width, fs))
    for line in [number, title, *titles]:
        out.append(rf"\pard\plain\qc\f0\fs{fs} " + _t(line) + r"\par" + "\n")
    out.append(rf"\pard\plain\f0\fs{fs}\par" + "\n}\n")
    out.append(r"{\footer" + "\n")
    for n in footnotes:
        out.append(rf"\pard\plain\ql\f0\fs{fs} " + _t(n) + r"\par" + "\n")
    right = run_footer(footer_right, run)
    if footer_left or right:
        out.append(_line_lr(footer_left, right, width, fs))
    out.append("}\n")
    out.append(rf"\pard\plain\qc{{\pict\pngblip\picw{wpx}\pich{hpx}\picwgoal{goal_w}\pichgoal{goal_h}" + "\n")
    hexed = data.hex()
    out += [hexed[i:i + 128] + "\n" for i in range(0, len(hexed), 128)]
    out.append(r"}\par" + "\n}\n")
    text = "".join(out)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(text, encoding="ascii")
    return text
