"""Fixtures for display tests; the ARD builders live in display_ard.py."""
import sys
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
sys.path.insert(0, str(Path(__file__).parent))

from display_ard import baseline_ard  # noqa: E402


@pytest.fixture
def bl_ard():
    return baseline_ard()
