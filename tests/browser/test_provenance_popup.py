"""Browser test of the provenance popups (Playwright + Debian chromium, headless).

The mini fixture project (tests/pipeline/mini_project.py) is rendered to HTML and
served from 127.0.0.1; keyboard focus and hover on a number show its provenance
(statistic, method, population, notebook/cell link, input SHA-256), Escape hides
it, the page logs nothing and requests nothing from any other host. A second test
opens the supplement of the hostile-labels project (tests/hardening) and checks
that no data label runs as script.
"""
from __future__ import annotations

import functools
import importlib.util
import json
import os
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]
TESTS = Path(__file__).resolve().parents[1]

pytestmark = [pytest.mark.slow, pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                 reason=f"{CHROMIUM} is not installed (CI installs Debian chromium: see .ci/run)")]


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _render(root: Path, study: Path, out: Path) -> None:
    env = {**os.environ, "TRIALSUPP_PROJECT": str(root), "TRIALSUPP_CACHE": str(root / ".cache")}
    proc = subprocess.run([sys.executable, "-m", "trialsupp.cli", "render", "--study", str(study), "--out", str(out),
                           "--engine", "builtin", "--to", "html", "-q"], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture()
def serve():
    servers = []

    def start(folder: Path) -> str:
        handler = functools.partial(_Quiet, directory=str(folder.resolve()))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)      # a free port
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


@pytest.fixture()
def browser_page():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context()
        log = {"console": [], "errors": [], "requests": [], "dialogs": []}

        def route(r):
            host = urlparse(r.request.url).hostname
            if r.request.url.startswith(("data:", "blob:", "about:")) or host == "127.0.0.1":
                r.continue_()
            else:
                r.abort()                    # never reach the network; recorded below

        context.route("**/*", route)
        page = context.new_page()
        page.on("console", lambda m: log["console"].append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: log["errors"].append(str(e)))
        page.on("request", lambda r: log["requests"].append(r.url))
        page.on("dialog", lambda d: (log["dialogs"].append(d.message), d.dismiss()))
        try:
            yield page, log
        finally:
            context.close()
            browser.close()


def _assert_local_only(log: dict) -> None:
    foreign = [u for u in log["requests"]
               if not u.startswith(("data:", "blob:", "about:")) and urlparse(u).hostname != "127.0.0.1"]
    assert foreign == []


@pytest.fixture(scope="module")
def mini_out(tmp_path_factory):
    mini = _load(TESTS / "pipeline" / "mini_project.py", "_ts_mini_project")
    root = tmp_path_factory.mktemp("browser-mini")
    study = mini.make_project(root)
    out = root / "_output" / "mini"
    _render(root, study, out)
    return out


def _tab_to_stat(page, limit: int = 400) -> str:
    """Press Tab until a number inside a table has the focus; its ARD ids."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        ids = page.evaluate("() => { const a = document.activeElement;"
                            " return a && a.classList.contains('ts-stat') && a.closest('table.ts-table')"
                            " ? a.getAttribute('data-ard') : null; }")
        if ids:
            return ids
    raise AssertionError("no .ts-stat number received keyboard focus")


def test_provenance_popup(mini_out, serve, browser_page):
    page, log = browser_page
    base = serve(mini_out)
    rows = {r["id"]: r for r in json.loads((mini_out / "ard.json").read_text(encoding="utf-8"))["rows"]}
    page.goto(f"{base}/supplement.html", wait_until="load")
    pop = page.locator("#ts-pop")
    assert pop.count() == 1 and pop.is_hidden()

    # keyboard: Tab (past the parameter values of the first page) to the first number of the table
    ids = _tab_to_stat(page)
    row = rows[ids.split()[0]]
    pop.wait_for(state="visible", timeout=5000)
    text = pop.inner_text()
    assert row["stat_label"] in text or row["stat_name"] in text
    assert "Method" in text and row["method"] in text
    assert "Population" in text and row["population"] in text
    assert "Notebook" in text and row["notebook"] in text and f"cell {row['cell_id']}" in text
    sha = row["inputs"]["adsl"]
    assert len(sha) == 64 and f"sha256:{sha[:16]}" in text
    assert "Input adsl" in text

    link = pop.locator("a")
    href = link.get_attribute("href")
    nb_name = Path(row["notebook"]).stem
    assert href == f"notebooks/{nb_name}.html#{row['cell_id']}"
    preview = mini_out / "notebooks" / f"{nb_name}.html"
    assert preview.is_file()
    assert f'id="{row["cell_id"]}"' in preview.read_text(encoding="utf-8")

    page.keyboard.press("Escape")
    pop.wait_for(state="hidden", timeout=5000)

    # mouse: hover another number
    stats = page.locator(".ts-stat")
    assert stats.count() > 4
    target = stats.nth(3)
    page.mouse.move(0, 0)
    page.locator("h1, body").first.click(position={"x": 1, "y": 1})       # move focus away
    target.scroll_into_view_if_needed()
    target.hover()
    pop.wait_for(state="visible", timeout=5000)
    hovered = rows[target.get_attribute("data-ard").split()[0]]
    assert hovered["method"] in pop.inner_text() and hovered["id"] in pop.inner_text()

    # the link opens the notebook preview from the same server
    resp = page.request.get(f"{base}/{href.split('#')[0]}")
    assert resp.ok

    assert log["console"] == [] and log["errors"] == [] and log["dialogs"] == []
    _assert_local_only(log)


def test_hostile_labels_do_not_run_in_the_browser(tmp_path, serve, browser_page):
    hostile = _load(TESTS / "hardening" / "hostile_project.py", "_ts_hostile_project")
    root = tmp_path / "project"
    root.mkdir()
    study = hostile.make_project(root)
    out = root / "_output" / "hostile"
    _render(root, study, out)
    page, log = browser_page
    base = serve(out)
    page.goto(f"{base}/supplement.html", wait_until="load")
    # every hostile term is text in a row label, not markup
    stubs = page.locator("td.ts-stub").all_inner_texts()
    for term in hostile.TERMS:
        assert term in [s.strip() for s in stubs]
    assert page.locator("img[src='x']").count() == 0
    # show every popup (they print the labels too)
    stats = page.locator(".ts-stat")
    for i in range(stats.count()):
        stats.nth(i).focus()
        page.locator("#ts-pop").wait_for(state="visible", timeout=5000)
    row = page.locator("tr", has=page.locator("td.ts-stub", has_text=hostile.SCRIPT))
    row.locator(".ts-stat").first.focus()
    assert f"AETERM = {hostile.SCRIPT}" in page.locator("#ts-pop").inner_text()     # as text
    assert page.evaluate("() => window.__pwned === undefined")
    assert log["dialogs"] == [] and log["errors"] == [] and log["console"] == []
    _assert_local_only(log)
