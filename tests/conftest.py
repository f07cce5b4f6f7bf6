import os
from pathlib import Path

import pytest

from trialsupp.project import add_code_path

PROJECT = Path(__file__).resolve().parents[1]
os.environ.setdefault("TRIALSUPP_PROJECT", str(PROJECT))
os.environ.setdefault("MPLBACKEND", "Agg")
add_code_path(PROJECT)      # the project's own code (src/studies/), as the pipeline does for notebooks


@pytest.fixture(scope="session")
def project_dir() -> Path:
    return PROJECT


@pytest.fixture(scope="session")
def render_isolated():
    """Render a study into a folder with its own notebook cache (nothing shared with the user's)."""
    from trialsupp.pipeline.render import render

    def run(study, out, **kwargs):
        old = os.environ.get("TRIALSUPP_CACHE")
        os.environ["TRIALSUPP_CACHE"] = str(Path(out).parent / f"{Path(out).name}-cache")
        try:
            return render(study, out=out, engine="builtin", **kwargs)
        finally:
            if old is None:
                os.environ.pop("TRIALSUPP_CACHE", None)
            else:
                os.environ["TRIALSUPP_CACHE"] = old
    return run


@pytest.fixture(scope="session")
def valor_render(tmp_path_factory, render_isolated):
    """The default study rendered once per test session (built-in publisher)."""
    return render_isolated("valor", tmp_path_factory.mktemp("valor") / "valor")


@pytest.fixture(scope="session")
def cdisc_render(tmp_path_factory, render_isolated):
    """CDISCPILOT01 rendered once per test session (built-in publisher, PDF + RTF)."""
    return render_isolated("cdiscpilot01", tmp_path_factory.mktemp("cdisc") / "cdisc")
