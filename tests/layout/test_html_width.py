"""HTML tables are never wider than the text column (measured in headless Chromium, at the
default window width and at a narrow laptop width)."""
from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]

pytestmark = [pytest.mark.slow, pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed")]

MEASURE = """() => [...document.querySelectorAll('table.ts-table')].map(t => {
  const col = t.closest('main, #quarto-document-content, article, body');
  const cs = getComputedStyle(col);
  const inner = col.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
  return {id: t.id || t.closest('[id]')?.id || '?', table: t.getBoundingClientRect().width,
          scroll: t.scrollWidth, column: inner};
})"""


@pytest.mark.parametrize("study", ["valor", "cdisc"])
@pytest.mark.parametrize("width", [1280, 1000])
def test_tables_fit_the_text_column(study, width, request):
    from playwright.sync_api import sync_playwright
    html = request.getfixturevalue(f"{study}_render").out / "supplement.html"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:"))
                       else r.abort())
            page.goto(html.as_uri(), wait_until="load")
            sizes = page.evaluate(MEASURE)
        finally:
            browser.close()
    assert sizes
    wide = [s for s in sizes if s["table"] > s["column"] + 1 or s["scroll"] > s["column"] + 1]
    assert wide == [], wide[:5]
