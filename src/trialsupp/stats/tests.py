"""Hypothesis tests for baseline/demographic tables, returned as ARD rows.

Each function takes a data frame, the analysed ``variable`` and the grouping
``by`` variable, and returns ARD rows ``statistic``, ``df`` (or ``df.num`` and
``df.den``), ``p.value`` and ``method`` (``group1 = by``, ``variable``). A test
that cannot be computed returns the same rows with ``stat=None`` and an
``error`` reason; conditions such as small expected counts are recorded in
the ``warning`` column.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from trialsupp.ard.provenance import code_ref
from trialsupp.ard.schema import ard_rows
from trialsupp.ard.schema import bind_ard
from trialsupp.stats._fisher import fisher_exact_rxc
from trialsupp.stats.descriptive import group_levels
from trialsupp.stats.exceptions import NotEstimableError

__all__ = ["anova_oneway", "chisq_test", "fisher_test", "wilcoxon_ranksum", "kruskal_wallis",
           "crosstab"]


def crosstab(df: pd.DataFrame, variable: str, by: str) -> pd.DataFrame:
    """Contingency table (rows = ``variable`` levels, columns = ``by`` levels), complete cases."""
    for col in (variable, by):
        if col not in df.columns:
            raise KeyError(f"column {col!r} not in data")
    sub = df[[variable, by]].dropna()
    rows, cols = group_levels(df[variable]), group_levels(df[by])
    tab = pd.crosstab(sub[variable], sub[by]).reindex(index=rows, columns=cols, fill_value=0)
    return tab.astype(int)


def _result(func, values: dict[str, Any], *, variable: str, by: str, method: str,
            warning: str | None = None, error: str | None = None) -> pd.DataFrame:
    stats = {k: None for k in values} if error is not None else dict(values)
    rows = ard_rows(stats, variable=variable,
                    group1=by, context="test", method=method, code=code_ref(func),
                    warning=warning, error=error)
    method_row = ard_rows({"method": method}, variable=variable, group1=by, context="test",
                          method=method, code=code_ref(func), warning=warning)
    return bind_ard(rows, method_row)


def _groups(df: pd.DataFrame, variable: str, by: str) -> tuple[list, list[np.ndarray]]:
    for col in (variable, by):
        if col not in df.columns:
            raise KeyError(f"column {col!r} not in data")
    sub = df[[variable, by]].dropna()
    levels = group_levels(df[by])
    return levels, [pd.to_numeric(sub.loc[sub[by] == lvl, variable]).to_numpy(float) for lvl in levels]


def anova_oneway(df: pd.DataFrame, variable: str, by: str) -> pd.DataFrame:
    """One-way ANOVA F test of ``variable`` across ``by`` groups (R ``aov``/``anova(lm)``).

    Empty groups are left out (recorded as a warning).

    Returns
    -------
    DataFrame
        ARD rows ``statistic`` (F), ``df.num``, ``df.den``, ``p.value``, ``method``.
    """
    method = "One-way ANOVA F test"
    keys = {"statistic": None, "df.num": None, "df.den": None, "p.value": None}
    levels, groups = _groups(df, variable, by)
    empty = [str(lvl) for lvl, g in zip(levels, groups) if len(g) == 0]
    warning = f"empty group(s) left out: {', '.join(empty)}" if empty else None
    groups = [g for g in groups if len(g)]
    k, n = len(groups), sum(len(g) for g in groups)
    if k < 2:
        return _result(anova_oneway, keys, variable=variable, by=by, method=method, warning=warning,
                       error="fewer than 2 non-empty groups")
    if n - k < 1:
        return _result(anova_oneway, keys, variable=variable, by=by, method=method, warning=warning,
                       error="no residual degrees of freedom")
    grand = np.concatenate(groups).mean()
    ss_between = sum(len(g) * (g.mean() - grand) ** 2 for g in groups)
    ss_within = sum(float(np.sum((g - g.mean()) ** 2)) for g in groups)
    if ss_within <= 0:
        return _result(anova_oneway, keys, variable=variable, by=by, method=method, warning=warning,
                       error="zero within-group variance (constant values)")
    df1, df2 = k - 1, n - k
    f = (ss_between / df1) / (ss_within / df2)
    p = float(sps.f.sf(f, df1, df2))
    return _result(anova_oneway, {"statistic": f, "df.num": df1, "df.den": df2, "p.value": p},
                   variable=variable, by=by, method=method, warning=warning)


def _expected_warning(expected: np.ndarray) -> str | None:
    small = int(np.sum(expected < 5))
    if small:
        share = 100.0 * small / expected.size
        return (f"{small} of {expected.size} cells ({share:.0f}%) have expected count < 5 "
                f"(minimum {expected.min():.2f}); chi-square approximation may be inaccurate")
    return None


def chisq_test(df: pd.DataFrame, variable: str, by: str, correct: bool = False) -> pd.DataFrame:
    """Pearson chi-square test of independence of ``variable`` and ``by``.

    Parameters
    ----------
    correct : bool
        Yates continuity correction for 2 x 2 tables (SAS reports the
        uncorrected Pearson statistic; R ``chisq.test`` corrects by default).

    Returns
    -------
    DataFrame
        ARD rows ``statistic``, ``df``, ``p.value``, ``method``; ``warning``
        notes cells with expected count < 5.
    """
    tab = crosstab(df, variable, by)
    tab = tab.loc[tab.sum(axis=1) > 0, tab.sum(axis=0) > 0]  # empty levels carry no information
    keys = {"statistic": None, "df": None, "p.value": None}
    yates = correct and tab.shape == (2, 2)
    method = "Pearson chi-square test" + (" with Yates continuity correction" if yates else "")
    if min(tab.shape) < 2:
        return _result(chisq_test, keys, variable=variable, by=by, method=method,
                       error="table has fewer than 2 non-empty rows or columns")
    obs = tab.to_numpy(float)
    stat, p, dof, expected = sps.chi2_contingency(obs, correction=yates)
    return _result(chisq_test, {"statistic": float(stat), "df": int(dof), "p.value": float(p)},
                   variable=variable, by=by, method=method, warning=_expected_warning(expected))


def fisher_test(df: pd.DataFrame, variable: str, by: str, max_nodes: int = 2_000_000) -> pd.DataFrame:
    """Fisher's exact test (2 x 2) or Fisher-Freeman-Halton exact test (r x c), two-sided.

    The ``statistic`` row holds the null probability of the observed table
    (SAS "Table Probability (P)"). The P value sums the probabilities of all
    tables no more probable than the observed one (R ``fisher.test``); for
    r x c tables it is exact (network algorithm, ``trialsupp.stats._fisher``),
    not Monte Carlo.

    Returns
    -------
    DataFrame
        ARD rows ``statistic`` (table probability), ``p.value``, ``method``.
    """
    tab = crosstab(df, variable, by)
    keys = {"statistic": None, "p.value": None}
    method = "Fisher exact test" if tab.shape == (2, 2) else "Fisher-Freeman-Halton exact test"
    if tab.to_numpy().sum() == 0:
        return _result(fisher_test, keys, variable=variable, by=by, method=method, error="empty table")
    try:
        p_obs, p = fisher_exact_rxc(tab.to_numpy(), max_nodes=max_nodes)
    except NotEstimableError as exc:
        return _result(fisher_test, keys, variable=variable, by=by, method=method, error=str(exc))
    return _result(fisher_test, {"statistic": p_obs, "p.value": p}, variable=variable, by=by,
                   method=method)


def wilcoxon_ranksum(df: pd.DataFrame, variable: str, by: str, exact: bool | None = None,
                     correct: bool = True) -> pd.DataFrame:
    """Wilcoxon rank-sum (Mann-Whitney) test between the two ``by`` groups, as R ``wilcox.test``.

    ``statistic`` is R's W: the Mann-Whitney U of the first group (level order).
    ``exact=None`` uses the exact distribution when both groups have < 50
    values and there are no ties (R's rule), otherwise the normal
    approximation with tie correction and (``correct``) continuity correction.
    """
    levels, groups = _groups(df, variable, by)
    keys = {"statistic": None, "p.value": None}
    method = "Wilcoxon rank-sum test"
    if len(levels) != 2:
        return _result(wilcoxon_ranksum, keys, variable=variable, by=by, method=method,
                       error=f"needs exactly 2 groups, found {len(levels)}")
    x, y = groups
    if len(x) == 0 or len(y) == 0:
        return _result(wilcoxon_ranksum, keys, variable=variable, by=by, method=method,
                       error="a group has no non-missing values")
    ties = len(np.unique(np.concatenate([x, y]))) < len(x) + len(y)
    use_exact = (len(x) < 50 and len(y) < 50 and not ties) if exact is None else exact
    if use_exact and ties:
        use_exact = False
    res = sps.mannwhitneyu(x, y, alternative="two-sided", use_continuity=correct,
                           method="exact" if use_exact else "asymptotic")
    method += " (exact)" if use_exact else (
        " (normal approximation" + (", continuity correction)" if correct else ")"))
    return _result(wilcoxon_ranksum, {"statistic": float(res.statistic), "p.value": float(res.pvalue)},
                   variable=variable, by=by, method=method)


def kruskal_wallis(df: pd.DataFrame, variable: str, by: str) -> pd.DataFrame:
    """Kruskal-Wallis rank-sum test (tie-corrected chi-square approximation, as R ``kruskal.test``)."""
    levels, groups = _groups(df, variable, by)
    groups = [g for g in groups if len(g)]
    keys = {"statistic": None, "df": None, "p.value": None}
    method = "Kruskal-Wallis rank-sum test"
    if len(groups) < 2:
        return _result(kruskal_wallis, keys, variable=variable, by=by, method=method,
                       error="fewer than 2 non-empty groups")
    allx = np.concatenate(groups)
    if np.all(allx == allx[0]):
        return _result(kruskal_wallis, keys, variable=variable, by=by, method=method,
                       error="all values are identical")
    res = sps.kruskal(*groups)
    return _result(kruskal_wallis, {"statistic": float(res.statistic), "df": len(groups) - 1,
                                    "p.value": float(res.pvalue)}, variable=variable, by=by,
                   method=method)
