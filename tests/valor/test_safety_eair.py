"""Exposure-adjusted adverse event rates (events per 100 participant-years), computed here by
hand from ADSL, ADAE and ADEX of the seed-48 simulated study, final cut."""
from __future__ import annotations

import pandas as pd
import pytest

from studies.valor import safety as A
from studies.valor.simulate.calibrate import cut_datasets
from studies.valor.simulate.valor import simulate


@pytest.fixture(scope="module")
def final():
    return cut_datasets(simulate(seed=48), "final")


def test_eair_ever_treated_by_hand(final):
    adsl, adae, adex = final["adsl"], final["adae"], final["adex"]
    people = adsl.loc[(adsl["SAFFL"] == "Y") & (adsl["TOFFL"] == "Y"), "USUBJID"]
    doses = adex[(adex["TRTA"] == "Tofersen 100 mg") & adex["USUBJID"].isin(adsl.loc[adsl["SAFFL"] == "Y", "USUBJID"])]
    d = pd.to_datetime(doses["ASTDT"])
    span = d.groupby(doses["USUBJID"]).agg(lambda x: (x.max() - x.min()).days)
    years = float(((span + 28) / 365.25).sum())
    ae = adae[(adae["TRTA"] == "Tofersen 100 mg") & adae["USUBJID"].isin(people)]
    ard = A.eair_ard(adsl, adae, adex)
    row = ard[(ard["group1_level"] == A.EVER_TOF)]
    for key, sel in (("any", ae), ("serious", ae[ae["AESER"] == "Y"])):
        r = row[row["variable_level"] == key].set_index("stat_name")["stat"]
        assert int(r["n_events"]) == len(sel)
        assert float(r["rate"]) == pytest.approx(100 * len(sel) / years, rel=1e-12)


def test_eair_valor_placebo_has_no_tofersen_exposure_mixed_in(final):
    """Placebo column: VALOR-period events over VALOR-period (placebo) dosing only."""
    adsl, adae, adex = final["adsl"], final["adae"], final["adex"]
    pbo = adsl.loc[(adsl["SAFFL"] == "Y") & (adsl["TRT01P"] == "Placebo"), "USUBJID"]
    doses = adex[(adex["APERIOD"] == 1) & adex["USUBJID"].isin(pbo)]
    d = pd.to_datetime(doses["ASTDT"])
    years = float((((d.groupby(doses["USUBJID"]).agg(lambda x: (x.max() - x.min()).days)) + 28) / 365.25).sum())
    n = int(((adae["APERIOD"] == 1) & adae["USUBJID"].isin(pbo)).sum())
    r = A.eair_ard(adsl, adae, adex)
    r = r[(r["group1_level"] == "Placebo") & (r["variable_level"] == "any")].set_index("stat_name")["stat"]
    assert int(r["n_events"]) == n and float(r["rate"]) == pytest.approx(100 * n / years, rel=1e-12)
