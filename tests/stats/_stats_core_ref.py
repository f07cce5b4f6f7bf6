"""Shared loaders for the stats_core reference values (R output) and CDISC pilot data."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
REF = ROOT / "tests" / "reference" / "stats_core" / "reference.json"
PILOT = ROOT / "data" / "cdiscpilot01"
RTOL = 1e-6


@lru_cache(maxsize=None)
def ref() -> dict:
    return json.loads(REF.read_text())


@lru_cache(maxsize=None)
def xpt(name: str) -> pd.DataFrame:
    df = pd.read_sas(PILOT / f"{name}.xpt", format="xport", encoding="latin1")
    return df


def rel_err(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-300)
