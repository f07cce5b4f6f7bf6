"""CDISCPILOT01 regulatory appendix: published 14-5.01 digits, the fast AE path, RTF validity.

Published values: tests/reference/cdiscpilot01/published_ae.json (Atorus CDISC Pilot
Replication, outputs/14-5.01.rtf), compared as printed: the P value format of 14-5.01 is set in the
study's format_rules.outputs (">.99"), and "*" flags P < 0.15 as in the shell.
"""
import json
from pathlib import Path

import pandas as pd
import pytest
from scipy.stats import fisher_exact

from studies.cdiscpilot01 import safety as S
from studies.cdiscpilot01 import tables as T
from studies.cdiscpilot01.common import ARMS, arm_categorical
from trialsupp.ard.fmt import CSR
from trialsupp.ard.store import place
from trialsupp.data.io import read_dataset
from trialsupp.study import load_study

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "cdiscpilot01"
PUB = json.loads((ROOT / "tests/reference/cdiscpilot01/published_ae.json").read_text())
STUDY = load_study("cdiscpilot01", ROOT)
R5_01 = STUDY.format_rules_for("14-5.01")   # the shell's P values: 3 decimals, ">.99", "*" below 0.15


@pytest.fixture(scope="module")
def ae_table():
    adsl, adae = read_dataset(DATA / "adsl.xpt"), read_dataset(DATA / "adae.xpt")
    placed = place(S.t14_5_01(adae, adsl), output="14-5.01", analysis_id="teae", population="Safety",
                   rules=R5_01)
    return placed, T.t_ae(placed, "Incidence of Treatment Emergent Adverse Events", S.ANY, rules=R5_01), adsl, adae


def _ws(text: str) -> str:
    return "".join(text.split())


def test_14_5_01_published_whole_table(ae_table):
    """Every printed body cell of 14-5.01 (254 rows x 8), row order and labels included."""
    placed, t, _, _ = ae_table
    pub = PUB["14-5.01"]
    keys = [c.key for c in t.data.columns]
    assert len(keys) == 8
    ours = [[r.label] + [r.cell(k).text for k in keys] for r in t.data.rows]
    assert [r[0] for r in ours] == [r[0] for r in pub["rows"]]         # same rows, same order
    known = {(d["row"], d["column"]): d for d in pub["deliberate_differences"]}
    compared = same = 0
    for got, want in zip(ours, pub["rows"]):
        for col, g, w in zip(pub["columns"], got[1:], want[1:]):
            compared += 1
            if _ws(g) == _ws(w):
                same += 1
                continue
            d = known[(got[0], col)]                                       # unlisted difference fails here
            assert (_ws(d["published"]), _ws(d["project"])) == (_ws(w), _ws(g))
    assert compared == 254 * 8 == 2032
    assert same == compared - len(known) == 2027
    # the listed cells differ only in the print of P < 0.001: check the P values themselves
    tests = placed[placed["stat_name"] == "p.value"]
    for d in known.values():
        arm = ARMS[1] if d["column"].endswith("Low") else ARMS[2]
        term = tests[(tests["group1_level"] == arm) & (tests["variable_level"].astype(str) == d["row"])]
        p = float(term["stat"].iloc[0])
        assert p < 0.001
        assert f"{p:.3f}*" == d["published"]                              # Atorus: 3 decimals, half-way up


def test_14_5_01_comparisons_name_both_groups(ae_table):
    placed = ae_table[0]
    tests = placed[placed["stat_name"] == "p.value"]
    assert len(tests) > 100
    assert set(tests["group1_level"]) == {ARMS[1], ARMS[2]}
    assert (tests["context"] == "pairwise test vs Placebo").all()
    assert all(m.endswith(f"{a} vs Placebo") for m, a in zip(tests["method"], tests["group1_level"]))


def test_14_5_01_header_n_bound(ae_table):
    _, t, _, _ = ae_table
    for col, arm in zip([c for c in t.data.columns if c.key.endswith("|n")], ARMS):
        stat = [p for p in col.header.parts if not isinstance(p, str)]
        assert stat and stat[0].text == PUB["14-5.01"]["header_N"][arm] and stat[0].ids


def test_fast_counts_equal_ard_tabulate(ae_table):
    _, _, adsl, adae = ae_table
    denom = arm_categorical(adsl[adsl["SAFFL"] == "Y"].assign(TRTA=lambda x: x["TRT01A"]), "TRTA", "TRT01AN")
    ae = arm_categorical(adae[(adae["SAFFL"] == "Y") & (adae["TRTEMFL"] == "Y")], "TRTA", "TRTAN")
    ae = ae[ae["AEBODSYS"].isin(sorted(ae["AEBODSYS"].unique())[:3])]
    for var in ("AEBODSYS", "AETERM"):
        fast, slow = S._counts(ae, var, denom), S._counts_slow(ae, var, denom)
        pd.testing.assert_frame_equal(fast.astype(str), slow.astype(str))


@pytest.mark.parametrize("tab", [(65, 21, 77, 7), (2, 84, 7, 77), (0, 86, 1, 83), (4, 82, 2, 82), (1, 85, 1, 83)])
def test_fisher_2x2_closed_form(tab):
    a, b, c, d = tab
    _, p = S._fisher_2x2(a, b, c, d)
    assert p == pytest.approx(fisher_exact([[a, b], [c, d]])[1], rel=1e-10)


def _rtf_ok(text: str) -> None:
    assert text.startswith("{\\rtf1")
    depth = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2          # escaped char or start of a control word
            continue
        depth += ch == "{"
        depth -= ch == "}"
        assert depth >= 0, f"unbalanced '}}' at {i}"
        i += 1
    assert depth == 0, "unbalanced '{'"
    assert all(ord(ch) < 128 for ch in text)


def test_rtf_valid_with_csr_header_footer(ae_table):
    _, t, _, _ = ae_table
    text = t.to_rtf(**T.rtf_options("14-5.01", "Safety", program="notebooks/cdiscpilot01/safety.ipynb, cell t-14-5-01"))
    _rtf_ok(text)
    for needle in ("Table 14-5.01", "Population: Safety", "Protocol: CDISCPILOT01", "NUMPAGES",
                   "Source: notebooks/cdiscpilot01/safety.ipynb, cell t-14-5-01", "Data cut: none",
                   "65 (75.6%)", "[281]", "0.007"):
        plain = text.replace("\\u160?", " ")          # statistics keep non-breaking spaces
        assert needle.replace("\\", "\\\\") in plain or needle in plain, needle
