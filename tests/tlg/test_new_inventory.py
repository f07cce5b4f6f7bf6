"""`trialsupp new` inspection on real-world variations of the CDISC pilot ADaM: no ITTFL,
screen failures in ADSL, no TRTA in ADAE, several ADTTE parameters, missing variables."""
from pathlib import Path

import pandas as pd
import pytest

from trialsupp.data.io import read_dataset
from trialsupp.scaffold import inspect_adam

ROOT = Path(__file__).resolve().parents[2]
PILOT = ROOT / "data" / "cdiscpilot01"


@pytest.fixture(scope="module")
def varied(tmp_path_factory):
    """ADSL without ITTFL plus two screen failures, ADAE without TRTA/TRTEMFL, ADTTE with 4 parameters,
    ADLB without AVISIT, no ADEX and no TRTDURD."""
    d = tmp_path_factory.mktemp("adam")
    adsl = read_dataset(PILOT / "adsl.xpt").drop(columns=["ITTFL", "TRTDURD"])
    sf = adsl.iloc[:2].copy()
    sf["USUBJID"] = ["SF-1", "SF-2"]
    sf[["ARM", "TRT01P", "TRT01A"]] = "Screen Failure"
    sf["SAFFL"] = "N"
    pd.concat([adsl, sf], ignore_index=True).to_parquet(d / "adsl.parquet")
    read_dataset(PILOT / "adae.xpt").drop(columns=["TRTA", "TRTAN", "TRTEMFL"]).to_parquet(d / "adae.parquet")
    tte = read_dataset(PILOT / "adtte.xpt")
    frames = [tte.assign(PARAMCD=f"T{i}", PARAM=f"Time to event {i}") for i in range(4)]
    pd.concat(frames, ignore_index=True).to_parquet(d / "adtte.parquet")
    lb = read_dataset(PILOT / "adlbc.xpt")
    lb[lb["PARAMCD"] == "K"].drop(columns=["AVISIT"]).to_parquet(d / "adlbx.parquet")
    return d


def test_defaults_are_chosen_and_said(varied):
    inv = inspect_adam(varied)
    text = inv.report()
    assert "baseline population: FASFL" not in text
    assert "baseline population: SAFFL = Y (ADSL has no ITTFL)" in text
    assert "2 ADSL subject(s) with TRT01A 'Screen Failure'" in text
    assert "ADAE has no TRTEMFL; every AE record is counted" in text
    assert "ADAE has no TRTA; arm TRT01A from ADSL" in text
    assert "ADTTE: 4 parameters; the first 3 get a table and a Kaplan-Meier figure: T0, T1, T2" in text
    assert "ADLBX summary by visit: missing ADLBX.AVISIT" in text
    assert "exposure: neither ADSL.TRTDURD nor ADEX (PARAMCD, AVAL)" in text


def test_outputs_and_their_calls(varied):
    inv = inspect_adam(varied)
    keys = [o.key for o in inv.outputs]
    assert keys == ["demographics", "disposition", "ae-overview", "ae-soc-pt", "time-to-event"]
    tte = next(o for o in inv.outputs if o.key == "time-to-event")
    assert [c[0] for c in tte.cells] == ["tbl-tte-t0", "fig-km-t0", "tbl-tte-t1", "fig-km-t1",
                                         "tbl-tte-t2", "fig-km-t2"]
    demog = inv.outputs[0].cells[0][2]
    assert "arm='TRT01P', pop_flag='SAFFL'" in demog
    ae = next(o for o in inv.outputs if o.key == "ae-soc-pt").cells[0][2]
    assert "emergent=None" in ae and "arm='TRT01A', pop_flag='SAFFL'" in ae


def test_generated_calls_run_on_the_varied_data(varied):
    """The code written into the notebooks runs on these data (no hand edit)."""
    import matplotlib
    matplotlib.use("Agg")
    from trialsupp import tlg
    from trialsupp.ard.fmt import JAMA
    from trialsupp.ard.store import place
    inv = inspect_adam(varied)

    class S:
        data = inv.datasets
    s, layout = S(), "jama"
    for o in inv.outputs:
        for label, _, code in o.cells:
            env = {"tlg": tlg, "s": s, "layout": layout}
            exec(code, env)
            out = env["out"]
            placed = place(out.ard, output=label, analysis_id=out.name, population=out.population, rules=JAMA)
            assert out.display(placed, JAMA) is not None
            if out.name == "demographics":
                n = placed[(placed["variable"] == "TRT01P") & (placed["variable_level"] == "Total")]
                assert n["stat"].iloc[0] == 254          # screen failures left out


def test_no_adsl_is_a_clear_error(tmp_path):
    read_dataset(PILOT / "adae.xpt").to_parquet(tmp_path / "adae.parquet")
    with pytest.raises(FileNotFoundError, match="no ADSL"):
        inspect_adam(tmp_path)
