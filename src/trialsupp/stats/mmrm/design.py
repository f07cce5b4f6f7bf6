"""Model frame and design matrix for the MMRM (R-style treatment coding).

Mean model: ``outcome ~ group + visit + group:visit + covariates + interactions``.
Categorical variables use treatment contrasts (first level = reference); column
names follow R's ``model.matrix`` (``TRT01PXanomeline High Dose``,
``TRT01PXanomeline High Dose:AVISITWeek 16``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from trialsupp.stats.exceptions import NotEstimableError

__all__ = ["ModelSpec", "natural_key", "build_spec", "design_matrix"]


def natural_key(value) -> tuple:
    """Sort key that orders ``"Week 8"`` before ``"Week 16"``."""
    parts = re.split(r"(\d+(?:\.\d+)?)", str(value))
    return tuple((0, float(t)) if re.fullmatch(r"\d+(?:\.\d+)?", t) else (1, t) for t in parts if t != "")


def _levels(s: pd.Series, given=None) -> list:
    if given is not None:
        return list(given)
    if isinstance(s.dtype, pd.CategoricalDtype):
        return [c for c in s.cat.categories]
    vals = pd.unique(s.dropna())
    if pd.api.types.is_numeric_dtype(s):
        return sorted(vals)
    return sorted(vals, key=natural_key)


def _is_categorical(s: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s) \
        or isinstance(s.dtype, pd.CategoricalDtype)


@dataclass
class ModelSpec:
    outcome: str
    subject: str
    visit: str
    group: str
    covariates: list
    interactions: list
    group_by_visit: bool = True
    levels: dict = field(default_factory=dict)      # categorical variable -> levels (ref first)
    means: dict = field(default_factory=dict)       # numeric covariate -> mean over analysis rows
    terms: list = field(default_factory=list)       # list of tuples of variable names
    columns: list = field(default_factory=list)

    def is_cat(self, var: str) -> bool:
        return var in self.levels


def _parse_interactions(interactions) -> list[tuple]:
    out = []
    for it in interactions or []:
        if isinstance(it, str):
            it = tuple(v.strip() for v in re.split(r"[:*]", it))
        out.append(tuple(it))
    return out


def build_spec(df: pd.DataFrame, *, outcome, subject, visit, group, covariates=(),
               interactions=(), visit_order=None, group_order=None,
               group_by_visit=True) -> tuple[ModelSpec, pd.DataFrame]:
    """Check the data and fix the levels; returns the spec and the analysis rows.

    Raises
    ------
    NotEstimableError / ValueError naming the cause (missing column, missing
    covariate values, empty arm, visit with fewer than two subjects, constant outcome).
    """
    covariates = list(covariates or [])
    inter = _parse_interactions(interactions)
    needed = [outcome, subject, visit, group] + covariates + [v for t in inter for v in t]
    missing_cols = [c for c in dict.fromkeys(needed) if c not in df.columns]
    if missing_cols:
        raise ValueError(f"column(s) not in the data: {', '.join(missing_cols)}")
    frame = df[list(dict.fromkeys(needed))].copy()
    if not pd.api.types.is_numeric_dtype(frame[outcome]):
        raise ValueError(f"outcome {outcome!r} is not numeric")
    for key in (subject, visit, group):
        n_na = int(frame[key].isna().sum())
        if n_na:
            raise ValueError(f"{n_na} row(s) have a missing {key!r}")
    frame = frame[frame[outcome].notna()]
    if frame.empty:
        raise NotEstimableError(f"no non-missing values of {outcome!r}")
    cov_vars = list(dict.fromkeys(covariates + [v for t in inter for v in t
                                                if v not in (visit, group)]))
    bad = {c: int(frame[c].isna().sum()) for c in cov_vars if frame[c].isna().any()}
    if bad:
        detail = ", ".join(f"{c} ({n} rows)" for c, n in bad.items())
        raise ValueError(f"missing covariate values among rows with an observed outcome: {detail}; "
                         "impute or exclude these rows explicitly")
    if frame.duplicated([subject, visit]).any():
        dup = frame[frame.duplicated([subject, visit], keep=False)].iloc[0]
        raise ValueError(f"more than one row for {subject}={dup[subject]!r} at {visit}={dup[visit]!r}")
    if np.ptp(frame[outcome].to_numpy(float)) == 0:
        raise NotEstimableError(f"outcome {outcome!r} is constant; the covariance is not estimable")

    spec = ModelSpec(outcome, subject, visit, group, covariates, inter, group_by_visit)
    spec.levels[visit] = _levels(df[visit], visit_order)
    spec.levels[group] = _levels(df[group], group_order)
    for c in cov_vars:
        if _is_categorical(frame[c]):
            spec.levels[c] = _levels(frame[c])
        else:
            spec.means[c] = float(frame[c].mean())
    # empty arms / sparse visits
    for arm in spec.levels[group]:
        if not (frame[group] == arm).any():
            raise NotEstimableError(f"arm {group}={arm!r} has no observed {outcome!r} values")
    spec.levels[visit] = [v for v in spec.levels[visit] if (frame[visit] == v).any()] \
        if visit_order is None else spec.levels[visit]
    for v in spec.levels[visit]:
        n_v = frame.loc[frame[visit] == v, subject].nunique()
        if n_v < 2:
            raise NotEstimableError(f"visit {visit}={v!r} has {n_v} subject(s) with an observed "
                                    f"{outcome!r}; at least 2 are needed to estimate its variance")
    unknown = set(frame[visit]) - set(spec.levels[visit])
    if unknown:
        raise ValueError(f"visit values not in visit_order: {sorted(map(str, unknown))}")
    terms = [(group,), (visit,)]
    if group_by_visit:
        terms.append((group, visit))
    terms += [(c,) for c in covariates]
    terms += inter
    spec.terms = list(dict.fromkeys(terms))
    spec.columns = _column_names(spec)
    return spec, frame


def _coding(spec: ModelSpec, var: str, values: pd.Series) -> tuple[list[str], np.ndarray]:
    if spec.is_cat(var):
        lv = spec.levels[var]
        cols = [f"{var}{lev}" for lev in lv[1:]]
        mat = np.column_stack([(values == lev).to_numpy(float) for lev in lv[1:]]) if len(lv) > 1 \
            else np.zeros((len(values), 0))
        return cols, mat
    return [var], values.to_numpy(float)[:, None]


def _column_names(spec: ModelSpec) -> list[str]:
    dummy = pd.DataFrame({v: [spec.levels[v][0]] if spec.is_cat(v) else [0.0]
                          for v in {x for t in spec.terms for x in t}})
    return design_matrix(spec, dummy, names_only=True)


def design_matrix(spec: ModelSpec, frame: pd.DataFrame, names_only: bool = False):
    """Design matrix for rows of ``frame`` (names only if ``names_only``)."""
    n = len(frame)
    names, blocks = ["(Intercept)"], [np.ones((n, 1))]
    for term in spec.terms:
        cols, mat = [""], np.ones((n, 1))
        for var in term:
            c2, m2 = _coding(spec, var, frame[var])
            cols = [f"{a}:{b}" if a else b for a in cols for b in c2]
            mat = (mat[:, :, None] * m2[:, None, :]).reshape(n, -1)
        names += cols
        blocks.append(mat)
    if names_only:
        return names
    return np.hstack(blocks)
