"""Safe output: hostile labels from the DATA flow through the full pipeline
(Parquet -> notebook -> ARD -> HTML, PDF, RTF) and show as text; the HTML loads
nothing from the network; string parameters cannot inject code."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from pypdf import PdfReader

from trialsupp.study import ConfigError, load_study, resolve_params

from .hostile_project import IMG, QUOTE, RTF, SCRIPT, TERMS, TYPST, make_project

pytestmark = pytest.mark.slow

INJECTION = "x'; import os; os.system('touch {marker}') #"


def _env(root: Path, cache: Path) -> dict:
    return {**os.environ, "TRIALSUPP_PROJECT": str(root), "TRIALSUPP_CACHE": str(cache),
            "PYTHONUNBUFFERED": "1"}


def _cli(*args, env):
    return subprocess.run([sys.executable, "-m", "trialsupp.cli", *args], capture_output=True, text=True,
                          env=env, timeout=300)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    study = make_project(root)
    out = root / "_output" / "hostile"
    proc = _cli("render", "--study", str(study), "--out", str(out), "--engine", "builtin", "-q",
                env=_env(root, root / ".cache"))
    assert proc.returncode == 0, proc.stderr
    return root, study, out


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.stub_text: list[str] = []
        self.script_bodies: list[str] = []
        self._in_stub = False
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "td" and "ts-stub" in (a.get("class") or "").split():
            self._in_stub = True
            self.stub_text.append("")
        if tag == "script":
            self._in_script = True
            self.script_bodies.append("")

    def handle_endtag(self, tag):
        if tag == "td":
            self._in_stub = False
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_stub:
            self.stub_text[-1] += data
        if self._in_script:
            self.script_bodies[-1] += data


def test_hostile_labels_are_text_in_the_html(rendered):
    _, _, out = rendered
    html = (out / "supplement.html").read_text(encoding="utf-8")
    p = _Tags()
    p.feed(html)
    # each term is shown, verbatim, as the text of a row label
    for term in TERMS:
        assert term in [t.strip() for t in p.stub_text], term
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # no element from the data: the only scripts are the ARD JSON and provenance.js
    scripts = [a for t, a in p.tags if t == "script"]
    assert len(scripts) >= 1 and all("src" not in a for a in scripts)
    for body in p.script_bodies:
        assert "alert(" not in body or "\\u003cscript\\u003ealert(1)" in body
    assert not [a for t, a in p.tags if t == "img" and a.get("src") == "x"]
    handlers = [(t, k) for t, a in p.tags for k in a if k.lower().startswith("on")]
    assert handlers == [], handlers
    # the ARD JSON inside <script> cannot close its element
    for body in p.script_bodies:
        assert "</script" not in body.lower()


RESOURCE_ATTRS = ("src", "href", "data", "poster", "srcset", "action", "formaction", "xlink:href",
                  "background", "manifest", "ping", "cite", "longdesc", "archive", "codebase")


def test_html_loads_nothing_from_the_network(rendered):
    _, _, out = rendered
    html = (out / "supplement.html").read_text(encoding="utf-8")
    p = _Tags()
    p.feed(html)
    remote = re.compile(r"^\s*(https?:|ftp:|wss?:)?//", re.I)
    bad = [(t, k, v) for t, a in p.tags for k, v in a.items()
           if k.lower() in RESOURCE_ATTRS and v and remote.match(v)]
    assert bad == [], bad
    # no remote url() or @import in inline CSS or style attributes
    assert not re.search(r"url\(\s*['\"]?\s*(https?:)?//", html, re.I)
    assert not re.search(r"@import", html, re.I)
    assert not [a for t, a in p.tags if t == "link" and (a.get("rel") or "").lower() in
                ("preconnect", "dns-prefetch", "prefetch", "preload", "modulepreload")]


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_hostile_labels_compile_in_the_pdf(rendered):
    _, _, out = rendered
    text = _norm(" ".join(page.extract_text() or "" for page in PdfReader(str(out / "supplement.pdf")).pages))
    for term in TERMS:
        assert _norm(term) in text, term


def _rtf_depth_ok(rtf: str) -> bool:
    depth, i = 0, 0
    while i < len(rtf):
        c = rtf[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth < 0:
                return False
        i += 1
    return depth == 0


def test_hostile_labels_are_escaped_in_the_rtf(rendered):
    _, _, out = rendered
    rtf = (out / "t-events.rtf").read_bytes().decode("ascii")
    assert rtf.startswith("{\\rtf1") and _rtf_depth_ok(rtf)
    assert "\\{\\\\rtf1\\\\b brace\\} \\}\\{ back\\\\slash" in rtf           # { } \ escaped
    assert SCRIPT in rtf                                                      # inert in RTF
    assert "#panic(\"boom\") $x^2$ @ref *bold* _emph_ `raw` <lab> a\\\\b" in rtf
    # exactly one document: the data cannot open a second {\rtf1 group
    assert len(re.findall(r"(?<!\\)\{\\rtf1", rtf)) == 1


def test_ard_holds_the_labels_verbatim(rendered):
    _, _, out = rendered
    rows = json.loads((out / "ard.json").read_text(encoding="utf-8"))["rows"]
    levels = {r["variable_level"] for r in rows if r["variable"] == "AETERM"}
    assert levels == set(TERMS)
    assert {IMG, QUOTE, RTF, TYPST} <= levels


# ---- parameters ----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["label", "population"])
def test_string_parameter_cannot_inject_code_resolve(tmp_path, name):
    root = tmp_path / "p"
    root.mkdir()
    study = load_study(str(make_project(root)), root)
    with pytest.raises(ConfigError, match=f"parameter '{name}'"):
        resolve_params(study, {name: INJECTION.format(marker=tmp_path / "pwned")})


@pytest.mark.parametrize("value", [
    'a"; import os #', "a\\nimport os", "a\nimport os", "a`id`", "${HOME}", "a'b", "{{7*7}}",
])
def test_str_parameter_refuses_quotes_backslashes_newlines(tmp_path, value):
    root = tmp_path / "p"
    root.mkdir()
    study = load_study(str(make_project(root)), root)
    with pytest.raises(ConfigError, match="must be plain text"):
        resolve_params(study, {"label": value})


@pytest.mark.parametrize("name", ["label", "population"])
def test_string_parameter_cannot_inject_code_render(tmp_path, name):
    root = tmp_path / "p"
    root.mkdir()
    study = make_project(root)
    marker = tmp_path / "pwned"
    out = root / "_output" / "hostile"
    proc = _cli("render", "--study", str(study), "--out", str(out), "--engine", "builtin", "-q",
                "-P", f"{name}={INJECTION.format(marker=marker)}", env=_env(root, tmp_path / "cache"))
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith(f"trialsupp: error: parameter '{name}': ")
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert not marker.exists()
    # refused before any work: no output, no version folder, no cache entry
    assert not out.parent.exists() or not any(out.parent.iterdir())
    assert not (tmp_path / "cache").exists()


def test_results_store_is_as_readable_as_the_supplement(rendered):
    _, _, out = rendered
    html_mode = (out / "supplement.html").stat().st_mode & 0o777
    for name in ("ard.json", "ard.csv", "run.json"):
        assert (out / name).stat().st_mode & 0o777 == html_mode, name
