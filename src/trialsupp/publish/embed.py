"""Turn the stored outputs of a labelled cell of an EXECUTED notebook into
Pandoc markdown, as Quarto's ``{{< embed nb.ipynb#label >}}`` does.

* The cell is the one whose source starts with ``#| label: X`` (Quarto cell
  options: ``#|`` comment lines at the top of the cell source, YAML).
* ``text/markdown`` outputs are copied as is (they hold ```` ```{=html} ```` and
  ```` ```{=typst} ```` raw blocks); ``image/svg+xml`` is written to a file and
  included as an image; ``text/plain`` only when nothing richer is present;
  ``application/vnd.trialsupp.ard+json`` (the placed ARD rows) is ignored.
* The caption comes from the ``tbl-cap`` / ``fig-cap`` cell options; the alt
  text of figures from ``fig-alt`` (else the caption).
"""
from __future__ import annotations

import functools
import json
import re

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from trialsupp import _yaml
from trialsupp.publish.qmd import Loc, PublishError

ARD_MIME = "application/vnd.trialsupp.ard+json"
IGNORED_MIMES = {ARD_MIME, "application/vnd.jupyter.widget-view+json"}


@dataclass
class Embedded:
    """The markdown for one embedded cell."""
    label: str
    kind: str | None            # "tbl", "fig" or None (not a numbered float)
    caption: str | None
    options: dict
    markdown: str               # body (without caption)
    notebook: Path
    cell_id: str | None
    ard_ids: list = field(default_factory=list)   # ARD rows the cell recorded or its figure shows
    media: list[Path] = field(default_factory=list)


def cell_options(source: str) -> dict:
    """YAML of the ``#|`` option lines at the top of a cell's source."""
    opts = []
    for line in source.splitlines():
        if line.startswith("#|"):
            opts.append(line[2:].removeprefix(" "))
        elif not line.strip():
            continue
        else:
            break
    if not opts:
        return {}
    try:
        data = _yaml.safe_load("\n".join(opts)) or {}
    except yaml.YAMLError as exc:
        raise PublishError(f"invalid '#|' cell options: {exc}") from exc
    return data if isinstance(data, dict) else {}


@functools.lru_cache(maxsize=64)
def _read_notebook(path: str, mtime_ns: int) -> dict:
    """A notebook parsed once per publish (several embeds read the same notebook). A version-4
    notebook (every notebook the pipeline stages) is read as JSON, its multi-line strings joined
    as nbformat joins them; any other version through nbformat, converted to version 4."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(nb, dict) or nb.get("nbformat") != 4:
        import nbformat
        return nbformat.read(path, as_version=4)
    for cell in nb.get("cells") or []:         # as nbformat.v4.rwbase.rejoin_lines
        if isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
        for out in cell.get("outputs") or [] if cell.get("cell_type") == "code" else []:
            if out.get("output_type") in ("execute_result", "display_data"):
                data = out.get("data") or {}
                for mime, value in list(data.items()):
                    if not _is_json_mime(mime) and isinstance(value, list) and all(isinstance(v, str) for v in value):
                        data[mime] = "".join(value)
            elif out.get("output_type") and isinstance(out.get("text", ""), list):
                out["text"] = "".join(out["text"])
    return nb


def _is_json_mime(mime: str) -> bool:
    """JSON bundles nbformat leaves as they are (``application/json``, ``...+json``)."""
    return mime == "application/json" or (mime.startswith("application/") and mime.endswith("+json"))


def find_cell(nb_path: Path, label: str, loc: Loc | None = None):
    """(cell, options) of the cell labelled ``label``."""
    where = f"{loc}: " if loc else ""
    if not nb_path.is_file():
        raise PublishError(f"{where}notebook not found: {nb_path}")
    try:
        nb = _read_notebook(str(nb_path), nb_path.stat().st_mtime_ns)
    except Exception as exc:  # nbformat raises several types
        raise PublishError(f"{where}cannot read notebook {nb_path}: {exc}") from exc
    hits = []
    for cell in nb.get("cells") or []:
        if cell.get("cell_type") != "code":
            continue
        opts = cell_options(_text(cell.get("source", "")))
        if str(opts.get("label", "")) == label:
            hits.append((cell, opts))
    if not hits:
        raise PublishError(f"{where}no cell with '#| label: {label}' in {nb_path}")
    if len(hits) > 1:
        raise PublishError(f"{where}{len(hits)} cells labelled '{label}' in {nb_path}")
    return hits[0]


TEXT_WIDTH_IN, MAX_FIGURE_HEIGHT_IN = 6.5, 7.5     # US letter, 1 in margins, room for the caption
_SVG_SIZE = re.compile(r'<svg[^>]*?\swidth="([\d.]+)(pt|px|in)?"[^>]*?\sheight="([\d.]+)(pt|px|in)?"', re.S)


def fit_width(svg: str) -> str:
    """Full text width, unless the figure would then be taller than a page: then the width at
    which its height is MAX_FIGURE_HEIGHT_IN (aspect ratio kept), so caption and figure stay together."""
    m = _SVG_SIZE.search(svg[:2000])
    if not m:
        return "100%"
    ratio = float(m.group(3)) / float(m.group(1))          # height / width (same units)
    if TEXT_WIDTH_IN * ratio <= MAX_FIGURE_HEIGHT_IN:
        return "100%"
    return f"{MAX_FIGURE_HEIGHT_IN / ratio:.2f}in"


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def embed_cell(nb_path: str | Path, label: str, *, media_dir: Path,
               media_prefix: str = "", loc: Loc | None = None) -> Embedded:
    """Markdown for the outputs of cell ``label`` of the executed notebook.

    SVG outputs are written to ``media_dir`` as ``<label>-<n>.svg``; the image
    paths in the markdown are ``media_prefix + file name``.
    """
    nb_path = Path(nb_path)
    where = f"{loc}: " if loc else ""
    cell, opts = find_cell(nb_path, label, loc)
    kind = label.split("-", 1)[0] if label.startswith(("tbl-", "fig-")) else None
    caption = opts.get(f"{kind}-cap") if kind else None
    if kind and caption is None:
        caption = opts.get("tbl-cap") or opts.get("fig-cap")
    if isinstance(caption, list):
        raise PublishError(f"{where}cell {label}: a list of captions (subfloats) is not supported")
    if not cell.get("outputs") and cell.get("execution_count") is None:
        raise PublishError(f"{where}cell {label} of {nb_path} has not been executed "
                           "(embed needs executed notebooks)")
    parts, media, ard_ids = [], [], []
    for out in cell.get("outputs", []):
        otype = out.get("output_type")
        if otype == "error":
            raise PublishError(f"{where}cell {label} of {nb_path} raised "
                               f"{out.get('ename')}: {out.get('evalue')}")
        if otype == "stream":
            continue
        data = out.get("data", {})
        ard_ids += (out.get("metadata", {}).get("trialsupp") or {}).get("ard_ids", [])
        after = (out.get("metadata", {}).get("trialsupp") or {}).get("after")
        if ARD_MIME in data:
            payload = data[ARD_MIME]
            payload = json.loads(payload) if isinstance(payload, str) else payload
            ard_ids += [r["id"] for r in payload.get("rows", [])]
            continue  # placed ARD rows: collected by the pipeline, never displayed
        mimes = [m for m in data if m not in IGNORED_MIMES]
        if not mimes:
            continue
        if "text/markdown" in data:
            parts.append(_text(data["text/markdown"]).strip("\n"))
        elif "image/svg+xml" in data:
            svg = _text(data["image/svg+xml"])
            media_dir.mkdir(parents=True, exist_ok=True)
            n = len(media) + 1
            name = f"{label}-{n}.svg"
            target = media_dir / name
            target.write_text(svg, encoding="utf-8")
            media.append(target)
            alt = str(opts.get("fig-alt") or caption or label).replace("]", "\\]")
            parts.append(f"![{alt}]({media_prefix}{name}){{width={fit_width(svg)}}}")
        elif "text/html" in data and "text/plain" not in data:
            parts.append("```{=html}\n" + _text(data["text/html"]).strip("\n") + "\n```")
        elif "text/plain" in data:
            body = _text(data["text/plain"]).rstrip("\n")
            fence = "````" if "```" in body else "```"
            parts.append(f"{fence} text\n{body}\n{fence}")
        else:
            raise PublishError(f"{where}cell {label}: no supported output among {', '.join(mimes)} "
                               "(text/markdown, image/svg+xml, text/plain)")
        if after:                   # a figure legend moved here by display_copy
            parts.append(after.strip("\n"))
    if not parts:
        raise PublishError(f"{where}cell {label} of {nb_path} has no displayable output")
    cell_id = cell.get("id")
    return Embedded(label=label, kind=kind, caption=None if caption is None else str(caption),
                    options=opts, markdown="\n\n".join(parts) + "\n", notebook=nb_path,
                    cell_id=cell_id, media=media, ard_ids=list(dict.fromkeys(ard_ids)))




# Outputs a report never shows: Quarto prints "Unable to display output for mime type(s)"
# for each (and turns a figure cell with two outputs into sub-figures), and any
# text/html or application/javascript output makes it load RequireJS and jQuery from a CDN
# (its Jupyter-widget support); the display form of our tables is text/markdown.
_REDUNDANT_WITH_MARKDOWN = ("text/html", "text/plain", "application/javascript")
# In Typst output Quarto parses every raw HTML table into a Pandoc table, first running
# `quarto run juice.ts` (a Deno process per table, whose import needs the network);
# this comment (Quarto's documented opt-out) leaves the raw block alone.
NO_TABLE_PROCESSING = "<!--| quarto-html-table-processing: none -->"
_RAW_HTML_FENCE = re.compile(r"^(`{3,})\{=html\}\n", re.M)


def _no_table_processing(markdown: str) -> str:
    if NO_TABLE_PROCESSING in markdown:
        return markdown
    return _RAW_HTML_FENCE.sub(lambda m: m.group(0) + NO_TABLE_PROCESSING + "\n", markdown)


def display_outputs(outputs: list) -> list:
    """The outputs of one cell as a report shows them: no ARD payload, no widget
    views, and only the ``text/markdown`` form where one exists."""
    kept = []
    for out in outputs:
        if out.get("output_type") not in ("display_data", "execute_result"):
            kept.append(out)
            continue
        data = {k: v for k, v in (out.get("data") or {}).items() if k not in IGNORED_MIMES}
        if "text/markdown" in data:
            data = {k: v for k, v in data.items() if k not in _REDUNDANT_WITH_MARKDOWN}
            data["text/markdown"] = _no_table_processing(_text(data["text/markdown"]))
        data.pop("application/javascript", None)
        if data:
            kept.append({**out, "data": data})
    return kept


def display_copy(nb_path: str | Path, dest: str | Path, nb: dict | None = None) -> dict[str, dict]:
    """Write the copy of an executed notebook that the report embeds from (see
    ``display_outputs``; notebook-level widget state dropped too). The ids of the ARD
    rows a cell recorded move to its first remaining output's ``trialsupp.ard_ids``
    metadata, where ``embed_cell`` reads them. In a ``fig-`` cell, markdown shown after
    the image (the figure legend) moves into the image output's ``trialsupp.after``
    metadata: Quarto makes every output of a figure cell a sub-figure.

    Returns ``{label: {"ard_ids": [...], "after": markdown}}`` for the ``fig-`` cells,
    written to ``_results/floats.json`` for the Quarto filter. ``nb``: the notebook at ``nb_path``,
    already parsed (made into the display copy in place)."""
    if nb is None:
        nb = json.loads(Path(nb_path).read_text(encoding="utf-8"))
    nb.get("metadata", {}).pop("widgets", None)
    shown: dict[str, dict] = {}
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        ids = []
        for out in cell.get("outputs", []):
            ids += (out.get("metadata", {}).get("trialsupp") or {}).get("ard_ids", [])
            payload = (out.get("data") or {}).get(ARD_MIME)
            if payload is not None:
                payload = json.loads(payload) if isinstance(payload, str) else payload
                ids += [r["id"] for r in payload.get("rows", [])]
        ids = list(dict.fromkeys(ids))
        outputs = display_outputs(cell.get("outputs", []))
        label = str(cell_options(_text(cell.get("source", ""))).get("label", ""))
        shown_in = [o for o in outputs if o.get("output_type") in ("display_data", "execute_result")]
        after = ""
        if label.startswith("fig-"):
            images = [o for o in shown_in if any(m.startswith("image/") for m in o["data"])]
            notes = [o for o in shown_in if o not in images and "text/markdown" in o["data"]]
            if images and notes and shown_in.index(notes[0]) > shown_in.index(images[0]):
                after = "\n\n".join(_text(o["data"]["text/markdown"]).strip("\n") for o in notes)
                outputs = [o for o in outputs if not any(o is n for n in notes)]
                shown_in = [o for o in shown_in if not any(o is n for n in notes)]
        if (ids or after) and shown_in:
            meta = shown_in[0].setdefault("metadata", {})
            meta["trialsupp"] = {**(meta.get("trialsupp") or {}), "ard_ids": ids,
                                 **({"after": after} if after else {})}
        cell["outputs"] = outputs
        if label.startswith("fig-"):
            shown[label] = {"ard_ids": ids, "after": after}
    # read by the publishers only: compact (the C encoder; an indented copy takes five times longer)
    Path(dest).write_text(json.dumps(nb, ensure_ascii=False) + "\n", encoding="utf-8")
    return shown
