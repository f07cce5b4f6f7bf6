import os
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
os.environ.setdefault("TRIALSUPP_PROJECT", str(PROJECT))
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def project_dir() -> Path:
    return PROJECT
