"""Shared loaders for the R reference outputs in tests/reference/survival (made by the R scripts there)."""
import json
from pathlib import Path

import numpy as np
import pandas as pd

REF = Path(__file__).resolve().parents[1] / "reference" / "survival"
DATA = Path(__file__).resolve().parents[2] / "data" / "cdiscpilot01"


def load_json(name):
    return json.loads((REF / name).read_text())


def csv(name):
    return pd.read_csv(REF / name)


def adtte():
    import pyreadstat
    from trialsupp.stats.survival import event_from_cnsr
    df, _ = pyreadstat.read_xport(str(DATA / "adtte.xpt"))
    df = df[(df["PARAMCD"] == "TTDE") & (df["SAFFL"] == "Y")].copy()
    df["EVENT"] = event_from_cnsr(df["CNSR"])
    return df


def relerr(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-12)))
