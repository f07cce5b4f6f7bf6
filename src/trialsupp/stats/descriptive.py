"""Descriptive statistics as ARD rows: continuous summaries, counts/percents, geometric means.

Quantiles follow the SAS default definition (PROC UNIVARIATE / PROC MEANS
``QNTLDEF=5``, R ``quantile(type = 2)``), which is what CSR tables show: with
``n`` sorted values and ``n * p = j + g`` (``j`` integer part, ``g`` fraction),
the quantile is ``x[j+1]`` when ``g > 0`` and ``(x[j] + x[j+1]) / 2`` when
``g == 0`` (1-based order statistics). numpy's default (``method="linear"``,
R type 7) interpolates between order statistics instead, so Q1/Q3 differ for
most ``n`` (e.g. x = 1..10: SAS Q1 = 3, numpy Q1 = 3.25). The median agrees.
numpy >= 1.22 exposes the same rule as ``method="averaged_inverted_cdf"``.
"""
from __future__ import annotations

import math
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from trialsupp.ard.fmt import pct_spec_for
from trialsupp.ard.provenance import code_ref
from trialsupp.ard.schema import ard_frame, ard_records, ard_rows, cells_frame
from trialsupp.ard.schema import bind_ard

__all__ = ["sas_quantile", "ard_summary", "ard_tabulate", "ard_geomean", "group_levels"]

CONTINUOUS_STATS = ("N", "mean", "sd", "median", "q1", "q3", "min", "max")


def sas_quantile(values: Iterable[float], prob: float) -> float:
    """Quantile by the SAS default definition (QNTLDEF=5; R type 2).

    Parameters
    ----------
    values : iterable of float
        Data; missing values (NaN) are ignored.
    prob : float
        Probability in [0, 1].

    Returns
    -------
    float
        The quantile, or NaN for no data.
    """
    x = np.sort(np.asarray([v for v in values if v is not None], dtype=float))
    x = x[~np.isnan(x)]
    n = len(x)
    if n == 0:
        return math.nan
    if not 0.0 <= prob <= 1.0:
        raise ValueError(f"prob must be within [0, 1], got {prob}")
    np_ = n * prob
    j = math.floor(np_ + 1e-12 * n)  # guard against 0.1*10 = 0.999.. style float error
    g = np_ - j
    if abs(g) <= 1e-12 * max(n, 1):  # n*p is an integer: average two order statistics
        lo = x[max(j - 1, 0)]
        hi = x[min(j, n - 1)]
        return float((lo + hi) / 2.0)
    return float(x[min(j, n - 1)])


def group_levels(series: pd.Series) -> list:
    """Levels of a grouping variable: categories of a categorical (kept even if empty), else sorted values."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return list(series.cat.categories)
    return sorted(series.dropna().unique().tolist())


def _narrow(df: pd.DataFrame, cols: Iterable[str | None]) -> pd.DataFrame:
    """Only the columns an analysis reads: every row selection below then copies a few columns,
    not the 50-100 of an ADaM dataset (most of the time of a lab table, hand-optimised)."""
    return df[list(dict.fromkeys(c for c in cols if c is not None))]


def _split(df: pd.DataFrame, col: str | None) -> list[tuple[Any, pd.DataFrame]]:
    if col is None:
        return [(None, df)]
    groups = [(lvl, df[df[col] == lvl]) for lvl in group_levels(df[col])]
    return groups or [(None, df)]      # no rows and no known levels: one empty group (NE rows)


def _cells(df: pd.DataFrame, var: str, by: str | None, strata: str | None):
    """(by level, strata level, non-missing values of ``var``) as ``_split`` within ``_split``
    gives them; the inner split on numpy arrays (a frame per visit and arm was most of the time
    of a by-visit summary, hand-optimised)."""
    for lvl1, sub1 in _split(df, by):
        values = pd.to_numeric(sub1[var]).to_numpy(float)
        if strata is None:
            yield lvl1, None, values[~np.isnan(values)]
            continue
        levels = group_levels(sub1[strata])
        if not levels:                      # _split: one group of every row
            yield lvl1, None, values[~np.isnan(values)]
            continue
        keys = sub1[strata]
        for lvl2 in levels:
            x = values[(keys == lvl2).to_numpy(dtype=bool)]      # the comparison _split makes
            yield lvl1, lvl2, x[~np.isnan(x)]


def _decimals(x: np.ndarray, cap: int = 4) -> int:
    """Number of decimals the raw data are recorded with (0..cap)."""
    for d in range(cap + 1):
        if np.all(np.abs(x * 10**d - np.round(x * 10**d)) < 1e-8 * np.maximum(1, np.abs(x * 10**d))):
            return d
    return cap


def _summary_fmt(x: np.ndarray) -> dict[str, str]:
    """CSR convention: min/max as recorded, mean/median/quartiles +1 decimal, SD +2."""
    k = _decimals(x) if len(x) else 0
    return {"N": "int", "min": f"d{k}", "max": f"d{k}", "mean": f"d{k + 1}", "median": f"d{k + 1}",
            "q1": f"d{k + 1}", "q3": f"d{k + 1}", "sd": f"d{k + 2}"}


def _continuous_stats(x: np.ndarray, wanted: Sequence[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Compute the requested statistics; returns values and per-stat error reasons."""
    n = len(x)
    funcs = {
        "N": lambda: n,
        "mean": lambda: float(np.mean(x)),
        "sd": lambda: float(np.std(x, ddof=1)),
        "median": lambda: sas_quantile(x, 0.5),
        "q1": lambda: sas_quantile(x, 0.25),
        "q3": lambda: sas_quantile(x, 0.75),
        "min": lambda: float(np.min(x)),
        "max": lambda: float(np.max(x)),
    }
    values, errors = {}, {}
    for name in wanted:
        if name not in funcs:
            raise ValueError(f"unknown statistic {name!r}; choose from {', '.join(funcs)}")
        if name != "N" and n == 0:
            values[name], errors[name] = None, "no non-missing values"
        elif name == "sd" and n < 2:
            values[name], errors[name] = None, "SD needs at least 2 values"
        else:
            values[name] = funcs[name]()
    return values, errors


def _rows_with_errors(values: Mapping[str, Any], errors: Mapping[str, str], **kw) -> pd.DataFrame:
    """ard_rows with a per-statistic error reason."""
    rows = ard_rows(values, **kw)          # one frame for the cell (ard_rows per stat is slow)
    for i, name in enumerate(values):
        if name in errors:
            rows.iat[i, rows.columns.get_loc("error")] = errors[name]
    return rows


def _check_columns(df: pd.DataFrame, cols: Iterable[str | None]) -> None:
    missing = [c for c in cols if c is not None and c not in df.columns]
    if missing:
        raise KeyError(f"column(s) not in data: {', '.join(missing)}")


def ard_summary(df: pd.DataFrame, variables: str | Sequence[str], by: str | None = None,
                strata: str | None = None, statistic: Sequence[str] = CONTINUOUS_STATS,
                fmt: Mapping[str, str] | None = None,
                stat_label: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Summary statistics of continuous variables, one ARD row per statistic.

    Parameters
    ----------
    df : DataFrame
        Analysis data (one row per subject for baseline tables).
    variables : str or list of str
        Continuous variables to summarise.
    by : str, optional
        Grouping variable (e.g. ``"TRT01P"``), reported as ``group1``. A
        categorical keeps empty levels (``N = 0`` and NE statistics).
    strata : str, optional
        Second grouping variable, reported as ``group2``.
    statistic : sequence of str
        Any of ``N`` (non-missing n), ``mean``, ``sd``, ``median``, ``q1``,
        ``q3``, ``min``, ``max``. Quantiles use SAS QNTLDEF=5 (see module doc).
    fmt : mapping, optional
        Format spec per statistic; default by the CSR convention (min/max with
        the data's decimals, mean/median/quartiles one more, SD two more).
    stat_label : mapping, optional
        Label per statistic.

    Returns
    -------
    DataFrame
        ARD rows; an empty population gives ``N = 0`` and NE rows with the reason.
    """
    variables = [variables] if isinstance(variables, str) else list(variables)
    _check_columns(df, [*variables, by, strata])
    df = _narrow(df, [*variables, by, strata])
    code = code_ref(ard_summary)
    method = "Descriptive statistics; quartiles by SAS QNTLDEF=5"
    cells = []
    for var in variables:
        all_x = pd.to_numeric(df[var], errors="raise").dropna().to_numpy(float)
        var_fmt = {**_summary_fmt(all_x), **(fmt or {})}
        for lvl1, lvl2, x in _cells(df, var, by, strata):
            values, errors = _continuous_stats(x, statistic)
            cells.append(ard_records(
                values, errors=errors, variable=var, group1=by, group1_level=lvl1,
                group2=strata, group2_level=lvl2, context="summary", method=method,
                code=code, fmt=var_fmt, labels=stat_label))
    return cells_frame(cells)


def _denominators(df: pd.DataFrame, by: str | None, denominator: pd.DataFrame | None,
                  id: str | None) -> dict[Any, int] | None:
    """Header N per ``by`` level from a denominator frame (distinct ``id`` when given)."""
    if denominator is None:
        return None
    if by is not None and by not in denominator.columns:
        raise KeyError(f"denominator data has no column {by!r}")

    def count(frame: pd.DataFrame) -> int:
        return int(frame[id].nunique()) if id else len(frame)

    if by is None:
        return {None: count(denominator)}
    levels = group_levels(df[by]) if isinstance(df[by].dtype, pd.CategoricalDtype) else \
        sorted(set(group_levels(df[by])) | set(group_levels(denominator[by])))
    return {lvl: count(denominator[denominator[by] == lvl]) for lvl in levels}


def ard_tabulate(df: pd.DataFrame, variables: str | Sequence[str], by: str | None = None,
                 denominator: pd.DataFrame | None = None, id: str | None = None,
                 statistic: Sequence[str] = ("n", "N", "p"), fmt: Mapping[str, str] | None = None,
                 stat_label: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Counts and proportions of categorical variables with explicit denominators.

    Parameters
    ----------
    df : DataFrame
        Analysis data.
    variables : str or list of str
        Categorical variables; categories of a categorical dtype are all shown
        (zero counts included), otherwise the observed values, sorted.
    by : str, optional
        Grouping variable (``group1``).
    denominator : DataFrame, optional
        Frame giving the header N of each ``by`` group (e.g. ADSL of the
        population). Without it, N is the number of non-missing values of the
        variable in the group.
    id : str, optional
        Subject identifier: count distinct ids (e.g. subjects with an AE)
        instead of rows, in both numerator and denominator.
    statistic : sequence of str
        Subset of ``n``, ``N``, ``p`` (proportion 0-1).
    fmt : mapping, optional
        Format spec per statistic; ``p`` defaults to
        ``trialsupp.ard.fmt.pct_spec_for(N)``.
    stat_label : mapping, optional
        Label per statistic.

    Returns
    -------
    DataFrame
        ARD rows; ``variable_level`` holds the category (empty ARD for no rows).
    """
    variables = [variables] if isinstance(variables, str) else list(variables)
    _check_columns(df, [*variables, by, id])
    bad = set(statistic) - {"n", "N", "p"}
    if bad:
        raise ValueError(f"unknown statistic(s) {sorted(bad)}; choose from n, N, p")
    code = code_ref(ard_tabulate)
    df = _narrow(df, [*variables, by, id])
    header = _denominators(df, by, denominator, id)
    # groups as row masks (the rows _split would give): a frame per group and variable was most of
    # the time of the lab tables' ~700 tabulations (hand-optimised)
    if by is None:
        groups = [(None, np.ones(len(df), dtype=bool))]
    else:
        groups = [(lvl, (df[by] == lvl).to_numpy(dtype=bool)) for lvl in group_levels(df[by])]
        groups = groups or [(None, np.ones(len(df), dtype=bool))]
    if header is not None and by is not None:  # denominator levels absent from df still get rows
        seen = {lvl for lvl, _ in groups}
        groups += [(lvl, np.zeros(len(df), dtype=bool)) for lvl in header if lvl not in seen]
    method = ("Counts and percentages; denominator: " +
              ("population header N per group" if header is not None else "non-missing n per group"))

    def count(frame: pd.DataFrame) -> int:
        return int(frame[id].nunique()) if id else len(frame)

    records = []
    for var in variables:
        levels = group_levels(df[var])
        notna = df[var].notna().to_numpy(dtype=bool)
        at_level = None if id else {i: (df[var] == level).to_numpy(dtype=bool) for i, level in enumerate(levels)}
        for lvl1, rows in groups:
            rows = rows & notna
            if id:
                nonmiss = df[rows]
                big_n = header[lvl1] if header is not None else count(nonmiss)
                counts = nonmiss.groupby(var, observed=True)[id].nunique() if len(nonmiss) else {}
            else:        # rows of each level: the groupby(var).size() of the group's rows
                big_n = header[lvl1] if header is not None else int(rows.sum())
            for i, level in enumerate(levels):
                n = int(counts.get(level, 0)) if id else int((at_level[i] & rows).sum())
                values = {"n": n, "N": big_n, "p": n / big_n if big_n else None}
                values = {k: values[k] for k in statistic}
                errors = {"p": "denominator is zero"} if big_n == 0 else {}
                spec = {"n": "int", "N": "int", "p": pct_spec_for(big_n), **(fmt or {})}
                records += ard_records(values, errors=errors, variable=var, variable_level=level, group1=by,
                                       group1_level=lvl1, context="tabulate", method=method, code=code,
                                       fmt=spec, labels=stat_label)
    return ard_frame(records) if records else bind_ard()


def ard_geomean(df: pd.DataFrame, variables: str | Sequence[str], by: str | None = None,
                alpha: float = 0.05, fmt: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Geometric mean with a t-based confidence interval computed on the log scale.

    ``geomean = exp(mean(log x))``; CI ``exp(mean +/- t(1-alpha/2, n-1) * sd/sqrt(n))``.
    Also returns ``N`` (positive non-missing values) and ``cv`` (geometric CV,
    ``sqrt(exp(sd^2) - 1)`` as a proportion). Non-positive values make the
    statistics not estimable (error row), never silently dropped.

    Parameters
    ----------
    df : DataFrame
    variables : str or list of str
    by : str, optional
    alpha : float
        1 - confidence level.
    fmt : mapping, optional

    Returns
    -------
    DataFrame
        ARD rows ``N``, ``geomean``, ``conf.low``, ``conf.high``, ``cv``.
    """
    variables = [variables] if isinstance(variables, str) else list(variables)
    _check_columns(df, [*variables, by])
    code = code_ref(ard_geomean)
    level = round(100 * (1 - alpha), 6)
    method = f"Geometric mean, {level:g}% CI from t distribution on log scale"
    labels = {"conf.low": f"{level:g}% CI lower limit", "conf.high": f"{level:g}% CI upper limit",
              "cv": "Geometric CV"}
    parts = []
    for var in variables:
        for lvl1, sub in _split(df, by):
            x = pd.to_numeric(sub[var]).dropna().to_numpy(float)
            n = len(x)
            error = None
            if n == 0:
                error = "no non-missing values"
            elif np.any(x <= 0):
                error = f"{int(np.sum(x <= 0))} non-positive value(s): geometric mean undefined"
            if error:
                values = {"N": n, "geomean": None, "conf.low": None, "conf.high": None, "cv": None}
                errs = {k: error for k in values if k != "N"}
            else:
                logx = np.log(x)
                m = float(np.mean(logx))
                values = {"N": n, "geomean": math.exp(m)}
                errs = {}
                if n >= 2:
                    s = float(np.std(logx, ddof=1))
                    half = sps.t.ppf(1 - alpha / 2, n - 1) * s / math.sqrt(n)
                    values.update({"conf.low": math.exp(m - half), "conf.high": math.exp(m + half),
                                   "cv": math.sqrt(math.expm1(s * s))})
                else:
                    values.update({"conf.low": None, "conf.high": None, "cv": None})
                    errs = {k: "CI needs at least 2 values" for k in ("conf.low", "conf.high", "cv")}
            spec = {"N": "int", "geomean": "sig3", "conf.low": "sig3", "conf.high": "sig3",
                    "cv": "pct1", **(fmt or {})}
            parts.append(_rows_with_errors(values, errs, variable=var, group1=by, group1_level=lvl1,
                                           context="geomean", method=method, code=code, fmt=spec,
                                           labels=labels))
    return bind_ard(*parts)
