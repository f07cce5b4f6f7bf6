"""The ARD provenance blob read by ``provenance.js`` in the HTML output.

Both publishers put the same fragment after the body: a
``<script type="application/json" id="ts-ard">`` holding the results store
(``{"run": ..., "rows": [...]}``) and the inlined ``provenance.js``. The
built-in publisher passes it to Pandoc with ``--include-after-body``; the Quarto
path writes it to ``<stage>/_results/provenance.html``, which ``_quarto.yml``
lists under ``include-after-body``.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Mapping

from trialsupp.publish.qmd import PublishError

EXTENSION = Path("_extensions") / "trialsupp"


def load_store(ard_json: str | Path | Mapping) -> dict:
    """The results store as a dict ``{"run": {...}, "rows": [...]}``."""
    if isinstance(ard_json, Mapping):
        store = dict(ard_json)
    else:
        path = Path(ard_json)
        if not path.is_file():
            raise PublishError(f"results store not found: {path}")
        try:
            store = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise PublishError(f"results store {path} is not valid JSON: {exc}") from exc
    if not isinstance(store, dict) or not isinstance(store.get("rows"), list):
        raise PublishError("results store must be a JSON object with a 'rows' list")
    return store


def index_rows(store: Mapping) -> dict[str, dict]:
    return {row["id"]: row for row in store["rows"] if isinstance(row, dict) and row.get("id")}


def script_json(obj) -> str:
    """JSON that is safe inside a <script> element (no '</script>' break-out)."""
    text = json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def provenance_html(store: Mapping, js: str, ids: Iterable[str] | None = None) -> str:
    """The after-body HTML fragment: the ARD blob plus the popup script.

    ``ids`` limits the blob to the rows shown in the page (all rows if None).
    """
    rows = store["rows"]
    if ids is not None:
        wanted = set(ids)
        rows = [r for r in rows if isinstance(r, dict) and r.get("id") in wanted]
    blob = {"run": store.get("run", {}), "rows": rows}
    return ('<script type="application/json" id="ts-ard">' + script_json(blob) + "</script>\n"
            "<script>\n" + js.replace("</script", "<\\/script") + "\n</script>\n")


def write_provenance_html(stage_dir: str | Path, ard_json: str | Path | Mapping | None = None,
                          out: str | Path | None = None) -> Path:
    """Write ``<stage>/_results/provenance.html`` for Quarto's ``include-after-body``."""
    stage = Path(stage_dir)
    store = load_store(ard_json if ard_json is not None else stage / "_results" / "ard.json")
    js_path = stage / EXTENSION / "provenance.js"
    if not js_path.is_file():
        raise PublishError(f"missing {js_path}: stage the _extensions/trialsupp folder")
    target = Path(out) if out is not None else stage / "_results" / "provenance.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(provenance_html(store, js_path.read_text(encoding="utf-8")), encoding="utf-8")
    return target
