"""CDISCPILOT01 efficacy outputs (CSR appendix 14-3, R Submission Pilot 1 glucose, Figure 14-1).

One ``ard_*`` function per output: it selects the analysis rows and calls
``trialsupp.stats``; it returns result ARD rows ready for ``Session.record``.
No statistic is computed here. ``table_*`` / ``figure_*`` functions lay the
placed rows out as the CSR display (titles, rows, footnotes), reading
``stat_fmt`` only.

Specifications (published programs and outputs used as the reference):

* 14-3.01 .. 14-3.09 (ANCOVA tables): CDISC pilot CSR; Atorus
  ``CDISC_pilot_replication`` ``programs/t-14-3-0x.R`` + ``programs/funcs.R``
  (``summary_data``, ``efficacy_models``) and R Submission Pilot 1
  ``R/eff_models.R``: descriptive n, mean (SD), median (range) by arm;
  dose response = Type III F test of TRTPN as a continuous variable in
  ``CHG ~ TRTPN + SITEGR1 + BASE`` (ADAS) or ``AVAL ~ TRTPN + SITEGR1`` (CIBIC+);
  pairwise differences of LS means (SAS ``LSMEANS / OM`` = emmeans
  ``weights = "proportional"``) from ``CHG ~ TRT + SITEGR1 + BASE`` with t CIs
  and unadjusted P values. Numbering follows the CSR: 14-3.03 ADAS-Cog Week 8,
  14-3.04 CIBIC+ Week 8, 14-3.05 ADAS-Cog Week 16, 14-3.06 CIBIC+ Week 16.
* 14-3.10: ``t-14-3-10.R`` (windowed observed cases and LOCF by visit).
* 14-3.11: ARM-Leaf0046 / Atorus issue #6: MMRM, unstructured, Kenward-Roger,
  ``CHG ~ TRT + SITEGR1 + AVISIT + TRT:AVISIT + BASE + BASE:AVISIT``, LS means
  (equal weights) at Week 24.
* 14-3.13: ``t-14-3-13.R``: CIBIC+ categories by visit, CMH row mean scores
  test (table scores) stratified by SITEGR1 (SAS ``CMH2`` default scores).
* pilot1-glucose: Pilot 1 ``vignettes/tlf-efficacy.Rmd``.
* 14-1 (figure): Pilot 1 ``vignettes/tlf-kmplot.Rmd`` (visR ``estimate_KM``:
  R ``survfit`` default ``conf.type = "log"``).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from trialsupp.ard.provenance import code_ref
from trialsupp.ard.schema import ard_rows
from trialsupp.ard.schema import bind_ard
from trialsupp.stats.ancova import ANCOVAFitter, dose_response
from trialsupp.stats.cmh import cmh_test
from trialsupp.stats.descriptive import ard_summary, ard_tabulate
from trialsupp.stats.lsmeans import linear_estimates

from .common import ARMS, POPULATION_FLAGS, arm_categorical, select_population

__all__ = [
    "OUTPUTS", "ancova_week", "ard_14_3_01", "ard_14_3_02", "ard_14_3_03", "ard_14_3_04",
    "ard_14_3_05", "ard_14_3_06", "ard_14_3_07", "ard_14_3_08", "ard_14_3_09", "ard_14_3_10",
    "ard_14_3_11", "ard_14_3_12", "ard_14_3_13", "ard_glucose", "ard_km_dermatologic",
    "table_ancova", "table_14_3_10", "table_14_3_11", "table_14_3_13", "table_glucose",
    "figure_14_1", "write_rtf",
]

DESC = ("N", "mean", "sd", "median", "min", "max")
#: CSR display of descriptive statistics (t-14-3-xx ``summary_data``): mean and median 1 decimal,
#: SD 2 decimals, range as integers (ADAS-Cog totals can be prorated, non-integer values)
DESC_FMT = {"N": "int", "mean": "d1", "sd": "d2", "median": "d1", "min": "d0", "max": "d0"}
#: CSR display of the ANCOVA results: 1 decimal for differences and CI, 2 for SE
ANCOVA_FMT = {"estimate": "d1", "std.error": "d2", "conf.low": "d1", "conf.high": "d1",
              "p.value": "pvalue"}
TRT = "TRTP"

#: output number -> (title, dataset, label used by the notebook)
OUTPUTS: dict[str, tuple[str, str]] = {
    "14-3.01": ("Primary Endpoint Analysis: ADAS Cog (11) - Change from Baseline to Week 24 - LOCF", "adadas"),
    "14-3.02": ("Primary Endpoint Analysis: CIBIC+ - Summary at Week 24 - LOCF", "adcibc"),
    "14-3.03": ("ADAS Cog (11) - Change from Baseline to Week 8 - LOCF", "adadas"),
    "14-3.04": ("CIBIC+ - Summary at Week 8 - LOCF", "adcibc"),
    "14-3.05": ("ADAS Cog (11) - Change from Baseline to Week 16 - LOCF", "adadas"),
    "14-3.06": ("CIBIC+ - Summary at Week 16 - LOCF", "adcibc"),
    "14-3.07": ("ADAS Cog (11) - Change from Baseline to Week 24 - Completers at Wk 24-Observed Cases-Windowed",
                "adadas"),
    "14-3.08": ("ADAS Cog (11) - Change from Baseline to Week 24 in Male Subjects - LOCF", "adadas"),
    "14-3.09": ("ADAS Cog (11) - Change from Baseline to Week 24 in Female Subjects - LOCF", "adadas"),
    "14-3.10": ("ADAS Cog (11) - Mean and Mean Change from Baseline over Time", "adadas"),
    "14-3.11": ("ADAS Cog (11) - Repeated Measures Analysis of Change from Baseline to Week 24", "adadas"),
    "14-3.12": ("Mean NPI-X Total Score from Week 4 through Week 24 - Windowed", "adnpix"),
    "14-3.13": ("CIBIC+ - Categorical Analysis - LOCF", "adcibc"),
    "pilot1-glucose": ("ANCOVA of Change from Baseline in Glucose (mmol/L) at Week 20", "adlbc"),
    "14-1": ("KM plot for Time to First Dermatologic Event: Safety population", "adtte"),
}


# ---------------------------------------------------------------------------- selection
def _analysis_rows(data: Mapping[str, pd.DataFrame], dataset: str, paramcd: str,
                   population: str = "Efficacy") -> pd.DataFrame:
    """Records of ``paramcd`` for subjects of ``population`` (ADSL flag) with ANL01FL = "Y"."""
    if population not in POPULATION_FLAGS:
        raise ValueError(f"population must be one of {', '.join(POPULATION_FLAGS)}, not {population!r}")
    adsl = select_population(data["adsl"], population)
    d = data[dataset]
    d = d[(d["PARAMCD"] == paramcd) & (d["ANL01FL"] == "Y") & (d["ITTFL"] == "Y")
          & d["USUBJID"].isin(adsl["USUBJID"])]
    return arm_categorical(d, TRT, code="TRTPN")


def _header_n(d: pd.DataFrame) -> pd.DataFrame:
    """Column header N: distinct subjects per arm in the analysis data (tabulation of TRTP)."""
    subj = d.drop_duplicates("USUBJID")[["USUBJID", TRT]]
    return ard_tabulate(subj, TRT, statistic=("n",))


def _with_fmt(ard: pd.DataFrame, fmt: Mapping[str, str]) -> pd.DataFrame:
    """Set the display format of some statistics (the CSR's decimals); values untouched."""
    out = ard.copy()
    for name, spec in fmt.items():
        out.loc[out["stat_name"] == name, "fmt"] = spec
    return out


def _visit_summary(d: pd.DataFrame, var: str, label: str,
                   fmt: Mapping[str, str] | None = None) -> pd.DataFrame:
    """n, mean, SD, median, min, max of ``var`` by arm; ``group2`` = AVISIT ``label``."""
    sub = d.assign(AVISIT=label)
    return ard_summary(sub, var, by=TRT, strata="AVISIT", statistic=DESC, fmt={**DESC_FMT, **(fmt or {})})


# ---------------------------------------------------------------------------- ANCOVA tables
def ancova_week(d: pd.DataFrame, week: int, *, baseline: bool) -> pd.DataFrame:
    """The body of an ANCOVA table (14-3.01 .. 14-3.09) from analysis records ``d``.

    ``baseline=True`` (ADAS-Cog): descriptives of baseline AVAL, week AVAL and CHG;
    model on CHG with BASE as covariate. ``baseline=False`` (CIBIC+): AVAL at the
    week; model on AVAL with treatment and site group only.
    """
    wk = d[d["AVISITN"] == week]
    label = f"Week {week}"
    parts = [_header_n(d)]
    if baseline:
        parts += [_visit_summary(d[d["AVISITN"] == 0], "AVAL", "Baseline"),
                  _visit_summary(wk, "AVAL", label),
                  _visit_summary(wk, "CHG", label)]
        y, cov = "CHG", ["BASE"]
    else:
        parts += [_visit_summary(wk, "AVAL", label)]
        y, cov = "AVAL", []
    dose = dose_response(wk, y, "TRTPN", factors=["SITEGR1"], covariates=cov)
    fit = ANCOVAFitter(weights="proportional", pairs="all").fit(
        wk, y, factors=[TRT, "SITEGR1"], covariates=cov, levels=ARMS)
    parts += [_with_fmt(dose, {"p.value": "pvalue"}), _with_fmt(fit.to_ard(), ANCOVA_FMT)]
    return bind_ard(*parts)


def _adas(data, population, sex=None) -> pd.DataFrame:
    d = _analysis_rows(data, "adadas", "ACTOT", population)
    return d if sex is None else d[d["SEX"] == sex]


def _cibic(data, population) -> pd.DataFrame:
    return _analysis_rows(data, "adcibc", "CIBICVAL", population)


def ard_14_3_01(data, population: str = "Efficacy") -> pd.DataFrame:
    """14-3.01 ADAS-Cog(11) change from baseline to Week 24, LOCF."""
    return ancova_week(_adas(data, population), 24, baseline=True)


def ard_14_3_02(data, population: str = "Efficacy") -> pd.DataFrame:
    """14-3.02 CIBIC+ at Week 24, LOCF."""
    return ancova_week(_cibic(data, population), 24, baseline=False)


def ard_14_3_03(data, population: str = "Efficacy") -> pd.DataFrame:
    """14-3.03 ADAS-Cog(11) change from baseline to Week 8, LOCF."""
    return ancova_week(_adas(data, population), 8, baseline=True)


def ard_14_3_04(data, population: str = "Efficacy") -> pd.DataFrame:
    """14-3.04 CIBIC+ at Week 8, LOCF."""
    return ancova_week(_cibic(data, population), 8, baseline=False)


def ard_14_3_05(data, population: str = "Efficacy") -> pd.DataFrame:
    """14-3.05 ADAS-Cog(11) change from baseline to Week 16, LOCF."""
    return ancova_week(_adas(data, population), 16, baseline=True)


def ard_14_3_06(data, population: str = "Efficacy") -> pd.DataFrame:
    """14-3.06 CIBIC+ at Week 16, LOCF."""
    return ancova_week(_cibic(data, population), 16, baseline=False)


def ard_14_3_07(data, population: str = "Efficacy") -> pd.DataFrame:
    """14-3.07 ADAS-Cog(11) Week 24, completers at Week 24, observed cases (windowed, no LOCF)."""
    d = _adas(data, population)
    d = d[(d["COMP24FL"] == "Y") & (d["DTYPE"] != "LOCF")]
    return ancova_week(d, 24, baseline=True)


def ard_14_3_08(data, population: str = "Efficacy") -> pd.DataFrame:
    """14-3.08 ADAS-Cog(11) change to Week 24 in male subjects, LOCF."""
    return ancova_week(_adas(data, population, sex="M"), 24, baseline=True)


def ard_14_3_09(data, population: str = "Efficacy") -> pd.DataFrame:
    """14-3.09 ADAS-Cog(11) change to Week 24 in female subjects, LOCF."""
    return ancova_week(_adas(data, population, sex="F"), 24, baseline=True)


# ---------------------------------------------------------------------------- 14-3.10
VISIT_ROWS = ["Baseline", "Week 8 (Windowed)", "Week 16 (Windowed)", "Week 24 (Windowed)",
              "Week 8 LOCF", "Week 16 LOCF", "Week 24 LOCF"]


def ard_14_3_10(data, population: str = "Efficacy") -> pd.DataFrame:
    """14-3.10 ADAS-Cog(11) by visit: observed (windowed) cases and LOCF.

    Per arm and visit row: n, mean, SD, median, min, max of AVAL; mean and SD of
    BASE of the subjects at that visit; mean, SD, median, min, max of CHG.
    """
    d = _adas(data, population)
    base = d[d["AVISITN"] == 0].assign(VISROW="Baseline")
    post = d[d["AVISITN"] != 0]
    win = post[post["DTYPE"] != "LOCF"].assign(VISROW=lambda x: x["AVISIT"] + " (Windowed)")
    locf = post.assign(VISROW=lambda x: x["AVISIT"] + " LOCF")
    allv = pd.concat([base, win, locf], ignore_index=True)
    allv["VISROW"] = pd.Categorical(allv["VISROW"], categories=VISIT_ROWS, ordered=True)
    postv = pd.concat([win, locf], ignore_index=True)
    postv["VISROW"] = pd.Categorical(postv["VISROW"], categories=VISIT_ROWS[1:], ordered=True)
    parts = [
        _header_n(d),
        ard_summary(allv, "AVAL", by=TRT, strata="VISROW", statistic=DESC, fmt=DESC_FMT),
        ard_summary(postv, "BASE", by=TRT, strata="VISROW", statistic=("N", "mean", "sd"), fmt=DESC_FMT),
        ard_summary(postv, "CHG", by=TRT, strata="VISROW", statistic=DESC, fmt=DESC_FMT),
    ]
    return bind_ard(*parts)


# ---------------------------------------------------------------------------- 14-3.11
MMRM_VISITS = ["Week 8", "Week 16", "Week 24"]


def ard_14_3_11(data, population: str = "Efficacy", visit: str = "Week 24") -> pd.DataFrame:
    """14-3.11 MMRM of ADAS-Cog(11) change from baseline (observed cases, weeks 8-24).

    PROC MIXED of ARM-Leaf0046 with the Week 24 LS means of Atorus issue #6:
    ``CHG = TRT AVISIT SITEGR1 TRT*AVISIT BASE BASE*AVISIT``, ``REPEATED AVISIT /
    TYPE=UN``, ``DDFM=KR``; LS means with equal weights over SITEGR1 at ``visit``;
    all pairwise differences.
    """
    from trialsupp.stats.mmrm import MMRMFitter

    d = _adas(data, population)
    d = d[(d["DTYPE"] != "LOCF") & (d["AVISITN"] > 0) & d["CHG"].notna()].copy()
    d[TRT] = d[TRT].astype(str)
    fit = MMRMFitter(covariance="us", df_method="kenward-roger", fallback=("us",)).fit(
        d, outcome="CHG", subject="USUBJID", visit="AVISIT", group=TRT,
        covariates=["SITEGR1", "BASE"], interactions=[("BASE", "AVISIT")],
        visit_order=MMRM_VISITS, group_order=ARMS)
    ard = fit.to_ard(visit=visit)
    # Xan High - Xan Low at the visit (the CSR's third comparison)
    hl = fit.lsmeans_diff(reference="Xanomeline Low Dose", visit=visit)
    hl = hl.xs("Xanomeline High Dose", level=TRT, drop_level=False)
    rows = []
    for (v, arm, ref), r in hl.iterrows():
        rows.append(ard_rows({k: r[k] for k in ("estimate", "std.error", "df", "conf.low", "conf.high",
                                                "statistic", "p.value")},
                             variable="CHG", variable_level=f"{arm} - {ref}", group1=TRT,
                             group1_level=arm, group2="AVISIT", group2_level=v, context="mmrm_diff",
                             method=fit.method_, code=code_ref(MMRMFitter.lsmeans_diff)))
    fmt = {"estimate": "d1", "std.error": "d2", "conf.low": "d1", "conf.high": "d1", "df": "d1",
           "p.value": "pvalue"}
    return bind_ard(_header_n(d), _with_fmt(bind_ard(ard, *rows), fmt))


# ---------------------------------------------------------------------------- 14-3.12
def ard_14_3_12(data, population: str = "Efficacy") -> pd.DataFrame:
    """14-3.12 NPI-X mean total score from Week 4 through Week 24 (windowed), ``adnpix`` NPTOTMN.

    As ``t-14-3-12.R``: descriptives of baseline (AVISITN 0) and of the mean of weeks
    4-24 (AVISITN 98); ANCOVA of CHG = AVAL - BASE at AVISITN 98 with treatment and
    site group as factors and baseline as covariate (dose response and pairwise).
    """
    available = getattr(data, "datasets", data)
    if "adnpix" not in available:
        raise KeyError("14-3.12 needs dataset adnpix (data/cdiscpilot01/adnpix.parquet), which is not loaded")
    d = _analysis_rows(data, "adnpix", "NPTOTMN", population).copy()
    d["CHG"] = d["AVAL"] - d["BASE"]
    model = ancova_week(d, 98, baseline=True)
    model = model[model["context"] != "summary"]
    return bind_ard(_visit_summary(d[d["AVISITN"] == 0], "AVAL", "Baseline"),
                    _visit_summary(d[d["AVISITN"] == 98], "AVAL", "Mean of Weeks 4-24"), model)


# ---------------------------------------------------------------------------- 14-3.13
CIBIC_LEVELS = {1: "Marked improvement", 2: "Moderate improvement", 3: "Minimal improvement",
                4: "No Change", 5: "Minimal worsening", 6: "Moderate worsening", 7: "Marked worsening"}


def ard_14_3_13(data, population: str = "Efficacy") -> pd.DataFrame:
    """14-3.13 CIBIC+ categories by visit (n, %) and CMH row mean scores P value by visit.

    Percentages use the number of subjects assessed at the visit in the arm.
    CMH: ``TRTP`` x ``AVAL`` (table scores 1..7) stratified by SITEGR1,
    "row mean scores differ" (SAS PROC FREQ ``CMH2``; the pilot's vcdExtra fork / coin).
    """
    d = _cibic(data, population)
    parts = [_header_n(d)]
    for week in (8, 16, 24):
        wk = d[d["AVISITN"] == week].copy()
        wk["AVAL"] = pd.Categorical(wk["AVAL"].astype(int), categories=list(CIBIC_LEVELS))
        vis = f"Week {week}"
        tab = ard_tabulate(wk, "AVAL", by=TRT, fmt={"p": "pct0"})
        tab["group2"], tab["group2_level"] = "AVISIT", vis
        n = ard_summary(wk.assign(AVISIT=vis), "AVISITN", by=TRT, strata="AVISIT", statistic=("N",))
        cmh = cmh_test(wk, TRT, "AVAL", strata="SITEGR1", scores="table")
        cmh["group2"], cmh["group2_level"] = "AVISIT", vis
        parts += [tab, n, _with_fmt(cmh, {"p.value": "d4"})]
    return bind_ard(*parts)


# ---------------------------------------------------------------------------- Pilot 1 glucose
GLUCOSE_ARMS = ["Xanomeline High Dose", "Placebo"]


def ard_glucose(data, population: str = "ITT") -> pd.DataFrame:
    """R Submission Pilot 1 "ANCOVA of Change from Baseline at Week 20" (ADLBC GLUC).

    ITT subjects, placebo and xanomeline high dose. Baseline: n, mean, SD of BASE at
    AVISITN 0. Week 20 (non-missing CHG and BASE): n, mean, SD of AVAL and CHG.
    ANCOVA ``CHG ~ BASE + TRT``: LS means with t CIs; difference High - Placebo
    with P value (t) and the CI estimate +/- 1.96 SE as printed by Pilot 1; the
    root mean squared error sqrt(RSS / n) of the fit.
    """
    adsl = select_population(data["adsl"], population)
    lb = data["adlbc"]
    g = lb[lb["USUBJID"].isin(adsl["USUBJID"]) & lb["TRTPN"].isin([0, 81]) & (lb["PARAMCD"] == "GLUC")
           & lb["AVISITN"].notna()].copy()
    g[TRT] = pd.Categorical(g[TRT], categories=GLUCOSE_ARMS)
    base = g[g["AVISITN"] == 0]
    w20 = g[(g["AVISITN"] == 20) & g["CHG"].notna() & g["BASE"].notna()]
    f1 = {"mean": "d1", "sd": "d2"}
    parts = [ard_summary(base.assign(AVISIT="Baseline"), "BASE", by=TRT, strata="AVISIT",
                         statistic=("N", "mean", "sd"), fmt=f1),
             ard_summary(w20.assign(AVISIT="Week 20"), ["AVAL", "CHG"], by=TRT, strata="AVISIT",
                         statistic=("N", "mean", "sd"), fmt=f1)]
    fit = ANCOVAFitter().fit(w20, "CHG", factors=[TRT], covariates=["BASE"], levels=["Placebo",
                                                                                       "Xanomeline High Dose"])
    ard = _with_fmt(fit.to_ard(), {"estimate": "d2", "conf.low": "d2", "conf.high": "d2",
                                  "std.error": "d3", "p.value": "pvalue"})
    # CI of the difference as printed by Pilot 1: estimate +/- 1.96 SE (normal quantile 1.96)
    L = fit.differences().index
    Lg = fit.grid()
    from trialsupp.stats.lsmeans import pairwise_contrasts
    Lm = pairwise_contrasts(Lg, [tuple(L[0])])
    alpha_196 = float(2 * sps.norm.sf(1.96))
    est = linear_estimates(fit.model_.params.to_numpy(), fit.model_.cov_params().to_numpy(), Lm,
                           df=None, alpha=alpha_196).iloc[0]
    a, b = L[0]
    ci = ard_rows({"conf.low": est["conf.low"], "conf.high": est["conf.high"]}, variable="CHG",
                  variable_level="estimate +/- 1.96 SE", group1=TRT, group1_level=a, group2=TRT,
                  group2_level=b, context="ancova.diff.ci196",
                  method="difference in LS means +/- 1.96 x SE (normal approximation, as Pilot 1)",
                  code=code_ref(linear_estimates), fmt={"conf.low": "d2", "conf.high": "d2"})
    m = fit.model_
    rmse = ard_rows({"rmse": float(np.sqrt(m.ssr / m.nobs))}, variable="CHG", context="ancova.fit",
                    method="Root mean squared error of the ANCOVA residuals, sqrt(RSS / n)",
                    code=code_ref(ANCOVAFitter.fit), labels={"rmse": "Root Mean Squared Error"},
                    fmt={"rmse": "d2"})
    return bind_ard(*parts, ard, ci, rmse)


# ---------------------------------------------------------------------------- Figure 14-1
KM_TIMES = list(range(0, 201, 20))


def ard_km_dermatologic(data, population: str = "Safety",
                        times: Sequence[float] = KM_TIMES) -> dict[str, pd.DataFrame]:
    """Figure 14-1: Kaplan-Meier of time to first dermatologic event (ADTTE TTDE) by TRT01A.

    Returns three ARD frames (placed separately, their ids would overlap):
    ``curve`` (context ``km_surv``: S(t) with SE and log CI (visR/survfit default)
    at every event/censor time up to the group's last follow-up, plus ``n_censor``
    at the times with censorings, for the censor marks), ``risk`` (context
    ``km_at_risk``: number at risk, cumulative events and censorings at ``times``)
    and ``summary`` (context ``km_summary``: n, events, censored, median with CI).
    """
    from trialsupp.stats.survival import KaplanMeier, event_from_cnsr

    adsl = select_population(data["adsl"], population)[["STUDYID", "USUBJID", "TRT01A"]]
    tte = data["adtte"]
    tte = tte[tte["PARAMCD"] == "TTDE"][["STUDYID", "USUBJID", "AVAL", "CNSR"]]
    anl = adsl.merge(tte, on=["STUDYID", "USUBJID"], how="inner")
    anl["EVENT"] = event_from_cnsr(anl["CNSR"])
    km = KaplanMeier(conf_type="log").fit(anl, "AVAL", "EVENT", by="TRT01A", levels=ARMS)
    steps = sorted(km.table_["time"].unique().tolist())
    surv = km.survival_at_ard(steps)
    # a group's curve ends at its last follow-up: later times are not estimable for it
    last = {g: km.table_.loc[km.table_["group"] == g, "time"].max() for g in km.groups_}
    surv = surv[[float(t) <= last[g] for g, t in zip(surv["group1_level"], surv["variable_level"])]]
    surv = _with_fmt(surv, {"estimate": "d3", "std.error": "d3", "conf.low": "d3", "conf.high": "d3"})
    code = code_ref(KaplanMeier.fit)
    cens = [ard_rows({"n_censor": int(r.n_censor)}, variable="AVAL", variable_level=float(r.time),
                     group1="TRT01A", group1_level=r.group, context="km_surv",
                     method="Number censored at the time (censor marks)", code=code)
            for r in km.table_.itertuples() if r.n_censor > 0]
    risk = km.at_risk_ard(times)
    summary = km.to_ard().assign(context="km_summary")
    return {"curve": bind_ard(surv, *cens), "risk": risk, "summary": summary}


# ============================================================================ displays
CSR_FOOT_ADAS = ["[1] Based on Analysis of covariance (ANCOVA) model with treatment and site group as factors "
                 "and baseline value as a covariate.",
                 "[2] Test for a non-zero coefficient for treatment (dose) as a continuous variable.",
                 "[3] Pairwise comparison with treatment as a categorical variable: p-values without "
                 "adjustment for multiple comparisons."]
CSR_FOOT_CIBIC = [CSR_FOOT_ADAS[0].replace(" and baseline value as a covariate", "")] + CSR_FOOT_ADAS[1:]


def _table(number: str, rules, stub_header: str = ""):
    from trialsupp.display import Table

    title = OUTPUTS[number][0]
    return Table(title, label="t-" + number.replace(".", "-"), stub_header=stub_header,
                 landscape=True, rules=rules)


def _arm_columns(t, placed, header="{level}\n(N={n})"):
    return t.columns_from(placed, by=TRT, levels=ARMS, header=header)


def table_ancova(placed: pd.DataFrame, number: str, week: int, *, baseline: bool, rules,
                 blocks: Sequence[tuple[str, str, str]] | None = None):
    """CSR layout of 14-3.01 .. 14-3.09 and 14-3.12 from placed ARD rows.

    ``blocks``: (heading, variable, AVISIT label) of the descriptive blocks; default
    Baseline / Week / Change from Baseline (``baseline=True``) or the week only.
    """
    from trialsupp.display import cell

    t = _arm_columns(_table(number, rules), placed)
    if blocks is None:
        blocks = ([("Baseline", "AVAL", "Baseline"), (f"Week {week}", "AVAL", f"Week {week}"),
                   ("Change from Baseline", "CHG", f"Week {week}")] if baseline
                  else [(f"Week {week}", "AVAL", f"Week {week}")])
    for head, var, vis in blocks:
        t = t.add_heading(head)
        where = dict(variable=var, group2_level=vis, context="summary")
        t = (t.add_stat_row("n", placed, "{N}", indent=1, **where)
             .add_stat_row("Mean (SD)", placed, "{mean} ({sd})", indent=1, **where)
             .add_stat_row("Median (Range)", placed, "{median} ({min};{max})", indent=1, **where))
    low, high, pbo = ARMS[1], ARMS[2], ARMS[0]
    t = t.add_row("p-value(Dose Response) [1][2]",
                  {high: cell(placed, "{p.value}", rules=rules, context="ancova.dose_response")})

    def diff(a, b, tpl):
        return cell(placed, tpl, rules=rules, context="ancova.diff", group1_level=a, group2_level=b)

    for label, pairs in (("p-value(Xan - Placebo) [1][3]", [(low, pbo), (high, pbo)]),
                         ("p-value(Xan High - Xan Low) [1][3]", [(high, low)])):
        t = t.add_row(label, {a: diff(a, b, "{p.value}") for a, b in pairs})
        t = t.add_row("Diff of LS Means (SE)", {a: diff(a, b, "{estimate} ({std.error})") for a, b in pairs},
                      indent=1)
        t = t.add_row("95% CI", {a: diff(a, b, "({conf.low};{conf.high})") for a, b in pairs}, indent=1)
    for note in (CSR_FOOT_ADAS if baseline else CSR_FOOT_CIBIC):
        t = t.footnote(note)
    return t


def table_14_3_10(placed: pd.DataFrame, rules):
    """14-3.10: one row per arm and visit row; AVAL, baseline and change statistics."""
    from trialsupp.display import Table, cell

    t = Table(OUTPUTS["14-3.10"][0], label="t-14-3-10", stub_header="Treatment / Visit",
              landscape=True, rules=rules)
    cols = [("n", "n", "AVAL", "{N}"), ("mean", "Mean", "AVAL", "{mean}"), ("sd", "Std", "AVAL", "{sd}"),
            ("median", "Med.", "AVAL", "{median}"), ("min", "Min.", "AVAL", "{min}"),
            ("max", "Max.", "AVAL", "{max}"), ("bmean", "Bsln Mean", "BASE", "{mean}"),
            ("bsd", "Bsln Std", "BASE", "{sd}"), ("cmean", "Mean", "CHG", "{mean}"),
            ("csd", "Std", "CHG", "{sd}"), ("cmedian", "Med.", "CHG", "{median}"),
            ("cmin", "Min.", "CHG", "{min}"), ("cmax", "Max.", "CHG", "{max}")]
    for key, head, _, _ in cols:
        t = t.add_column(key, head)
    t = t.spanner("Change from baseline", [c[0] for c in cols[8:]])
    for arm in ARMS:
        t = t.add_group(arm)
        for vis in VISIT_ROWS:
            cells = {}
            for key, _, var, tpl in cols:
                sub = placed[(placed["variable"] == var) & (placed["group1_level"] == arm)
                             & (placed["group2_level"] == vis)]
                if len(sub):
                    cells[key] = cell(sub, tpl, rules=rules)
            t = t.add_row(vis, cells, indent=1)
    return t.footnote("Windowed: observed cases within the visit window; LOCF: last observation carried "
                      "forward. Baseline mean and SD are of the subjects with a value at the visit.")


def table_14_3_11(placed: pd.DataFrame, rules, visit: str = "Week 24"):
    """14-3.11 MMRM: LS means (SE) at ``visit`` and pairwise differences."""
    from trialsupp.display import cell

    t = _arm_columns(_table("14-3.11", rules), placed)
    low, high, pbo = ARMS[1], ARMS[2], ARMS[0]
    t = t.add_row("LS Means (SE)", {a: cell(placed, "{estimate} ({std.error})", rules=rules,
                                            context="mmrm_lsmeans", group1_level=a, group2_level=visit)
                                    for a in ARMS})

    def diff(a, b, tpl):
        return cell(placed, tpl, rules=rules, context="mmrm_diff", group1_level=a, group2_level=visit,
                    variable_level=f"{a} - {b}")

    for label, pairs in (("p-value(Xan - Placebo)", [(low, pbo), (high, pbo)]),
                         ("p-value(Xan High - Xan Low)", [(high, low)])):
        t = t.add_row(label, {a: diff(a, b, "{p.value}") for a, b in pairs})
        t = t.add_row("Diff of LS Means (SE)", {a: diff(a, b, "{estimate} ({std.error})") for a, b in pairs},
                      indent=1)
        t = t.add_row("95% CI", {a: diff(a, b, "({conf.low};{conf.high})") for a, b in pairs}, indent=1)
    return (t.footnote("Mixed model for repeated measures (observed cases, Week 8, Week 16 and Week 24): treatment, "
                       "site group, visit, treatment-by-visit, baseline and baseline-by-visit; unstructured "
                       "covariance; Kenward-Roger degrees of freedom; LS means with equal weights at "
                       f"{visit}.")
             .footnote("P values without adjustment for multiple comparisons."))


def table_14_3_13(placed: pd.DataFrame, rules):
    """14-3.13: CIBIC+ categories by visit with the CMH P value."""
    from trialsupp.display import cell, select

    t = _arm_columns(_table("14-3.13", rules, stub_header="Assessment"), placed)
    t = t.add_column("p", "p-value [1]")
    for week in (8, 16, 24):
        vis = f"Week {week}"
        t = t.add_group(vis)
        row_n = {a: cell(placed, "{N}", rules=rules, context="summary", group1_level=a, group2_level=vis)
                 for a in ARMS}
        row_n["p"] = cell(placed, "{p.value}", rules=rules, context="cmh", group2_level=vis,
                          variable_level="row mean scores differ")
        t = t.add_row("n", row_n)
        for code, lab in CIBIC_LEVELS.items():
            cells = {}
            for a in ARMS:
                sub = select(placed, context="tabulate", group1_level=a, group2_level=vis, variable_level=code)
                n = select(sub, stat_name="n")
                # the CSR (and its R replication) prints a zero count as plain "0", as the lab shells
                zero = len(n) and n["stat"].iloc[0] == 0
                cells[a] = cell(sub, "{n}" if zero else "{n} ({p}%)", rules=rules)
            t = t.add_row(lab, cells, indent=1)
    return t.footnote("[1] Cochran-Mantel-Haenszel test (row mean scores differ), controlling for site "
                      "group.")


def table_glucose(placed: pd.DataFrame, rules):
    """Pilot 1 glucose ANCOVA table (one row per arm, then the comparison and RMSE)."""
    from trialsupp.display import Table, cell

    t = Table(OUTPUTS["pilot1-glucose"][0], label="t-pilot1-glucose", stub_header="Treatment",
              rules=rules)
    for key, head, sp in (("n1", "N", "Baseline"), ("m1", "Mean (SD)", "Baseline"),
                          ("n2", "N", "Week 20"), ("m2", "Mean (SD)", "Week 20"),
                          ("n3", "N", "Change from Baseline"), ("m3", "Mean (SD)", "Change from Baseline"),
                          ("ls", "LS Mean (95% CI) [b]", "Change from Baseline")):
        t = t.add_column(key, head)
    t = (t.spanner("Baseline [a]", ["n1", "m1"]).spanner("Week 20", ["n2", "m2"])
         .spanner("Change from Baseline", ["n3", "m3", "ls"]))
    for arm in GLUCOSE_ARMS:
        def s(var, vis, tpl):
            return cell(placed, tpl, rules=rules, context="summary", variable=var, group1_level=arm,
                        group2_level=vis)
        t = t.add_row(arm, {"n1": s("BASE", "Baseline", "{N}"), "m1": s("BASE", "Baseline", "{mean} ({sd})"),
                            "n2": s("AVAL", "Week 20", "{N}"), "m2": s("AVAL", "Week 20", "{mean} ({sd})"),
                            "n3": s("CHG", "Week 20", "{N}"), "m3": s("CHG", "Week 20", "{mean} ({sd})"),
                            "ls": cell(placed, "{estimate} ({conf.low}, {conf.high})", rules=rules,
                                       context="ancova.lsmeans", group1_level=arm)})
    diff = cell(placed, "{estimate}", rules=rules, context="ancova.diff")
    ci = cell(placed, "({conf.low}, {conf.high})", rules=rules, context="ancova.diff.ci196")
    from trialsupp.display._table_data import Cell
    t = t.add_row("Xanomeline High Dose vs. Placebo: difference in LS Mean (95% CI) [b]",
                  {"ls": Cell(diff.parts + (" ",) + ci.parts)})
    t = t.add_row("p-Value", {"ls": cell(placed, "{p.value}", rules=rules, context="ancova.diff")})
    t = t.add_row("Root Mean Squared Error of Change", {"ls": cell(placed, "{rmse}", rules=rules,
                                                                   context="ancova.fit")})
    return (t.footnote("[a] Baseline: participants with a baseline glucose value. Week 20 and change from "
                       "baseline (and the ANCOVA): participants with a value at both Baseline and Week 20.")
             .footnote("[b] Based on an Analysis of covariance (ANCOVA) model with treatment and baseline "
                       "value as covariates; the CI of the difference is estimate +/- 1.96 x SE.")
             .abbreviations({"CI": "Confidence Interval", "LS": "Least Squares", "SD": "Standard Deviation"}))


def figure_14_1(curve: pd.DataFrame, risk: pd.DataFrame, rules, times: Sequence[float] = KM_TIMES):
    """Figure 14-1 from placed curve and at-risk rows (matplotlib figure)."""
    import matplotlib.pyplot as plt

    from trialsupp.display.figures import km_plot
    from trialsupp.display.theme import house_theme

    with house_theme("full"):
        fig, ax = plt.subplots(figsize=(7.0, 4.6))
        km_plot(pd.concat([curve, risk], ignore_index=True), ax=ax, groups=ARMS, ci=True, censor=True,
                median_line=True, risk_table=True, times=times, rules=rules,
                xlabel="Time to First Dermatologic Event (Days)", ylabel="Probability of no event",
                xmax=max(times) + 10)
        ax.set_title(OUTPUTS["14-1"][0], fontsize=9, fontweight="bold")
    return fig


def write_rtf(table, out_dir, number: str, *, population: str, source: str, data_cut: str | None = None,
              number_text: str | None = None) -> str:
    """Write ``<out_dir>/rtf/t-<number>.rtf`` (CSR page header, titles and footer); returns the path.
    ``number_text``: the printed number when it is not "Table <number>" (R Submission Pilot 1)."""
    from pathlib import Path

    path = Path(out_dir) / "rtf" / f"t-{number.replace('.', '-')}.rtf"
    path.parent.mkdir(parents=True, exist_ok=True)
    kind = "Figure" if number == "14-1" else "Table"
    table.to_rtf(path, number=number_text or (f"{kind} {number}" if number[0].isdigit() else None),
                 titles=[f"Population: {population}"], header_left="Protocol: CDISCPILOT01",
                 header_right="Page {page} of {pages}",
                 footer_left=f"Source: {source}, cell {path.stem}",
                 footer_right=f"Data cut: {data_cut or 'none'}")
    return str(path)


PILOT1 = "R Submission Pilot 1"


def write_figure_rtf(fig, out_dir, *, population: str, source: str, data_cut: str | None = None) -> str:
    """Figure 14-1 as its own RTF page (``<out_dir>/rtf/f-14-1.rtf``; 200 dpi PNG inside)."""
    from pathlib import Path

    from trialsupp.display.rtf_figure import figure_rtf

    rtf_dir = Path(out_dir) / "rtf"
    rtf_dir.mkdir(parents=True, exist_ok=True)
    png = rtf_dir / "f-14-1.png"
    fig.savefig(png, dpi=200, bbox_inches="tight", metadata={"Software": None})
    path = rtf_dir / "f-14-1.rtf"
    figure_rtf(png, path, number="Figure 14-1", title=OUTPUTS["14-1"][0], titles=[f"Population: {population}"],
               footnotes=["Kaplan-Meier estimates with pointwise 95% confidence bands (log-log); "
                          "+ censored; number of subjects at risk below the axis."],
               header_left="Protocol: CDISCPILOT01", footer_left=f"Source: {source}, cell f-14-1",
               footer_right=f"Data cut: {data_cut or 'none'}")
    png.unlink()
    return str(path)

