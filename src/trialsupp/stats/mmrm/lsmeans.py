"""LS means (estimated marginal means) of visit x arm: contrast vectors on beta.

The reference grid crosses visit and arm with every level of each categorical
covariate; numeric covariates sit at their mean over the analysis rows (rows
with an observed outcome), as SAS LSMEANS and R emmeans do by default.  Cells
of the categorical covariates are averaged with

* ``"equal"`` weights (SAS default, emmeans ``weights="equal"``), or
* ``"proportional"`` weights: the observed frequency of each combination of
  categorical-covariate levels in the analysis rows (SAS ``OM``-like, emmeans
  ``weights="proportional"`` for a single covariate).
"""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from .design import ModelSpec, design_matrix

__all__ = ["lsmeans_grid"]


def lsmeans_grid(spec: ModelSpec, frame: pd.DataFrame, weights: str = "equal") -> pd.DataFrame:
    """Rows ``(visit, arm)`` -> contrast vector ``L`` with ``LS mean = L @ beta``.

    Returns a DataFrame indexed by (visit, arm) whose columns are the design columns.
    """
    if weights not in ("equal", "proportional"):
        raise ValueError("weights must be 'equal' or 'proportional'")
    cats = [v for v in spec.levels if v not in (spec.visit, spec.group)]
    combos = list(itertools.product(*[spec.levels[c] for c in cats])) or [()]
    if weights == "equal" or not cats:
        w = np.full(len(combos), 1.0 / len(combos))
    else:
        freq = frame.groupby(cats, observed=True).size()
        w = np.array([freq.get(c if len(c) > 1 else c[0], 0) for c in combos], float)
        w /= w.sum()
    # one grid (visit x arm x covariate cells) and one design matrix for all LS means
    cells = [(vis, arm) for vis in spec.levels[spec.visit] for arm in spec.levels[spec.group]]
    grid = pd.DataFrame([combo for _ in cells for combo in combos], columns=cats) if cats \
        else pd.DataFrame(index=range(len(cells)))
    grid[spec.visit] = [vis for vis, _ in cells for _ in combos]
    grid[spec.group] = [arm for _, arm in cells for _ in combos]
    for c, mu in spec.means.items():
        grid[c] = mu
    X = design_matrix(spec, grid).reshape(len(cells), len(combos), -1)
    rows = [w @ X[i] for i in range(len(cells))]
    return pd.DataFrame(rows, index=pd.MultiIndex.from_tuples(cells, names=[spec.visit, spec.group]),
                        columns=spec.columns)
