"""Local resources of a rendered HTML page written into the page, as Pandoc's
``--embed-resources`` writes them.

The Quarto path renders HTML without ``embed-resources`` and inlines here what the page
loads (Quarto's minimal HTML: the stylesheet and the figures): Quarto's own embedding
parses the page again and runs Pandoc once more over it, about a second per render.
Like Pandoc: stylesheets become ``<style>`` elements, scripts inline ``<script>``
elements, images ``data:`` URIs (with ``role="img"`` and the alt text as ``aria-label``),
character references as characters. Remote (``http(s)://``) references are not fetched:
the page must have none, which the tests check.
"""
from __future__ import annotations

import base64
import html as _html
import mimetypes
import re
from pathlib import Path
from typing import Iterable

from trialsupp.publish.qmd import PublishError

_TAG = re.compile(r"<(img|script|link)\b([^>]*)>(?:\s*</script>)?", re.I)
_ATTR = re.compile(r'''\s([a-zA-Z_:][-\w:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?''')
_KEEP = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//|#)", re.I)   # data:, http(s):, protocol-relative, anchors
_MIME = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
         ".gif": "image/gif", ".webp": "image/webp", ".css": "text/css", ".js": "application/javascript"}


def _attrs(text: str) -> list[tuple[str, str | None]]:
    out = []
    for m in _ATTR.finditer(text):
        value = next((g for g in m.groups()[1:] if g is not None), None)
        out.append((m.group(1), None if value is None else _html.unescape(value)))
    return out


def _render(tag: str, attrs: list[tuple[str, str | None]]) -> str:
    esc = lambda v: v.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    parts = [tag] + [k if v is None else f'{k}="{esc(v)}"' for k, v in attrs]
    return "<" + " ".join(parts) + ">"


def inline_resources(page: str, search: Iterable[str | Path]) -> tuple[str, list[Path]]:
    """``page`` with its local stylesheets, scripts and images written in; also the files
    read. ``search``: the folders a relative reference may be relative to, in order
    (the page's folder first). Raises PublishError for a local reference not found."""
    folders = [Path(f) for f in search]
    used: list[Path] = []

    def find(ref: str) -> Path:
        rel = _html.unescape(ref).split("#", 1)[0].split("?", 1)[0]
        for folder in folders:
            path = (folder / rel).resolve()
            if path.is_file():
                used.append(path)
                return path
        raise PublishError(f"the HTML page refers to {ref}, which is in none of "
                           + ", ".join(str(f) for f in folders))

    def replace(m: re.Match) -> str:
        tag, attrs = m.group(1).lower(), _attrs(m.group(2))
        names = {k.lower(): v for k, v in attrs}
        if tag == "link":
            href = names.get("href")
            if "stylesheet" not in (names.get("rel") or "").lower().split() or not href or _KEEP.match(href):
                return m.group(0)
            css = find(href).read_text(encoding="utf-8")
            media = f' media="{_html.escape(names["media"])}"' if names.get("media") else ""
            return f'<style type="text/css"{media}>{css}</style>'
        if tag == "script":
            src = names.get("src")
            if not src or _KEEP.match(src):
                return m.group(0)
            js = find(src).read_text(encoding="utf-8").replace("</script", "<\\/script")
            kept = [(k, v) for k, v in attrs if k.lower() != "src"]
            return _render("script", kept) + js + "</script>"
        src = names.get("src")                               # img
        if not src:
            return m.group(0)
        if not _KEEP.match(src):
            path = find(src)
            mime = _MIME.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            src = f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")
        # as Pandoc: role="img" and the alt text as aria-label first, the src in its place
        front = [] if "role" in names else [("role", "img")]
        if names.get("alt") and "aria-label" not in names:
            front.append(("aria-label", names["alt"]))
        kept = [(k, src if k.lower() == "src" else v) for k, v in attrs if k != "/"]
        return _render("img", front + kept)

    return _characters(_TAG.sub(replace, page)), used


_RAW_TEXT = re.compile(r"(<(script|style)\b.*?</\2\s*>)", re.I | re.S)
_ENTITY = re.compile(r"&(?!(?:amp|lt|gt|quot|#39);)(?:[a-zA-Z][a-zA-Z0-9]*|#[0-9]+|#[xX][0-9a-fA-F]+);")


def _characters(page: str) -> str:
    """Text as Pandoc writes the embedded page: character references as characters
    (``&nbsp;`` as U+00A0) but the five that stay escaped, and apostrophes as ``&#39;``;
    scripts, stylesheets and tags as they are."""
    parts = _RAW_TEXT.split(page)
    out = []
    for i, part in enumerate(parts):
        kind = i % 3                      # text, raw element, its tag name (from the split groups)
        if kind == 0:
            out.extend(_text(piece) if j % 2 == 0 else piece for j, piece in enumerate(_TAGS.split(part)))
        elif kind == 1:
            out.append(part)
    return "".join(out)


_TAGS = re.compile(r"(<!--.*?-->|<[^>]*>)", re.S)


def _text(text: str) -> str:
    return _ENTITY.sub(lambda m: _html.unescape(m.group(0)), text).replace("'", "&#39;")
