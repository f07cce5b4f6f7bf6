"""One reproducible render of the VALOR supplement, shared by the standards tests
(ARS export, Word, accessibility, byte reproducibility)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

EPOCH = "1725062400"          # 2024-08-31T00:00:00Z, the final data cut


@pytest.fixture(scope="session")
def valor_render(tmp_path_factory, render_isolated):
    reuse = os.environ.get("TRIALSUPP_TEST_REUSE_VALOR")    # developer shortcut: an existing render
    if reuse:
        from types import SimpleNamespace
        return SimpleNamespace(out=Path(reuse))
    out = tmp_path_factory.mktemp("std-a") / "valor"
    old = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = EPOCH
    try:
        result = render_isolated("valor", out, formats=("html", "pdf", "docx"))
    finally:
        if old is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = old
    return result


@pytest.fixture(scope="session")
def cdisc_render(tmp_path_factory, render_isolated):
    """The CDISC pilot appendix (CSR layout) with Word outputs."""
    return render_isolated("cdiscpilot01", tmp_path_factory.mktemp("csr") / "cdisc",
                           formats=("html", "pdf", "docx")).out
