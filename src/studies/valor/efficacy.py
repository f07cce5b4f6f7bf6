"""Efficacy analyses of the simulated VALOR/OLE study (THE DATA ARE SIMULATED).

Each function selects the data of one analysis, calls ``trialsupp.stats`` and
returns ARD rows (or a fitted model whose ``to_ard`` gives them). Models:

* week 28, faster-progression population (VALOR primary population):
  MMRM of the change from baseline (unstructured covariance, Kenward-Roger df,
  REML; arm x visit, baseline value) over the double-blind visits, for ALSFRS-R,
  SVC and HHD; Finkelstein-Schoenfeld joint rank test of ALSFRS-R change with
  death or permanent ventilation (Koch rank ANCOVA on baseline ALSFRS-R and
  time since onset; missing ALSFRS-R of survivors multiply imputed).
* early vs delayed start (ITT or a progression subgroup): MMRM of the change
  from baseline over weeks 16-148 (unstructured, Kenward-Roger; start group x
  visit, baseline value, progression subgroup), LS means per group, differences
  (early - delayed), 95% CI, nominal P at weeks 52 and 148.
* subgroups: week-52 ALSFRS-R difference (MMRM over weeks 16-52 within each
  subgroup) and Cox hazard ratio for death or permanent ventilation.
* individual course: share of participants whose ALSFRS-R change at the
  definition visit is at least the threshold (``simulation.stabilise_or_improve``).
"""
from __future__ import annotations

import warnings
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from trialsupp.ard.schema import ard_rows, bind_ard
from trialsupp.stats.cox import CoxPH
from trialsupp.stats.descriptive import ard_tabulate
from trialsupp.stats.exceptions import NotEstimableError, StatisticalWarning
from trialsupp.stats.jointrank import JointRankTest
from trialsupp.stats.mmrm import MMRMFitter

from .common import (ARM, DELAYED, EARLY, ENDPOINTS, FASTER, GROUP, LONG_VISITS, PBO, PROGGR, SHORT_VISITS,
                     TOF, VALOR_VISITS, WEEK28_WINDOW_DAYS, endpoint_records, population, usable_visits,
                     visit_name)

__all__ = ["fit_mmrm", "mmrm_ard", "ard_group_sizes", "ard_week28_mmrm", "ard_jointrank_week28",
           "fit_long", "ard_early_delayed", "ard_visit_n", "ard_interactions", "ard_change_over_time", "ard_subgroups", "ard_stabilised",
           "trajectories", "subgroup_frame", "SUBGROUPS"]


def fit_mmrm(df: pd.DataFrame, outcome: str, group: str, group_order: Sequence[str], weeks: Sequence[int],
             covariates: Sequence[str] = ("BASE",)) -> MMRMFitter:
    """MMRM of ``outcome`` (change from baseline): group x visit + covariates, unstructured
    covariance, REML, Kenward-Roger df (``MMRMFitter`` defaults)."""
    weeks = usable_visits(df, weeks, group, group_order, outcome)
    if not weeks:
        raise NotEstimableError(f"{outcome}: no visit with enough observed values in every group")
    sub = df[df["AVISITN"].isin(weeks)]
    return MMRMFitter(covariance="us", df_method="kenward-roger").fit(
        sub, outcome=outcome, subject="USUBJID", visit="AVISIT", group=group, covariates=list(covariates),
        visit_order=[visit_name(w) for w in weeks], group_order=list(group_order))


def _ne_rows(outcome: str, group: str, levels: Sequence[str], visit: str, reference: str, reason: str):
    """Not-estimable LS mean and difference rows for a visit the model could not estimate."""
    parts = []
    for lv in levels:
        parts.append(ard_rows({k: None for k in ("estimate", "std.error", "df", "conf.low", "conf.high")},
                              group1=group, group1_level=lv, group2="AVISIT", group2_level=visit,
                              variable=outcome, context="mmrm_lsmeans", error=reason))
    for lv in levels:
        if lv == reference:
            continue
        parts.append(ard_rows({k: None for k in ("estimate", "std.error", "df", "conf.low", "conf.high",
                                                 "statistic", "p.value")},
                              group1=group, group1_level=lv, group2="AVISIT", group2_level=visit,
                              variable=outcome, variable_level=f"{lv} - {reference}", context="mmrm_diff",
                              error=reason))
    return bind_ard(*parts)


# decimals of means, differences and CIs by measurement (JAMA: at most one more digit than the
# raw measurement): ALSFRS-R is an integer 0-48 score, SVC an integer % predicted, ALSAQ-40 a
# 0-100 score, the HHD megascore a z score recorded to 2 decimals
DECIMALS = {"ALSFRST": 1, "SVCPP": 1, "ALSAQ40": 1, "HHDMS": 2}


def by_measurement(ard: pd.DataFrame, outcome: str) -> pd.DataFrame:
    """Set the decimals of the estimate, SE and CI rows from the outcome's resolution."""
    if outcome not in DECIMALS or ard.empty:
        return ard
    out = ard.copy()
    m = out["stat_name"].isin(["estimate", "std.error", "conf.low", "conf.high"])
    out.loc[m, "fmt"] = f"d{DECIMALS[outcome]}"
    return out


def mmrm_ard(fit: MMRMFitter | None, outcome: str, group: str, levels: Sequence[str],
             report_weeks: Sequence[int], reason: str | None = None) -> pd.DataFrame:
    """ARD rows of an MMRM at ``report_weeks``; NE rows for weeks the model does not contain."""
    reference = levels[0]
    parts = []
    have = [] if fit is None else list(fit.spec_.levels[fit.spec_.visit])
    wanted = [visit_name(w) for w in report_weeks]
    present = [v for v in wanted if v in have]
    if present:
        parts.append(fit.to_ard(visit=present, reference=reference))
    for v in wanted:
        if v not in present:
            why = reason or (f"fewer than the required participants per group with an observed value at {v} "
                             "in this data cut")
            parts.append(_ne_rows(outcome, group, levels, v, reference, why))
    return by_measurement(bind_ard(*parts), outcome)


def ard_group_sizes(pop: pd.DataFrame, by: str) -> pd.DataFrame:
    """Participants per group (column headers)."""
    return ard_tabulate(pop, by, statistic=("n",))


# ---------------------------------------------------------------- week 28 (faster progression)
def ard_week28_mmrm(data: Mapping[str, pd.DataFrame], codes: Sequence[str] = ("ALSFRST", "SVCPP", "HHDMS"),
                    pop_name: str = FASTER) -> pd.DataFrame:
    """Week-28 LS mean change by arm and difference (tofersen - placebo), per endpoint."""
    pop = population(data["adsl"], pop_name)
    parts = []
    for code in codes:
        df = endpoint_records(data, code, pop, VALOR_VISITS)
        try:
            fit = fit_mmrm(df, code, ARM, [PBO, TOF], VALOR_VISITS)
            parts.append(mmrm_ard(fit, code, ARM, [PBO, TOF], [28]))
        except (NotEstimableError, ValueError) as exc:
            parts.append(mmrm_ard(None, code, ARM, [PBO, TOF], [28], reason=str(exc)))
    return bind_ard(*parts)


def jointrank_frame(data: Mapping[str, pd.DataFrame], pop: pd.DataFrame) -> pd.DataFrame:
    """One row per participant: time to death or permanent ventilation within the double-blind
    period, the event flag, the week-28 ALSFRS-R change (may be missing) and covariates."""
    tte = data["adtte"]
    tte = tte[(tte["PARAMCD"] == "DTHPV") & tte["USUBJID"].isin(pop["USUBJID"])]
    df = pop[["USUBJID", ARM, "BLALSFRS", "ONSETMO"]].merge(tte[["USUBJID", "AVAL", "CNSR"]], on="USUBJID")
    df["TIME"] = np.minimum(df["AVAL"], WEEK28_WINDOW_DAYS)
    df["FATAL"] = ((df["CNSR"] == 0) & (df["AVAL"] <= WEEK28_WINDOW_DAYS)).astype(int)
    w28 = endpoint_records(data, "ALSFRST", pop, [28])[["USUBJID", "ALSFRST"]]
    return df.merge(w28, on="USUBJID", how="left").sort_values("USUBJID").reset_index(drop=True)


def ard_jointrank_week28(data: Mapping[str, pd.DataFrame], n_imputations: int = 20, seed: int | None = None,
                         pop_name: str = FASTER) -> pd.DataFrame:
    """Joint rank test (ALSFRS-R change at week 28 with death or permanent ventilation)."""
    df = jointrank_frame(data, population(data["adsl"], pop_name))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        jr = JointRankTest(n_imputations=n_imputations, seed=seed, adjust="koch").fit(
            df, time="TIME", fatal="FATAL", outcome="ALSFRST", arm=ARM, treatment=TOF,
            covariates=["BLALSFRS", "ONSETMO"])
    return jr.to_ard()


# ---------------------------------------------------------------- early vs delayed start
def fit_long(data: Mapping[str, pd.DataFrame], code: str, pop_name: str = "ITT",
             weeks: Sequence[int] = LONG_VISITS, pop: pd.DataFrame | None = None) -> MMRMFitter:
    """Early vs delayed start MMRM (covariates: baseline value; progression subgroup in a
    population that contains both subgroups)."""
    pop = population(data["adsl"], pop_name) if pop is None else pop
    covs = ["BASE"] + ([PROGGR] if pop[PROGGR].nunique() > 1 else [])
    df = endpoint_records(data, code, pop, weeks)
    return fit_mmrm(df, code, GROUP, [DELAYED, EARLY], weeks, covs)


def ard_early_delayed(fits: Mapping[str, MMRMFitter | Exception], report_weeks: Sequence[int] = (52, 148)
                      ) -> pd.DataFrame:
    """LS means, differences (early - delayed), CI and P at ``report_weeks`` per endpoint."""
    parts = []
    for code, fit in fits.items():
        if isinstance(fit, Exception):
            parts.append(mmrm_ard(None, code, GROUP, [DELAYED, EARLY], report_weeks, reason=str(fit)))
        else:
            parts.append(mmrm_ard(fit, code, GROUP, [DELAYED, EARLY], report_weeks))
    return bind_ard(*parts)


def ard_visit_n(data: Mapping[str, pd.DataFrame], codes: Sequence[str] = tuple(ENDPOINTS),
                weeks: Sequence[int] = (52, 148), pop_name: str = "ITT") -> pd.DataFrame:
    """Participants with an observed change from baseline per start group, end point and week
    (the per-visit n behind the MMRM estimates; context ``visit_n``)."""
    pop = population(data["adsl"], pop_name)
    parts = []
    for code in codes:
        df = endpoint_records(data, code, pop, weeks)
        for w in weeks:
            at = df[(df["AVISITN"] == w) & df[code].notna()]
            for lv in (DELAYED, EARLY):
                parts.append(ard_rows({"n": int((at[GROUP] == lv).sum())}, variable=code, group1=GROUP,
                                      group1_level=lv, group2="AVISIT", group2_level=f"Week {w}",
                                      context="visit_n", method="Participants with an observed value",
                                      fmt={"n": "int"}))
    return bind_ard(*parts)


def fit_all_long(data: Mapping[str, pd.DataFrame], codes: Sequence[str] = tuple(ENDPOINTS),
                 pop_name: str = "ITT", weeks: Sequence[int] = LONG_VISITS) -> dict:
    """``fit_long`` per endpoint; a failed fit is kept as its exception (shown as NE)."""
    out = {}
    for code in codes:
        try:
            out[code] = fit_long(data, code, pop_name, weeks)
        except (NotEstimableError, ValueError) as exc:
            out[code] = exc
    return out


def ard_change_over_time(fit: MMRMFitter, subgroup: str | None = None) -> pd.DataFrame:
    """LS mean change (95% CI) at every visit of the model, one point per group and week, with
    the model's per-visit ``n`` (printed under the figure's time axis).

    The rows are the model's LS-mean rows relabelled for plotting: ``variable_level``
    is the study week; ``group2`` carries the progression subgroup when given.
    """
    ard = by_measurement(fit.to_ard(), fit.spec_.outcome)
    ard = ard[ard["context"] == "mmrm_lsmeans"].copy()
    ard["variable_level"] = [int(str(v).split()[-1]) for v in ard["group2_level"]]
    ard["group2"] = PROGGR if subgroup else None
    ard["group2_level"] = subgroup
    return ard.reset_index(drop=True)


# ---------------------------------------------------------------- subgroups (forest)
# subgroup variable -> display heading; levels come from the data (NfL tertiles derived below)
SUBGROUPS = {PROGGR: "Progression subgroup", "SEX": "Sex", "AGEGR1": "Age group",
             "NFLTERT": "Baseline plasma NfL tertile", "REGION": "Region"}
NFL_TERTILES = ("Lowest tertile", "Middle tertile", "Highest tertile")
SEX_LABELS = {"F": "Female", "M": "Male"}


def subgroup_frame(adsl: pd.DataFrame) -> pd.DataFrame:
    """ITT ADSL with the baseline NfL tertile (ranked into thirds) as ``NFLTERT``."""
    pop = population(adsl, "ITT")
    pop["NFLTERT"] = pd.qcut(pop["NFLBL"].rank(method="first"), 3, labels=list(NFL_TERTILES)).astype(str)
    return pop


def _relabel(rows: pd.DataFrame, variable: str, level: str | None) -> pd.DataFrame:
    out = rows.copy()
    out["variable"], out["variable_level"] = variable, level
    for c in ("group1", "group1_level", "group2", "group2_level"):
        out[c] = None
    return out


def _week52_diff(data, pop) -> pd.DataFrame:
    try:
        fit = fit_long(data, "ALSFRST", weeks=SHORT_VISITS, pop=pop)
        ard = mmrm_ard(fit, "ALSFRST", GROUP, [DELAYED, EARLY], [52])
    except (NotEstimableError, ValueError, np.linalg.LinAlgError) as exc:
        ard = mmrm_ard(None, "ALSFRST", GROUP, [DELAYED, EARLY], [52], reason=str(exc))
    return ard[ard["context"] == "mmrm_diff"]


def _hr(data, pop, paramcd: str = "DTHPV") -> pd.DataFrame:
    tte = data["adtte"]
    df = tte[(tte["PARAMCD"] == paramcd) & tte["USUBJID"].isin(pop["USUBJID"])].copy()
    df["EVENT"] = 1 - df["CNSR"]
    stats = ("estimate", "std.error", "statistic", "p.value", "conf.low", "conf.high")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ard = CoxPH().fit(df, time="AVAL", event="EVENT", treatment=GROUP, reference=DELAYED).to_ard()
        ard = ard[(ard["group1_level"] == EARLY) & ard["stat_name"].isin(stats)]
        if ard["stat"].isna().any():
            ard = ard.copy()
            ard["stat"] = None
        return ard
    except (NotEstimableError, ValueError) as exc:
        return ard_rows({k: None for k in stats}, group1=GROUP, group1_level=EARLY, group2=GROUP,
                        group2_level=DELAYED, context="cox", error=str(exc))


def ard_subgroups(data: Mapping[str, pd.DataFrame], paramcd: str = "DTHPV") -> dict[str, pd.DataFrame]:
    """Week-52 ALSFRS-R difference (early - delayed) and HR (early vs delayed) overall and per
    subgroup level; rows keyed by ``variable`` (subgroup heading) and ``variable_level`` (level)."""
    pop = subgroup_frame(data["adsl"])
    diff, hr = [], []
    for lv, head, sub in [(None, "Overall", pop)] + [
            (lv, head, pop[pop[var] == lv]) for var, head in SUBGROUPS.items()
            for lv in (list(NFL_TERTILES) if var == "NFLTERT" else sorted(pop[var].unique()))]:
        counts = _subgroup_counts(data, sub, paramcd)
        diff.append(_relabel(bind_ard(_week52_diff(data, sub), counts[0]), head, lv))
        hr.append(_relabel(bind_ard(_hr(data, sub, paramcd), *counts), head, lv))
    return {"diff": bind_ard(*diff), "hr": bind_ard(*hr)}


def _subgroup_counts(data, pop, paramcd: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Participants (``N``) and ``paramcd`` events (``n_event``) of a subgroup, both start groups."""
    tte = data["adtte"]
    ev = tte[(tte["PARAMCD"] == paramcd) & tte["USUBJID"].isin(pop["USUBJID"]) & (tte["CNSR"] == 0)]
    return (ard_rows({"N": int(len(pop))}, context="subgroup_n", method="Participants in the subgroup",
                     fmt={"N": "int"}),
            ard_rows({"n_event": int(ev["USUBJID"].nunique())}, context="subgroup_n",
                     method=f"Participants with an event ({paramcd})", fmt={"n_event": "int"}))


def interaction_frame(data: Mapping[str, pd.DataFrame], paramcd: str = "DTHPV") -> pd.DataFrame:
    """One row per ITT participant: start group, subgroup variables, baseline ALSFRS-R, the observed
    week-52 ALSFRS-R change (NaN if missing) and the time to ``paramcd`` (AVAL, EVENT)."""
    pop = subgroup_frame(data["adsl"])
    w52 = endpoint_records(data, "ALSFRST", pop, [52])[["USUBJID", "CHG"]]
    tte = data["adtte"]
    tte = tte.loc[tte["PARAMCD"] == paramcd, ["USUBJID", "AVAL", "CNSR"]]
    df = pop.merge(w52, on="USUBJID", how="left").merge(tte, on="USUBJID", how="left")
    df["EVENT"] = 1 - df["CNSR"]
    df["EARLY"] = (df[GROUP] == EARLY).astype(float)
    return df


def ard_interactions(data: Mapping[str, pd.DataFrame], paramcd: str = "DTHPV") -> pd.DataFrame:
    """Treatment-by-subgroup interaction P values per subgroup variable (context ``interaction``):
    week-52 ALSFRS-R change, F test of the start group x subgroup terms in an ANCOVA (start group,
    subgroup, baseline ALSFRS-R, their interaction; observed values); HR, likelihood-ratio test
    of the same terms in a Cox model (Efron ties)."""
    return interaction_ard(interaction_frame(data, paramcd))


def interaction_ard(df: pd.DataFrame) -> pd.DataFrame:
    """``ard_interactions`` on an ``interaction_frame``."""
    import statsmodels.formula.api as smf
    from scipy import stats as sst
    from statsmodels.stats.anova import anova_lm

    parts = []
    for var, head in SUBGROUPS.items():
        d = df[df["CHG"].notna()].copy()
        d["SUB"] = d[var].astype(str)
        full = smf.ols("CHG ~ EARLY * C(SUB) + BLALSFRS", d).fit()
        red = smf.ols("CHG ~ EARLY + C(SUB) + BLALSFRS", d).fit()
        p_alsfrs = float(anova_lm(red, full)["Pr(>F)"].iloc[1])
        t = df[df["AVAL"].notna()].copy()
        dummies = pd.get_dummies(t[var].astype(str), prefix="S", drop_first=True, dtype=float)
        dummies.columns = [f"S{i}" for i in range(dummies.shape[1])]
        inter = dummies.mul(t["EARLY"], axis=0)
        inter.columns = [f"I{i}" for i in range(inter.shape[1])]
        t = pd.concat([t[["AVAL", "EVENT", "EARLY"]], dummies, inter], axis=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            c1 = CoxPH().fit(t, time="AVAL", event="EVENT", covariates=["EARLY", *dummies.columns, *inter.columns])
            c0 = CoxPH().fit(t, time="AVAL", event="EVENT", covariates=["EARLY", *dummies.columns])
        lr = 2 * (c1.loglik_ - c0.loglik_)
        p_hr = float(sst.chi2.sf(lr, inter.shape[1]))
        parts.append(ard_rows({"p.alsfrs": p_alsfrs, "p.hr": p_hr}, variable=var, variable_level=head,
                              context="interaction", method="Interaction tests: ANCOVA F test; Cox likelihood ratio",
                              fmt={"p.alsfrs": "pvalue", "p.hr": "pvalue"}))
    return bind_ard(*parts)


def ard_subgroup_sizes(data: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Participants per subgroup level (for the forest plot labels)."""
    pop = subgroup_frame(data["adsl"])
    return bind_ard(*[ard_tabulate(pop, var, statistic=("n",)) for var in SUBGROUPS])


# ---------------------------------------------------------------- individual course
def ard_stabilised(data: Mapping[str, pd.DataFrame], week: int, min_change: float, pop_name: str = "ITT"
                   ) -> pd.DataFrame:
    """Participants assessed at ``week`` whose ALSFRS-R change is >= ``min_change`` (STABFL = Y),
    n/N and proportion by start group and overall (N = assessed at that visit)."""
    pop = population(data["adsl"], pop_name)
    df = endpoint_records(data, "ALSFRST", pop, [week])
    df = df[df["CHG"].notna()].copy()
    df["STABFL"] = pd.Categorical(np.where(df["CHG"] >= min_change, "Y", "N"), categories=["Y", "N"])
    df[GROUP] = pd.Categorical(df[GROUP], categories=[EARLY, DELAYED])
    return bind_ard(ard_tabulate(df, "STABFL", by=GROUP), ard_tabulate(df, "STABFL"))


def trajectories(data: Mapping[str, pd.DataFrame], pop_name: str = "ITT", max_week: int | None = None
                 ) -> pd.DataFrame:
    """Participant ALSFRS-R change from baseline by week (data for the spaghetti plot)."""
    pop = population(data["adsl"], pop_name)
    q = data["adqs"]
    q = q[(q["PARAMCD"] == "ALSFRST") & q["USUBJID"].isin(pop["USUBJID"])]
    if max_week is not None:
        q = q[q["AVISITN"] <= max_week]
    return q[["USUBJID", GROUP, "AVISITN", "CHG"]].rename(columns={"AVISITN": "WEEK"}).reset_index(drop=True)
