"""report/valor/index.qmd: elements are numbered by appearance (Quarto), so the order of
first citation in the text must equal the order of the embeds (JAMA: numbered in order
of first citation); every embed label exists in its notebook and every element is cited."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INDEX = ROOT / "report" / "valor" / "index.qmd"
INCLUDE = re.compile(r"^\{\{<\s*include\s+(\S+)\s*>\}\}\s*$")
EMBED = re.compile(r"\{\{<\s*embed\s+(\S+?\.ipynb)#(\S+)\s*>\}\}")
XREF = re.compile(r"(?<![\w@])@((?:tbl|fig)-[\w-]+)")


def expand(path: Path) -> str:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        m = INCLUDE.match(line.strip())
        if m:
            inc = (path.parent / m.group(1)).resolve()
            if not inc.exists():
                pytest.skip(f"{inc.name} not written yet")
            out.append(expand(inc))
        else:
            out.append(line)
    return "\n".join(out)


def test_first_citation_order_equals_embed_order():
    text = re.sub(r"<!--.*?-->", "", expand(INDEX), flags=re.S)
    embeds = [(nb, label) for nb, label in EMBED.findall(text)]
    labels = [label for _, label in embeds]
    body = text.split("# eTables")[0]
    first = list(dict.fromkeys(XREF.findall(body)))
    for kind in ("tbl", "fig"):
        want = [x for x in labels if x.startswith(kind)]
        got = [x for x in first if x.startswith(kind)]
        assert got == want, f"{kind}: first citations {got} != embed order {want}"


def test_embeds_exist_in_notebooks():
    text = expand(INDEX)
    for nb, label in EMBED.findall(text):
        path = (INDEX.parent / nb).resolve()
        assert path.exists(), path
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        src = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells]
        assert any(re.search(rf"^#\|\s*label:\s*{re.escape(label)}\s*$", s, re.M) for s in src), (nb, label)
