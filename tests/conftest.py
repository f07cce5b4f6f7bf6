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
def study_render(tmp_path_factory):
    """``study_render(study, engine="builtin")``: the study rendered once per test session
    (both engines of a study share one notebook cache, so the second publishes only).
    A Quarto render is skipped only when ``quarto`` is not on PATH (CI installs it)."""
    from trialsupp.pipeline.render import render
    from trialsupp.publish import quarto_available

    root = tmp_path_factory.mktemp("renders")
    done = {}

    def get(study: str, engine: str = "builtin"):
        if engine == "quarto" and not quarto_available():
            pytest.skip("quarto (>= 1.5) is not on PATH; CI installs it with ../shared/tools/quarto/install.sh")
        if (study, engine) not in done:
            old = os.environ.get("TRIALSUPP_CACHE")
            os.environ["TRIALSUPP_CACHE"] = str(root / f"{study}-cache")
            try:
                done[study, engine] = render(study, out=root / engine / study, engine=engine)
            finally:
                if old is None:
                    os.environ.pop("TRIALSUPP_CACHE", None)
                else:
                    os.environ["TRIALSUPP_CACHE"] = old
        return done[study, engine]
    return get


@pytest.fixture(scope="session")
def valor_render(study_render):
    """The default study rendered once per test session (built-in publisher)."""
    return study_render("valor")


@pytest.fixture(scope="session")
def cdisc_render(study_render):
    """CDISCPILOT01 rendered once per test session (built-in publisher, PDF + RTF)."""
    return study_render("cdiscpilot01")
