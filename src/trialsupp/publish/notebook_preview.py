"""Static HTML preview of an executed notebook, one anchor per cell id.

The supplement's "Source" links and provenance popups point at
``notebooks/<name>.html#<cell id>``. The preview loads nothing from the network:
code is shown escaped, tables from their raw HTML block, figures as inline SVG,
and each cell lists the ARD ids it emitted.
"""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

from trialsupp.ard.store import ARD_MIME

ANSI = re.compile(r"\x1b\[[0-9;]*m")
RAW_HTML = re.compile(r"^(`{3,})\{=html\}\n(.*?)\n\1\s*$", re.S | re.M)
STYLE = """body{font-family:system-ui,sans-serif;max-width:60em;margin:1.5em auto;padding:0 1em;color:#111}
section{border-top:1px solid #ccc;padding:.6em 0}section:target{background:#fff8dc}
.cell-id{font:12px monospace;color:#555}pre{background:#f6f6f6;padding:.6em;overflow:auto;font-size:12px}
.ard{font-size:12px;color:#333}table{border-collapse:collapse}td,th{padding:.15em .6em}
.err{background:#fde8e8}"""


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _output_html(output: dict) -> str:
    kind = output.get("output_type")
    if kind == "error":
        tb = ANSI.sub("", "\n".join(output.get("traceback", [])))
        return f'<pre class="err">{html.escape(tb)}</pre>'
    if kind == "stream":
        return f"<pre>{html.escape(_text(output.get('text', '')))}</pre>"
    data = output.get("data", {})
    if ARD_MIME in data:
        payload = data[ARD_MIME]
        payload = json.loads(payload) if isinstance(payload, str) else payload
        ids = [r["id"] for r in payload.get("rows", [])]
        items = "".join(f"<code>{html.escape(i)}</code> " for i in ids)
        return f'<details class="ard"><summary>{len(ids)} ARD rows recorded</summary>{items}</details>'
    if "text/markdown" in data:
        block = RAW_HTML.search(_text(data["text/markdown"]))
        if block:
            return block.group(2)
    if "text/html" in data:
        return _text(data["text/html"])
    if "image/svg+xml" in data:
        svg = _text(data["image/svg+xml"])
        return re.sub(r"<\?xml[^>]*>|<!DOCTYPE[^>]*>", "", svg)
    if "text/plain" in data:
        return f"<pre>{html.escape(_text(data['text/plain']))}</pre>"
    return ""


def preview_html(notebook: dict, title: str) -> str:
    parts = []
    for i, cell in enumerate(notebook.get("cells", [])):
        cid = html.escape(str(cell.get("id", f"cell-{i}")))
        src = html.escape(_text(cell.get("source", "")))
        if cell.get("cell_type") == "markdown":
            body = f"<pre>{src}</pre>"
        else:
            body = f"<pre><code>{src}</code></pre>" + "".join(_output_html(o) for o in cell.get("outputs", []))
        label = re.search(r"^#\|\s*label:\s*(\S+)", _text(cell.get("source", "")), re.M)
        anchor = f'<span id="{html.escape(label.group(1))}"></span>' if label else ""
        tag = f"cell {cid}" + (f", label {html.escape(label.group(1))}" if label else "")
        parts.append(f'<section id="{cid}">{anchor}<div class="cell-id">{tag}</div>{body}</section>')
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
            "<p>Executed notebook (read-only preview). Each cell is addressable as #&lt;cell id&gt;.</p>"
            + "".join(parts) + "</body></html>\n")


def write_preview(executed: Path, title: str | None = None, notebook: dict | None = None) -> Path:
    """``<executed>.html``; ``notebook``: the executed notebook already parsed (not changed)."""
    nb = notebook if notebook is not None else json.loads(executed.read_text(encoding="utf-8"))
    target = executed.with_suffix(".html")
    from trialsupp.display._escape import strip_controls
    # no control character from the data reaches a published page (see render.remove_control_characters)
    target.write_text(strip_controls(preview_html(nb, title or executed.name)), encoding="utf-8")
    return target
