"""Calibration of the simulated VALOR/OLE study against the published figures.

THE DATA ARE SIMULATED; the published figures (``../shared/valor-published-figures.md``)
are the calibration targets. Each registered :class:`Figure` names the published
value (and 95% CI where one is given), its source text, the data cut it belongs
to, and the key of the simulated value computed from the cut datasets with the
*same* analysis functions the notebooks use (``studies.valor``).

Tolerance (``verdict``):

* ``ci`` (a published 95% CI): the simulated estimate lies inside the published CI,
  the simulated CI lies on the same side of the null (0; 1 for ratios) as the
  published CI (or, like it, includes the null), and the simulated CI width is
  ``WIDTH_RANGE`` (0.75-1.33) times the published width, on the log scale for
  ratios and the natural scale otherwise: the simulated trial carries about the
  published statistical information (event counts, variability, dropout);
* ``relative``: within ``REL_TOL`` (15%) of the published point estimate or, when the simulated
  value has a 95% CI, the published value inside it (a trial with the published precision
  varies by more than 15% between seeds; the published value must then be consistent with it).
  Reviewed for issue 18: kept, because the per-seed 15% rule cannot be met by a trial that
  carries the published information (the CI-width rule): over the screened seeds of the
  recalibrated model only 11-79% of seeds were within 15% for the week-28 to week-148 means,
  the stabilized share and the ALSAQ-40 difference, so no seed met all of them at once. The
  15% rule is what the model is held to in expectation: the median over replicate seeds
  (``median_within``; ``trialsupp calibrate --replicates`` fails when a median misses it). The
  stabilized share carries its Clopper-Pearson 95% CI for the same reason (about 46 assessed);
* ``pvalue``: a P value on the same side of 0.05 as the published one (a P value
  is a random quantity; the conclusion is what is calibrated);
* ``exact``: equal (counts fixed by construction).

Over replicate seeds the median estimate is held to the point part of the rule
(``within_tolerance``: inside the published CI, within 15%, ...).

``calibrate(seed)`` evaluates every figure for one seed; with ``replicates`` it
also runs seeds ``seed + 1 ... seed + replicates`` on Dask (``trialsupp.pipeline.distributed``:
a local cluster of ``jobs`` processes, or ``scheduler``) and reports
the median simulated value and the share of seeds passing the full rule.
``replicate_headlines`` is the fast benchmark path and ``screen_seeds`` the fast
pre-screen of the default-seed search (see their docstrings).
"""
from __future__ import annotations

import os

import math
import time
import warnings
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

REL_TOL = 0.15
WIDTH_RANGE = (0.75, 1.33)
P_THRESHOLD = 0.05
DEFAULT_REPLICATES = 200


@dataclass(frozen=True)
class Figure:
    name: str                       # key of the simulated value
    label: str                      # display label
    published: float
    ci: tuple[float, float] | None
    source: str                     # wording of the published record
    cut: str                        # data cut: "12-month" or "final"
    rule: str                       # ci | relative | pvalue | exact
    fmt: str = "d2"                 # ARD format spec of the values
    section: str = "Efficacy"


FIGURES: tuple[Figure, ...] = (
    # ---- design / disposition (exact by construction)
    Figure("n_randomized", "Randomized, No.", 108, None, "108 randomized (2:1)", "final", "exact", "int", "Design"),
    Figure("n_faster", "Faster progression subgroup, No.", 60, None, "Faster progression, 60 (tofersen, 39; placebo, 21)",
           "final", "exact", "int", "Design"),
    Figure("n_ole", "Entered the OLE, No.", 95, None, "95 of 108 (88%) entered the OLE", "final", "exact", "int",
           "Design"),
    Figure("n_ole_completed", "Completed the OLE, No.", 46, None, "46 completed (early start, 34; delayed start, 12)",
           "final", "exact", "int", "Design"),
    Figure("age_early", "Age, early start, mean, y", 48.1, None, "Age, mean (SD), 48.1 (12.6) y", "final", "relative",
           "d1", "Baseline"),
    Figure("age_delayed", "Age, placebo / delayed start, mean, y", 51.2, None, "Age, mean (SD), 51.2 (11.6) y", "final",
           "relative", "d1", "Baseline"),
    # ---- week 28, faster progression
    Figure("w28_alsfrs_tof", "ALSFRS-R change to week 28, tofersen, faster progression", -6.98, None,
           "Tofersen, \u22126.98 (primary, faster progression)", "12-month", "relative", "d2"),
    Figure("w28_alsfrs_pbo", "ALSFRS-R change to week 28, placebo, faster progression", -8.14, None,
           "Placebo, \u22128.14", "12-month", "relative", "d2"),
    Figure("w28_alsfrs_diff", "ALSFRS-R difference at week 28, faster progression", 1.2, (-3.2, 5.5),
           "Difference, 1.2 (95% CI, \u22123.2 to 5.5)", "12-month", "ci", "d1"),
    Figure("w28_jointrank_p", "Joint rank test P value, week 28", 0.97, None, "P = .97 (joint rank test)",
           "12-month", "pvalue", "pvalue"),
    # ---- week 52, early vs delayed start (12-month integrated analysis)
    Figure("w52_alsfrs_early", "ALSFRS-R change to week 52, early start", -6.0, None, "\u22126.0 vs \u22129.5",
           "12-month", "relative", "d1"),
    Figure("w52_alsfrs_delayed", "ALSFRS-R change to week 52, delayed start", -9.5, None, "\u22126.0 vs \u22129.5",
           "12-month", "relative", "d1"),
    Figure("w52_alsfrs_diff", "ALSFRS-R difference at week 52, early minus delayed start", 3.5, (0.4, 6.7),
           "Adjusted mean difference, 3.5 (95% CI, 0.4-6.7)", "12-month", "ci", "d1"),
    Figure("w52_alsfrs_p", "ALSFRS-R difference at week 52, nominal P", 0.03, None, "P = .03 (nominal)",
           "12-month", "pvalue", "pvalue"),
    Figure("w52_svc_diff", "SVC (% predicted) difference at week 52", 9.2, (1.7, 16.6),
           "Adjusted mean difference, 9.2 (95% CI, 1.7-16.6)", "12-month", "ci", "d1"),
    # "about 10% difference": read as a relative difference, 100 x (1 - ratio of the geometric
    # mean ratios to baseline, early / delayed), from the log-scale ANCOVA the biomarkers use
    Figure("w52_alsaq_diff", "ALSAQ-40 relative difference at week 52, % (early vs delayed)", 10.0, None,
           "About 10% difference favoring early start", "12-month", "relative", "d1"),
    Figure("w52_alsaq_p", "ALSAQ-40 difference at week 52, nominal P", 0.004, None, "Nominal P = .004",
           "12-month", "pvalue", "pvalue"),
    # ---- week 148 (final analysis)
    Figure("w148_alsfrs_early", "ALSFRS-R change to week 148, early start", -9.9, None, "ALSFRS-R, \u22129.9 vs \u221213.5",
           "final", "relative", "d1"),
    Figure("w148_alsfrs_delayed", "ALSFRS-R change to week 148, delayed start", -13.5, None,
           "ALSFRS-R, \u22129.9 vs \u221213.5", "final", "relative", "d1"),
    Figure("w148_svc_early", "SVC change to week 148, early start", -13.8, None, "SVC, \u221213.8 vs \u221218.1",
           "final", "relative", "d1"),
    Figure("w148_svc_delayed", "SVC change to week 148, delayed start", -18.1, None, "SVC, \u221213.8 vs \u221218.1",
           "final", "relative", "d1"),
    Figure("w148_hhd_early", "HHD megascore change to week 148, early start", -0.38, None,
           "HHD megascore, \u22120.38 vs \u22120.43", "final", "relative", "d2"),
    Figure("w148_hhd_delayed", "HHD megascore change to week 148, delayed start", -0.43, None,
           "HHD megascore, \u22120.38 vs \u22120.43", "final", "relative", "d2"),
    Figure("stabilised_share", "Stabilized or improved at week 148, early start, %", 0.25, None,
           "About one-quarter stabilized or improved over about 3 years", "final", "relative", "pct0"),
    # ---- biomarkers (geometric mean ratio to baseline)
    Figure("w28_sod1_tof", "CSF SOD1 GMR to baseline, week 28, tofersen", 0.71, None, "About \u221229% with tofersen",
           "12-month", "relative", "d2", "Biomarkers"),
    Figure("w28_sod1_pbo", "CSF SOD1 GMR to baseline, week 28, placebo", 1.16, None, "About +16% with placebo",
           "12-month", "relative", "d2", "Biomarkers"),
    Figure("w28_nfl_tof", "Plasma NfL GMR to baseline, week 28, tofersen", 0.40, None, "About \u221260% with tofersen",
           "12-month", "relative", "d2", "Biomarkers"),
    Figure("w28_nfl_pbo", "Plasma NfL GMR to baseline, week 28, placebo", 1.20, None, "About +20% with placebo",
           "12-month", "relative", "d2", "Biomarkers"),
    Figure("w148_nfl_early", "Plasma NfL GMR to baseline, week 148, early start", 0.33, None,
           "\u221267% early start", "final", "relative", "d2", "Biomarkers"),
    Figure("w148_nfl_delayed", "Plasma NfL GMR to baseline, week 148, delayed start", 0.36, None,
           "\u221264% delayed start", "final", "relative", "d2", "Biomarkers"),
    # ---- time to event
    Figure("hr_dthpv", "HR, death or permanent ventilation, early vs delayed", 0.36, (0.14, 0.94),
           "HR, 0.36 (95% CI, 0.14-0.94)", "12-month", "ci", "ratio", "Time to event"),
    Figure("hr_dth", "HR, death, early vs delayed", 0.27, (0.08, 0.89), "HR, 0.27 (95% CI, 0.08-0.89)",
           "12-month", "ci", "ratio", "Time to event"),
    Figure("deaths_tof", "Deaths among tofersen-treated participants, No.", 14, None,
           "14 deaths among tofersen-treated participants by the final analysis", "final", "exact", "int", "Time to event"),
)
FIGURE_BY_NAME = {f.name: f for f in FIGURES}


# ---------------------------------------------------------------- tolerance
def is_ratio(fig: Figure) -> bool:
    """Ratios (HR, GMR) are judged on the log scale with null 1."""
    return fig.fmt == "ratio"


def within_tolerance(fig: Figure, value: float | None) -> bool:
    """The point part of ``fig``'s rule applied to a simulated ``value`` (None fails)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return False
    if fig.rule == "ci":
        lo, hi = fig.ci
        return lo <= value <= hi
    if fig.rule == "relative":
        return abs(value - fig.published) <= REL_TOL * abs(fig.published) + 1e-12
    if fig.rule == "pvalue":
        return (value < P_THRESHOLD) == (fig.published < P_THRESHOLD)
    if fig.rule == "exact":
        return value == fig.published
    raise ValueError(f"unknown tolerance rule {fig.rule!r}")


def _finite(x) -> bool:
    return x is not None and not (isinstance(x, float) and not math.isfinite(x)) and not pd.isna(x)


def _side(lo: float, hi: float, null: float) -> int:
    """-1 (CI below the null), +1 (above) or 0 (includes it)."""
    return -1 if hi < null else (1 if lo > null else 0)


def ci_checks(fig: Figure, low: float | None, high: float | None) -> tuple[bool, float | None]:
    """(same side of the null as the published CI, width ratio simulated / published) of a
    simulated CI; widths on the log scale for ratios."""
    if not (_finite(low) and _finite(high)) or (is_ratio(fig) and (low <= 0 or high <= 0)):
        return False, None
    null = 1.0 if is_ratio(fig) else 0.0
    f = math.log if is_ratio(fig) else (lambda x: x)
    plo, phi = fig.ci
    same = _side(low, high, null) == _side(plo, phi, null)
    return same, (f(high) - f(low)) / (f(phi) - f(plo))


def verdict(fig: Figure, value, low=None, high=None) -> bool:
    """The full rule of ``fig`` (for ``ci``: inside, same side of the null, width ratio in range;
    for ``relative`` with a simulated CI: within 15%, or the published value inside that CI)."""
    if fig.rule == "relative" and not within_tolerance(fig, value):
        return _finite(value) and _finite(low) and _finite(high) and low <= fig.published <= high
    if not within_tolerance(fig, value):
        return False
    if fig.rule != "ci":
        return True
    same, ratio = ci_checks(fig, low, high)
    return same and ratio is not None and WIDTH_RANGE[0] <= ratio <= WIDTH_RANGE[1]


RULE_SHORT = {"ci": "95% CI", "relative": "\u00b115%/CI", "pvalue": "P side", "exact": "Equal"}
CUT_SHORT = {"12-month": "12 mo", "final": "Final"}


def rule_text(fig: Figure) -> str:
    """The rule applied to ``fig``, in words (eTable 7)."""
    if fig.rule == "ci":
        scale = "log scale" if is_ratio(fig) else "natural scale"
        return (f"In published 95% CI; CI on the same side of {1 if is_ratio(fig) else 0}; "
                f"CI width {WIDTH_RANGE[0]:.2f}-{WIDTH_RANGE[1]:.2f} times published ({scale})")
    if fig.rule == "relative":
        return f"Within {100 * REL_TOL:.0f}% of published, or published value inside the simulated 95% CI"
    if fig.rule == "pvalue":
        return f"Same side of P = {str(P_THRESHOLD).lstrip('0')}"
    return "Equal (by construction)"


# ---------------------------------------------------------------- simulated values
def _stat(ard: pd.DataFrame, **where) -> float | None:
    m = pd.Series(True, index=ard.index)
    for k, v in where.items():
        m &= ard[k] == v
    hit = ard[m]
    if len(hit) != 1:
        raise KeyError(f"calibration: expected one ARD row for {where}, found {len(hit)}")
    v = hit["stat"].iloc[0]
    return None if v is None else float(v)


def _est_ci(ard: pd.DataFrame, stat: str = "estimate", **where) -> tuple:
    return tuple(_stat(ard, stat_name=s, **where) for s in (stat, "conf.low", "conf.high"))


def values_12month(data: Mapping[str, pd.DataFrame], n_imputations: int = 20, seed: int | None = None
                   ) -> dict[str, tuple]:
    """Simulated values of the figures of the 12-month cut: name -> (estimate, low, high)."""
    from studies.valor import biomarkers as bm
    from studies.valor import efficacy as ef
    from studies.valor.common import DELAYED, EARLY, PBO, SHORT_VISITS, TOF, population

    out = {}
    w28 = ef.ard_week28_mmrm(data, codes=("ALSFRST",))
    out["w28_alsfrs_tof"] = _est_ci(w28, context="mmrm_lsmeans", group1_level=TOF)
    out["w28_alsfrs_pbo"] = _est_ci(w28, context="mmrm_lsmeans", group1_level=PBO)
    out["w28_alsfrs_diff"] = _est_ci(w28, context="mmrm_diff", group1_level=TOF)
    jr = ef.ard_jointrank_week28(data, n_imputations=n_imputations, seed=seed)
    out["w28_jointrank_p"] = (_stat(jr, stat_name="p.value"), None, None)
    fits = ef.fit_all_long(data, ("ALSFRST", "SVCPP", "ALSAQ40"), weeks=SHORT_VISITS)
    ed = ef.ard_early_delayed(fits, report_weeks=(52,))
    a = ed[ed["variable"] == "ALSFRST"]
    out["w52_alsfrs_early"] = _est_ci(a, context="mmrm_lsmeans", group1_level=EARLY)
    out["w52_alsfrs_delayed"] = _est_ci(a, context="mmrm_lsmeans", group1_level=DELAYED)
    out["w52_alsfrs_diff"] = _est_ci(a, context="mmrm_diff")
    out["w52_alsfrs_p"] = (_stat(a, context="mmrm_diff", stat_name="p.value"), None, None)
    out["w52_svc_diff"] = _est_ci(ed[ed["variable"] == "SVCPP"], context="mmrm_diff")
    q = ed[ed["variable"] == "ALSAQ40"]
    out["w52_alsaq_diff"] = alsaq_relative_difference(data, 52)
    out["w52_alsaq_p"] = (_stat(q, context="mmrm_diff", stat_name="p.value"), None, None)
    g = bm.ard_gmr_week28(data)
    for code, key in (("SOD1", "sod1"), ("NFL", "nfl")):
        for lv, arm in ((TOF, "tof"), (PBO, "pbo")):
            out[f"w28_{key}_{arm}"] = _est_ci(g, stat="geomean", variable=code, context="ancova.geomean",
                                              group1_level=lv)
    pop = population(data["adsl"])
    for pcd, key in (("DTHPV", "hr_dthpv"), ("DTH", "hr_dth")):
        out[key] = _est_ci(ef._hr(data, pop, pcd))
    return out


def alsaq_relative_difference(data: Mapping[str, pd.DataFrame], week: int) -> tuple:
    """100 x (1 - GMR early / GMR delayed) of the ALSAQ-40 ratio to baseline at ``week`` with its
    95% CI: the biomarkers' log-scale ANCOVA applied to ALSAQ-40 (positive favours early start)."""
    from studies.valor import biomarkers as bm
    from studies.valor.common import DELAYED, EARLY, GROUP, population

    adqs = data["adqs"].copy()
    rows = (adqs["PARAMCD"] == "ALSAQ40") & (adqs["BASE"] > 0)
    adqs.loc[rows, "R2BASE"] = adqs.loc[rows, "AVAL"] / adqs.loc[rows, "BASE"]
    adqs.loc[rows, "BASEL"] = np.log(adqs.loc[rows, "BASE"])
    ard = bm.ard_gmr({**data, "adqs": adqs}, "ALSAQ40", week, population(data["adsl"]), GROUP, [DELAYED, EARLY])
    est, low, high = _est_ci(ard, context="ancova.ratio")
    if est is None:
        return None, None, None
    return 100 * (1 - est), 100 * (1 - high), 100 * (1 - low)


def values_final(data: Mapping[str, pd.DataFrame], stabilise: Mapping | None = None) -> dict[str, tuple]:
    """Simulated values of the figures of the final cut: name -> (estimate, low, high)."""
    from studies.valor import biomarkers as bm
    from studies.valor import efficacy as ef
    from studies.valor.common import DELAYED, EARLY, GROUP, LONG_VISITS, population
    from trialsupp.stats.descriptive import ard_summary, ard_tabulate

    stabilise = stabilise or _config()["stabilise_or_improve"]
    out = {}
    adsl = data["adsl"]
    itt = population(adsl)
    out["n_randomized"] = (float(len(itt)), None, None)
    out["n_faster"] = (float((itt["FASFL"] == "Y").sum()), None, None)
    t = ard_tabulate(itt, ["OLEFL", "OLECMPFL"])
    out["n_ole"] = (_stat(t, variable="OLEFL", variable_level="Y", stat_name="n"), None, None)
    out["n_ole_completed"] = (_stat(t, variable="OLECMPFL", variable_level="Y", stat_name="n"), None, None)
    s = ard_summary(itt, "AGE", by=GROUP, statistic=("mean",))
    out["age_early"] = (_stat(s, group1_level=EARLY, stat_name="mean"), None, None)
    out["age_delayed"] = (_stat(s, group1_level=DELAYED, stat_name="mean"), None, None)
    fits = ef.fit_all_long(data, ("ALSFRST", "SVCPP", "HHDMS"), weeks=LONG_VISITS)
    ed = ef.ard_early_delayed(fits, report_weeks=(148,))
    for code, key in (("ALSFRST", "alsfrs"), ("SVCPP", "svc"), ("HHDMS", "hhd")):
        e = ed[(ed["variable"] == code) & (ed["context"] == "mmrm_lsmeans")]
        out[f"w148_{key}_early"] = _est_ci(e, group1_level=EARLY)
        out[f"w148_{key}_delayed"] = _est_ci(e, group1_level=DELAYED)
    st = ef.ard_stabilised(data, stabilise["visit_week"], stabilise["min_change"])
    k = _stat(st, group1_level=EARLY, variable_level="Y", stat_name="n")
    n_assessed = _stat(st, group1_level=EARLY, variable_level="Y", stat_name="N")
    share = _stat(st, group1_level=EARLY, variable_level="Y", stat_name="p")
    if k is not None and n_assessed:
        from scipy.stats import binomtest
        ci = binomtest(int(k), int(n_assessed)).proportion_ci(0.95, method="exact")    # Clopper-Pearson
        out["stabilised_share"] = (share, float(ci.low), float(ci.high))
    else:
        out["stabilised_share"] = (share, None, None)
    n = bm.ard_gmr(data, "NFL", 148, itt, GROUP, [DELAYED, EARLY])
    out["w148_nfl_early"] = _est_ci(n, stat="geomean", context="ancova.geomean", group1_level=EARLY)
    out["w148_nfl_delayed"] = _est_ci(n, stat="geomean", context="ancova.geomean", group1_level=DELAYED)
    tt = adsl[adsl["TOFFL"] == "Y"]
    died = (tt["DTHFL"] == "Y") & (pd.to_datetime(tt["DTHDT"]) > pd.to_datetime(tt["TOFSDT"]))
    tt = tt.assign(DTHTOF=np.where(died, "Y", "N"))
    out["deaths_tof"] = (_stat(ard_tabulate(tt, "DTHTOF"), variable_level="Y", stat_name="n"), None, None)
    return out


def _config() -> dict:
    from studies.valor.simulate.config import load_study
    return load_study(None)["simulation"]


def cut_datasets(datasets: Mapping[str, pd.DataFrame], cut: str) -> dict[str, pd.DataFrame]:
    """The datasets (lower-case keys) at a named cut of the config."""
    from studies.valor.simulate.config import load_study
    from trialsupp.data.cut import apply_cut
    date = _config()["data_cuts"][cut]["date"]
    flags = load_study(None)["data"].get("cut_flags")     # as the notebooks' sessions apply them
    return apply_cut({k.lower(): v for k, v in datasets.items()}, str(date), flags)


def simulated_values(datasets: Mapping[str, pd.DataFrame], n_imputations: int = 20,
                     seed: int | None = None) -> dict[str, tuple]:
    """Every registered figure's simulated (estimate, low, high) from uncut (or final-cut) datasets."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vals = values_12month(cut_datasets(datasets, "12-month"), n_imputations, seed)
        vals.update(values_final(cut_datasets(datasets, "final")))
    return vals


def evaluate(values: Mapping[str, tuple]) -> pd.DataFrame:
    """One row per figure: published, CI, simulated value and CI, within tolerance."""
    rows = []
    for f in FIGURES:
        est, lo, hi = values.get(f.name, (None, None, None))
        rows.append({"name": f.name, "label": f.label, "section": f.section, "cut": f.cut, "rule": f.rule,
                     "source": f.source, "published": f.published,
                     "published_low": f.ci[0] if f.ci else None, "published_high": f.ci[1] if f.ci else None,
                     "simulated": est, "simulated_low": lo, "simulated_high": hi,
                     "same_side": ci_checks(f, lo, hi)[0] if f.rule == "ci" else None,
                     "width_ratio": ci_checks(f, lo, hi)[1] if f.rule == "ci" else None,
                     "within": verdict(f, est, lo, hi)})
    return pd.DataFrame(rows)


def _one_seed(args) -> dict[str, float | None]:
    seed, n_imputations = args
    _single_thread_blas()
    from studies.valor.simulate.valor import simulate
    data = simulate(seed=seed)
    return simulated_values(data, n_imputations, seed)


def _single_thread_blas() -> None:
    """One BLAS thread per worker: the workers already use every core (oversubscription made
    200 replicates take over 30 minutes instead of about 15)."""
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(1)
    except ImportError:
        pass


def read_checkpoint(path) -> dict[int, dict[str, tuple]]:
    """Replicate results of a checkpoint file (JSON lines ``{"seed", "n_imputations", "values"}``):
    seed -> figure name -> (estimate, low, high). A truncated last line (a run stopped while
    writing) is ignored."""
    import json
    from pathlib import Path
    out = {}
    p = Path(path)
    if not p.exists():
        return out
    for line in p.read_text(encoding="utf-8").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        out[int(rec["seed"])] = {k: tuple(v) for k, v in rec["values"].items()}
    return out


def _append_checkpoint(path, seed: int, n_imputations: int, values: Mapping[str, tuple]) -> None:
    import json
    import os
    # a line truncated by a stopped run is ended first, so this record starts a line of its own
    torn = False
    if os.path.exists(path) and os.path.getsize(path) > 0:
        with open(path, "rb") as fh:
            fh.seek(-1, os.SEEK_END)
            torn = fh.read(1) != b"\n"
    with open(path, "a", encoding="utf-8") as fh:
        if torn:
            fh.write("\n")
        fh.write(json.dumps({"seed": seed, "n_imputations": n_imputations,
                             "values": {k: list(v) for k, v in values.items()}}, default=float) + "\n")
        fh.flush()


def calibrate(seed: int | None = None, replicates: int = 0, jobs: int = 2, n_imputations: int = 20,
              scheduler: str | None = None, checkpoint=None) -> pd.DataFrame:
    """Calibration table for ``seed`` (default ``simulation.seed``); with ``replicates`` > 0 also
    the median over seeds ``seed+1 .. seed+replicates`` (``median``) and the share of those seeds
    within tolerance (``share_within``), computed on Dask: a local cluster of ``jobs`` workers,
    or the scheduler at ``scheduler`` (``"inline"``: in this process). ``checkpoint``: a file
    (JSON lines) to which each replicate's values are appended as it finishes; seeds already in
    it are not run again, so a stopped run resumes (a replicate depends only on its seed)."""
    from trialsupp.pipeline.distributed import map_replicates
    from studies.valor.simulate.valor import simulate
    seed = _config()["seed"] if seed is None else seed
    df = evaluate(simulated_values(simulate(seed=seed), n_imputations, seed))
    df.attrs.update(seed=seed, replicates=replicates)
    if replicates:
        seeds = [seed + 1 + i for i in range(replicates)]
        done = read_checkpoint(checkpoint) if checkpoint else {}
        todo = [s for s in seeds if s not in done]

        def keep(i, values):
            done[todo[i]] = values
            if checkpoint:
                _append_checkpoint(checkpoint, todo[i], n_imputations, values)

        map_replicates(_one_seed, [(s, n_imputations) for s in todo], scheduler=scheduler, jobs=jobs,
                       on_result=keep)
        df = replicate_summary(df, {s: done[s] for s in seeds})
    return df


def replicate_summary(df: pd.DataFrame, results: Mapping[int, Mapping[str, tuple]]) -> pd.DataFrame:
    """A copy of the calibration table ``df`` with the replicate columns over ``results`` (seed ->
    figure name -> (estimate, low, high)): ``median``, ``median_within``, ``share_within``,
    ``median_width_ratio``; ``attrs``: ``replicates``, ``share_all``, ``seeds_all``."""
    df = df.copy()
    df.attrs = dict(df.attrs)
    seeds = sorted(results)
    res = [results[s] for s in seeds]
    df.attrs["replicates"] = len(res)
    if res:
        med, share, wmed = [], [], []
        every = [all(verdict(f, *r.get(f.name, (None, None, None))) for f in FIGURES) for r in res]
        df.attrs["share_all"] = float(np.mean(every))
        df.attrs["seeds_all"] = [s for s, ok in zip(seeds, every) if ok]
        for f in FIGURES:
            trip = [r.get(f.name, (None, None, None)) for r in res]
            v = np.array([np.nan if t[0] is None else t[0] for t in trip], float)
            med.append(float(np.nanmedian(v)) if np.isfinite(v).any() else None)
            share.append(float(np.mean([verdict(f, *t) for t in trip])))
            w = [ci_checks(f, t[1], t[2])[1] for t in trip] if f.rule == "ci" else []
            w = [x for x in w if x is not None]
            wmed.append(float(np.median(w)) if w else None)
        df["median"] = med
        df["median_within"] = [within_tolerance(f, m) for f, m in zip(FIGURES, med)]
        df["share_within"] = share
        df["median_width_ratio"] = wmed
    return df


# ---------------------------------------------------------------- fast benchmark path
HEADLINES = ("w52_alsfrs_diff", "hr_dthpv", "hr_dth")


def _headline_ci(seed: int) -> dict[str, tuple]:
    """Fast analyses of one replicate at the 12-month cut, each (estimate, low, high): simulate,
    derive the ADaM values straight from the model arrays, cut, then ANCOVA on the observed
    change (start group, baseline, progression subgroup) for the week-52 ALSFRS-R and SVC
    differences and the week-28 ALSFRS-R difference in the faster-progression subgroup
    (group, baseline), and the two Cox HRs (Efron ties, Wald CI)."""
    from studies.valor.common import DELAYED, EARLY, GROUP, PROGGR
    from trialsupp.stats.ancova import ANCOVAFitter
    from trialsupp.stats.cox import CoxPH
    from studies.valor.simulate.model import simulate_study

    sim = _SIM
    st = simulate_study(sim, seed)
    p, v = st.p, st.v
    cut = (sim["data_cuts"]["12-month"]["date"] - sim["calendar"]["first_randomization"]).days - p["rand_off"]
    group = np.where(p["arm"] == 1, EARLY, DELAYED)
    prog = np.where(p["sub"] == 0, "F", "S")
    out = {}
    for key, var, week, faster_only in (("w52_alsfrs_diff", "total", 52, False), ("w52_svc_diff", "svc", 52, False),
                                        ("w28_alsfrs_diff", "total", 28, True)):
        k = int(np.flatnonzero(st.visit_weeks == week)[0])
        seen = v["kept"][:, k] & (v["off"][:, k] <= cut) & ((p["sub"] == 0) if faster_only else True)
        chg = (v[var][:, k] - v[var][:, 0]).astype(float)
        d = pd.DataFrame({GROUP: group, PROGGR: prog, "BASE": v[var][:, 0].astype(float), "CHG": chg})[seen]
        fit = ANCOVAFitter().fit(d, outcome="CHG", factors=[GROUP] if faster_only else [GROUP, PROGGR],
                                 covariates=["BASE"], treatment=GROUP, reference=DELAYED, levels=[DELAYED, EARLY])
        r = fit.diffs_.iloc[0]
        out[key] = (float(r["estimate"]), float(r["conf.low"]), float(r["conf.high"]))
    # time to event (days from randomisation), censored at the last contact or the cut
    died, pv = p["died"], p["pv"]
    ev_pv = np.where(pv & died, np.minimum(p["pv_off"], p["died_off"]), np.where(pv, p["pv_off"], p["died_off"]))
    last = np.where(v["kept"], v["off"], -1).max(axis=1)
    contact = np.where(died, p["died_off"], np.maximum(p["end_off"], last))
    for key, event, t_ev in (("hr_dthpv", pv | died, ev_pv), ("hr_dth", died, p["died_off"])):
        t = np.where(event, t_ev, contact)
        e = event & (t <= cut)
        t = np.minimum(t, cut) + 1.0
        tte = pd.DataFrame({GROUP: group, "AVAL": t.astype(float), "EVENT": e.astype(int)})
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                c = CoxPH().fit(tte, time="AVAL", event="EVENT", treatment=GROUP, reference=DELAYED)
            b, se = float(c.params_.iloc[0]), float(c.standard_errors_.iloc[0])
            out[key] = (math.exp(b), math.exp(b - 1.959963984540054 * se), math.exp(b + 1.959963984540054 * se))
        except Exception:  # noqa: BLE001 - no events in a replicate: not estimable
            out[key] = (float("nan"), None, None)
    return out


def _headline_one(seed: int) -> dict[str, float]:
    """Point estimates of the benchmark headlines (see ``_headline_ci``)."""
    r = _headline_ci(seed)
    return {k: r[k][0] for k in HEADLINES}


_SIM: dict = {}


def _init_sim():
    global _SIM
    _SIM = _config()


def _headline_chunk(seeds) -> list[dict]:
    _single_thread_blas()
    if not _SIM:
        _init_sim()
    return [_headline_one(s) for s in seeds]


def replicate_headlines(n_replicates: int = 1000, jobs: int = 2, first_seed: int = 1,
                        scheduler: str | None = None) -> pd.DataFrame:
    """Headline analyses (week-52 ALSFRS-R difference, HR death or permanent ventilation, HR
    death; 12-month cut) of ``n_replicates`` simulated studies (seeds ``first_seed ...``) on
    Dask (a local cluster of ``jobs`` processes, or ``scheduler``; ``"inline"``: in this process). One row per replicate; ``attrs["elapsed_s"]`` the wall time.

    Speed: the full ADaM build + unstructured MMRM takes seconds per replicate, so this
    path derives the week-52 change and the event times straight from the model arrays
    (the same derivation as the ADaM build, checked against it in the tests) and fits the
    week-52 difference by ANCOVA on the observed week-52 change instead of the MMRM.
    """
    t0 = time.perf_counter()
    seeds = list(range(first_seed, first_seed + n_replicates))
    chunks = [c for c in (seeds[i::jobs * 4] for i in range(jobs * 4)) if c]
    from trialsupp.pipeline.distributed import map_replicates
    parts = map_replicates(_headline_chunk, chunks, scheduler=scheduler, jobs=jobs)
    rows = [dict(seed=s, **r) for c, part in zip(chunks, parts) for s, r in zip(c, part)]
    df = pd.DataFrame(rows).sort_values("seed").reset_index(drop=True)
    df.attrs["elapsed_s"] = time.perf_counter() - t0
    return df


def _screen_chunk(seeds) -> list[tuple[int, bool]]:
    if not _SIM:
        _init_sim()
    out = []
    for s in seeds:
        r = _headline_ci(s)
        out.append((s, all(verdict(FIGURE_BY_NAME[k], *r[k]) for k in r)))
    return out


def screen_seeds(first: int, last: int, jobs: int = 2) -> list[int]:
    """Seeds in ``first..last`` whose fast-path estimates (``_headline_ci``) pass the full
    ``ci`` rule for all five figures with a published 95% CI: the pre-screen of the
    default-seed search (the full analyses take seconds per seed)."""
    seeds = list(range(first, last + 1))
    chunks = [c for c in (seeds[i::jobs * 4] for i in range(jobs * 4)) if c]
    from trialsupp.pipeline.distributed import map_replicates
    parts = map_replicates(_screen_chunk, chunks, jobs=jobs)
    return sorted(s for part in parts for s, ok in part if ok)


def pick_default_seed(first: int = 1, last: int = 700, jobs: int = 2, n_imputations: int = 20,
                      max_candidates: int | None = None) -> int | None:
    """The default-seed rule: among the seeds of ``first..last`` that pass the fast pre-screen,
    in order, the first that meets every rule; failing that, the one that meets the rule of
    every figure with a published 95% CI and misses the fewest other figures (ties: the lower
    seed). ``max_candidates`` bounds the number of full evaluations."""
    from studies.valor.simulate.valor import simulate
    best, best_miss = None, None
    for s in screen_seeds(first, last, jobs)[:max_candidates]:
        df = evaluate(simulated_values(simulate(seed=s), n_imputations, s))
        if not df.loc[df["rule"] == "ci", "within"].all():
            continue
        miss = int((~df["within"]).sum())
        if miss == 0:
            return s
        if best_miss is None or miss < best_miss:
            best, best_miss = s, miss
    return best


# ---------------------------------------------------------------- output
def _fmt(x, spec: str) -> str:
    from trialsupp.ard.fmt import format_stat
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "NE"
    return format_stat(float(x) if spec not in ("int",) else int(round(x)), spec)


def format_table(df: pd.DataFrame) -> str:
    """Plain-text calibration table for the command line."""
    head = ["figure", "cut", "rule", "published (95% CI)", "simulated (95% CI)", "verdict", "width"]
    has_rep = "median" in df.columns
    if has_rep:
        head += ["median", "median verdict", "seeds met"]
    lines = []
    for _, r in df.iterrows():
        f = FIGURE_BY_NAME[r["name"]]
        pub = _fmt(r["published"], f.fmt) + (f" ({_fmt(r['published_low'], f.fmt)} to {_fmt(r['published_high'], f.fmt)})"
                                            if f.ci else "")
        sim = _fmt(r["simulated"], f.fmt)
        if r["simulated_low"] is not None and not pd.isna(r["simulated_low"]):
            sim += f" ({_fmt(r['simulated_low'], f.fmt)} to {_fmt(r['simulated_high'], f.fmt)})"
        wr = r.get("width_ratio")
        row = [f.label, CUT_SHORT.get(f.cut, f.cut), RULE_SHORT[f.rule], pub, sim,
               "Met" if r["within"] else "Not met", "" if wr is None or pd.isna(wr) else f"{wr:.2f}"]
        if has_rep:
            row += [_fmt(r["median"], f.fmt), "Met" if r["median_within"] else "Not met",
                    f"{100 * r['share_within']:.0f}%"]
        lines.append(row)
    widths = [max(len(str(x)) for x in col) for col in zip(head, *lines)]
    out = ["  ".join(str(x).ljust(w) for x, w in zip(head, widths))]
    out.append("  ".join("-" * w for w in widths))
    out += ["  ".join(str(x).ljust(w) for x, w in zip(row, widths)) for row in lines]
    summ = calibration_summary(df)
    out.append("")
    out.append(f"{summ['n.pass']} of {summ['n']} figures met their rule, {summ['n.ci.pass']} of {summ['n.ci']} "
               f"with a published 95% CI; not met: {summ['failed']}.")
    if has_rep and "share_all" in df.attrs:
        out.append(f"Replicate seeds meeting every rule: {100 * df.attrs['share_all']:.1f}% "
                   f"({len(df.attrs['seeds_all'])} of {df.attrs['replicates']}"
                   + (f": {', '.join(map(str, df.attrs['seeds_all']))}" if df.attrs["seeds_all"] else "") + ").")
    seed = df.attrs.get("seed")
    if seed is not None:
        out.insert(0, f"Simulated VALOR/OLE calibration, seed {seed}"
                   + (f", {df.attrs.get('replicates')} replicate seeds" if df.attrs.get("replicates") else ""))
    return "\n".join(out)


def calibration_ard(df: pd.DataFrame) -> pd.DataFrame:
    """ARD rows of a calibration table (context ``calibration``; variable = figure name):
    ``published``, ``published.low``, ``published.high``, ``estimate``, ``conf.low``,
    ``conf.high``, ``within`` (bool) and the text rows ``label``, ``source``, ``cut``, ``rule``;
    with replicates also ``median``, ``median.within``, ``share.within``."""
    from trialsupp.ard.provenance import code_ref
    from trialsupp.ard.schema import ard_rows, bind_ard
    cuts = {k: v["label"] for k, v in _config()["data_cuts"].items()}
    code = code_ref(calibrate)
    parts = []
    for _, r in df.iterrows():
        f = FIGURE_BY_NAME[r["name"]]
        stats = {"label": f.label, "section": f.section, "source": f.source, "cut": cuts.get(f.cut, f.cut),
                 "rule": f.rule, "rule.text": rule_text(f), "published": f.published}
        fmt = {"published": f.fmt}
        if f.ci:
            stats.update({"published.low": f.ci[0], "published.high": f.ci[1]})
            fmt.update({"published.low": f.fmt, "published.high": f.fmt})
        stats["estimate"] = r["simulated"]
        fmt["estimate"] = f.fmt
        if r["simulated_low"] is not None and not pd.isna(r["simulated_low"]):
            stats.update({"conf.low": r["simulated_low"], "conf.high": r["simulated_high"]})
            fmt.update({"conf.low": f.fmt, "conf.high": f.fmt})
        if f.rule == "ci" and r.get("width_ratio") is not None and not pd.isna(r.get("width_ratio")):
            stats.update({"same.side": bool(r["same_side"]), "width.ratio": float(r["width_ratio"])})
            fmt.update({"same.side": "int", "width.ratio": "d2"})
        stats["within"] = bool(r["within"])
        fmt["within"] = "int"            # a bool with a non-"str" spec formats as Yes/No
        stats["verdict"] = "Met" if r["within"] else "Not met"
        stats["rule.short"] = RULE_SHORT[f.rule]
        stats["cut.short"] = CUT_SHORT.get(f.cut, f.cut)
        if "median" in df.columns:
            stats.update({"median": r["median"], "median.within": bool(r["median_within"]),
                          "share.within": r["share_within"]})
            fmt.update({"median": f.fmt, "median.within": "int", "share.within": "pct0"})
        if f.fmt == "int":
            for k in ("published", "estimate", "median"):
                if k in stats and stats[k] is not None and not pd.isna(stats[k]):
                    stats[k] = int(round(stats[k]))
        parts.append(ard_rows(stats, variable=r["name"], context="calibration",
                              method=f"Simulated vs published; tolerance rule: {f.rule}", code=code, fmt=fmt,
                              labels={"estimate": "Simulated value", "published": "Published value"}))
    parts.append(ard_rows(calibration_summary(df), variable="summary", context="calibration",
                          method="Count of figures meeting their tolerance rule", code=code,
                          fmt={"n": "int", "n.pass": "int", "n.ci": "int", "n.ci.pass": "int",
                               "n.fail": "int", "failed": "str", "width.low": "d2", "width.high": "d2"}))
    return bind_ard(*parts)


def calibration_summary(df: pd.DataFrame) -> dict:
    """Counts behind the eResults sentence: figures, passing, those with a published CI, failures."""
    ci = df["rule"] == "ci"
    failed = [FIGURE_BY_NAME[n].label for n in df.loc[~df["within"].astype(bool), "name"]]
    return {"n": int(len(df)), "n.pass": int(df["within"].sum()), "n.fail": len(failed),
            "n.ci": int(ci.sum()), "n.ci.pass": int(df.loc[ci, "within"].sum()),
            "failed": "; ".join(failed) if failed else "none",
            "width.low": WIDTH_RANGE[0], "width.high": WIDTH_RANGE[1]}


def main(seed: int | None = None, replicates: int = 0, jobs: int = 2, config=None,
         scheduler: str | None = None, checkpoint=None) -> int:
    """``trialsupp calibrate`` for this study (its ``calibration.command``): print the table;
    exit status 1 when a figure is outside tolerance. ``config`` is the study config path
    (the table always uses this study's own ``simulation`` section); ``checkpoint`` see
    :func:`calibrate`."""
    table = calibrate(seed=seed, replicates=replicates, jobs=jobs, scheduler=scheduler, checkpoint=checkpoint)
    print(format_table(table))
    bad = ~table["within"].astype(bool)
    if "median_within" in table:
        bad |= ~table["median_within"].astype(bool)
    if bad.any():
        print(f"{int(bad.sum())} figure(s) outside tolerance: {', '.join(table.loc[bad, 'name'])}")
        return 1
    return 0
