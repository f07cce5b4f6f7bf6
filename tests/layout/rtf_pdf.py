"""RTF outputs as LibreOffice prints them: convert with ``soffice --headless`` (one process for
all files) and read the column headings the RTF puts in its page header."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_all(rtfs: list[Path], out_dir: Path) -> dict[Path, Path]:
    """PDF of every RTF (LibreOffice Writer, a private user profile so that parallel runs do not clash)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    profile = (out_dir / "lo-profile").resolve().as_uri()
    subprocess.run([soffice(), f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(out_dir), *map(str, rtfs)], check=True, capture_output=True, timeout=900)
    return {r: out_dir / (r.stem + ".pdf") for r in rtfs}


def _plain(rtf: str) -> str:
    text = re.sub(r"\\u(-?\d+)\?", lambda m: chr(int(m.group(1)) % 65536), rtf)
    text = re.sub(r"\\line ?", " ", text)
    text = re.sub(r"\{\\super ([^{}]*)\}", r"\1", text)
    text = re.sub(r"\{\\field.*?\}\}", "", text)
    text = re.sub(r"\\[a-z]+-?\d* ?", "", text)
    text = text.replace("\\{", "{").replace("\\}", "}").replace("\\\\", "\\")
    return " ".join(text.replace("{", "").replace("}", "").split())


def header_cells(rtf: str) -> list[list[str]]:
    """Per section (a wide table's column groups are sections), the texts of the column heading
    row (the last table row of the later-pages page header); empty for a section whose page
    header holds no table (a figure)."""
    out = []
    for start in [m.start() for m in re.finditer(r"\{\\header\n", rtf)]:
        end = rtf.index("{\\footer", start)
        group = rtf[start:end]
        if "\\trowd" not in group:
            out.append([])
            continue
        last_row = group[group.rindex("\\trowd"):]
        cells = re.findall(r"\\fs\d+ (.*?)\\cell", last_row)
        out.append([_plain(c) for c in cells if _plain(c)])
    return out
