"""Figures drawn from placed ARD rows only: every plotted number and label comes from
an ARD row (``stat`` for positions, ``stat_fmt`` for printed text). Nothing is
estimated here. Each function takes and returns ``ax`` and records the ids of
the ARD rows it drew on the figure (:func:`figure_ard_ids`), which
:func:`trialsupp.display.figure_output.show_figure` writes into the output metadata.

ARD row conventions
-------------------
Groups (arms) are ``group1``/``group1_level`` in every function.

``km_plot``
    curve rows: ``context == "km_surv"`` (``curve_context``; what
    ``trialsupp.stats.survival.KaplanMeier.survival_at_ard(times)`` gives when
    ``times`` are all event/censor times); one *step* per ``variable_level`` (the
    time, or a step index plus a ``time`` stat) with stat_names ``estimate`` (S(t)
    from that time on), ``conf.low``, ``conf.high`` (pointwise CI, optional) and
    ``n_censor`` (optional, the number censored *at* that time: censor marks
    where > 0). A row at time 0 is optional (S(0) = 1 is drawn by definition).
    at-risk rows: ``context == "km_at_risk"`` (``risk_context``; as
    ``KaplanMeier.at_risk_ard(times)``), ``stat_name == "n_risk"``,
    ``variable_level`` = the display time; the printed number is ``stat_fmt``.
    HR annotation: ``hr=`` ARD rows with ``estimate``, ``conf.low``, ``conf.high``
    (optionally ``p.value``), filled into ``hr_template``.
``forest_plot``
    one row per (``variable``, ``variable_level``): ``estimate``, ``conf.low``,
    ``conf.high`` (+ any stats used by the text ``columns`` templates, e.g.
    ``p.value``). ``variable_level`` missing: a single row labelled ``variable``;
    else a heading ``variable`` with indented levels.
``mean_change_plot`` / ``ratio_plot``
    one point per (``group1_level``, ``variable_level`` = visit): ``y_stat``
    (``mean`` / ``estimate``), ``conf.low``, ``conf.high``; x is the ``time`` stat
    if present, else the numeric ``variable_level`` (e.g. study week).
``consort_diagram``
    ``context == "consort"``, ``stat_name == "n"``; ``variable`` = the node
    (``assessed``, ``excluded``, ``randomized``, ``allocated``, ``received``,
    ``completed``, ``discontinued``, ``entered_ole``, ``not_entered``,
    ``completed_ole``, ``died``, ``withdrawn``, ``analysed``); ``group1_level`` =
    the arm for per-arm nodes (missing for ``assessed``/``excluded``/``randomized``);
    ``variable_level`` = a reason (missing for the node total).
``spaghetti_plot``
    participant values are data, not statistics: a tidy DataFrame; the summary
    line comes from ARD rows as in ``mean_change_plot``.
"""
from __future__ import annotations

import math
import textwrap
from typing import Any, Mapping, Optional, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import patches, ticker
from matplotlib.transforms import ScaledTranslation, blended_transform_factory

from trialsupp.ard.fmt import JAMA, FormatRules

from .table import MissingStatError, _isnull, fill, select
from .theme import BAND, FULL_PAGE, GREY, SINGLE_COLUMN, group_style

__all__ = ["km_plot", "forest_plot", "mean_change_plot", "ratio_plot", "consort_diagram",
           "spaghetti_plot", "figure_ard_ids", "figure_legend", "legend_below", "log_ticks", "share_y"]


# ---- helpers ---------------------------------------------------------------------------
def _track(ax, rows: pd.DataFrame | Sequence[str]) -> None:
    fig = ax.figure
    ids = list(rows["id"]) if isinstance(rows, pd.DataFrame) else list(rows)
    have = getattr(fig, "_trialsupp_ard_ids", [])
    fig._trialsupp_ard_ids = list(dict.fromkeys(have + [str(i) for i in ids if not _isnull(i)]))


def _bound_text(ax, x, y, text: str, ids, **kw):
    """A number drawn on the figure, bound to its ARD rows: the SVG group that draws it carries
    ``id="ard:<id>[+<id>...]"`` (matplotlib ``gid``), so it is traceable in SVG and HTML."""
    ids = [str(i) for i in ids if not _isnull(i)]
    artist = ax.text(x, y, text, **kw)
    if ids:
        artist.set_gid("ard:" + "+".join(ids))
        _track(ax, ids)
    return artist


def _drew(ax, key: str, text: str) -> None:
    """Record an element drawn on the figure, with its legend phrase (``figure_legend``)."""
    fig = ax.figure
    have = getattr(fig, "_trialsupp_drawn", {})
    have.setdefault(key, text)
    fig._trialsupp_drawn = have


def figure_legend(fig) -> str:
    """A legend sentence for the figure caption, generated from what the figure draws
    (error bars, confidence bands, censor marks, reference lines, numbers at risk ...)."""
    parts = list(getattr(fig, "_trialsupp_drawn", {}).values())
    if not parts:
        return ""
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def _below(ax, lines: float = 0.0) -> float:
    """Points below the axes bottom that are free: under tick labels, x label and ``lines``
    text lines (e.g. a numbers-at-risk table)."""
    fs = plt.rcParams["font.size"]
    return 2.6 * fs + 8 + lines


def legend_below(ax, handles=None, *, offset: Optional[float] = None, **kw):
    """The legend outside the data: centred under the x axis label, or ``offset`` points
    below the axes (under a table of numbers drawn there)."""
    fig = ax.figure
    off = _below(ax) if offset is None else offset
    kw.setdefault("ncol", max(1, len(handles) if handles is not None
                              else len(ax.get_legend_handles_labels()[0])))
    return ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                     bbox_transform=ax.transAxes + ScaledTranslation(0, -off / 72, fig.dpi_scale_trans),
                     borderaxespad=0.0, columnspacing=1.2, handlelength=2.4, **kw)


def _legend(ax, loc, handles=None, offset: Optional[float] = None):
    if loc in (None, "outside", "below"):
        return legend_below(ax, handles, offset=offset)
    return ax.legend(handles=handles, loc=loc)


READABLE_LOG_TICKS = (0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 10, 20, 50, 100)


def log_ticks(lo: float, hi: float) -> list[float]:
    """Readable ticks on a log axis (0.1, 0.25, 0.5, 1, 2, 4 ...) within [lo, hi]."""
    inside = lambda t: lo <= t * (1 + 1e-9) and t <= hi * (1 + 1e-9)     # noqa: E731
    ticks = [t for t in READABLE_LOG_TICKS if inside(t)]
    if len(ticks) < 3:                       # a narrow range: add 0.75, 1.5, 3 ...
        ticks = sorted(set(ticks) | {t for t in (0.2, 0.4, 0.75, 1.5, 3, 6, 8, 15, 30) if inside(t)})
    if len(ticks) < 3:                       # narrower still: steps of 0.1 around 1
        ticks = [t for t in (0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.1, 1.25, 1.5, 1.75, 2) if inside(t)]
    if len(ticks) > 7:                       # a wide range: powers of ten (and 1)
        ticks = [t for t in (0.001, 0.01, 0.1, 1, 10, 100, 1000) if inside(t)]
    return ticks


class ReadableLogLocator(ticker.Locator):
    """Major ticks of a log axis at :func:`log_ticks` of the current view."""

    def __call__(self):
        lo, hi = sorted(self.axis.get_view_interval())
        return log_ticks(lo, hi)


def share_y(axes) -> None:
    """One y range for comparable panels (the union of their limits)."""
    axes = [a for a in np.ravel(axes) if a.has_data()]
    if not axes:
        return
    lo = min(a.get_ylim()[0] for a in axes)
    hi = max(a.get_ylim()[1] for a in axes)
    for a in axes:
        a.set_ylim(lo, hi)


def figure_ard_ids(fig) -> list[str]:
    """The ARD ids drawn on ``fig`` by the functions of this module."""
    return list(getattr(fig, "_trialsupp_ard_ids", []))


def _new_ax(ax, size: tuple[float, float]):
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def _groups(ard: pd.DataFrame, groups: Optional[Sequence[Any]]) -> list[Any]:
    if groups is not None:
        return list(groups)
    return [g for g in dict.fromkeys(ard["group1_level"]) if not _isnull(g)] or [None]


def _grp(ard: pd.DataFrame, g: Any) -> pd.DataFrame:
    return select(ard, group1_level=g)


def _num(v: Any) -> float:
    return float("nan") if _isnull(v) else float(v)


def _wide(ard: pd.DataFrame, key: str = "variable_level") -> pd.DataFrame:
    """One row per ``key`` value, one column per stat_name (raw stat); keeps first-seen order."""
    if not len(ard):
        return pd.DataFrame()
    keys = list(dict.fromkeys(ard[key]))
    out = {}
    for k in keys:
        sub = ard[ard[key].map(lambda v: v == k or (str(v) == str(k)))]
        out[k] = {r.stat_name: r.stat for r in sub.itertuples()}
    return pd.DataFrame.from_dict(out, orient="index")


def _require(ard: pd.DataFrame, stats: Sequence[str], what: str) -> None:
    have = set(ard["stat_name"])
    missing = [s for s in stats if s not in have]
    if missing:
        raise MissingStatError(f"{what}: statistic(s) {missing} not in the ARD rows "
                               f"(available: {sorted(have)})")


def _x_of(w: pd.DataFrame) -> np.ndarray:
    if "time" in w.columns:
        return w["time"].map(_num).to_numpy(float)
    try:
        return np.array([float(v) for v in w.index], dtype=float)
    except (TypeError, ValueError):
        raise MissingStatError("variable_level is not numeric: add a 'time' stat per point") from None


# ---- Kaplan-Meier ------------------------------------------------------------------------
def km_plot(ard: pd.DataFrame, ax=None, *, groups: Optional[Sequence[Any]] = None,
            labels: Optional[Mapping[Any, str]] = None, ci: bool = True, censor: bool = True,
            median_line: bool = False, risk_table: bool = True, times: Optional[Sequence[float]] = None,
            hr: Optional[pd.DataFrame] = None, hr_template: str = "HR, {estimate} (95% CI, {ci})",
            hr_pos: tuple[float, float] = (0.03, 0.05), rules: FormatRules = JAMA,
            xlabel: str = "Time", ylabel: str = "Probability of survival",
            xmax: Optional[float] = None, legend_loc: Optional[str] = "outside",
            curve_context: str = "km_surv", risk_context: str = "km_at_risk"):
    """Kaplan-Meier curves, numbers at risk and an HR annotation, all from ARD rows.

    ``times`` selects the at-risk times to print (each must have an ARD row per
    group); default: every ``km_risk`` time in the ARD. The x ticks are the
    at-risk times when a risk table is drawn.
    """
    labels = dict(labels or {})
    ax = _new_ax(ax, (SINGLE_COLUMN * 1.4, SINGLE_COLUMN))
    curves = select(ard, context=curve_context)
    if not len(curves):
        raise MissingStatError(f"km_plot: no ARD rows with context {curve_context!r}")
    _require(curves, ["estimate"], "km_plot curves")
    grps = _groups(curves, groups)
    handles = []
    tmax = 0.0
    for i, g in enumerate(grps):
        st = group_style(i)
        rows = _grp(curves, g)
        if not len(rows):
            raise MissingStatError(f"km_plot: no {curve_context!r} rows for group {g!r}")
        w = _wide(rows)
        t = _x_of(w)
        s = w["estimate"].map(_num).to_numpy(float)
        order = np.argsort(t, kind="stable")
        t, s = t[order], s[order]
        w = w.iloc[order]
        if len(t) == 0 or t[0] > 0:
            t, s = np.r_[0.0, t], np.r_[1.0, s]
            pad = True
        else:
            pad = False
        tmax = max(tmax, float(np.nanmax(t)))
        (h,) = ax.step(t, s, where="post", color=st.color, linestyle=st.linestyle,
                       label=labels.get(g, str(g)), linewidth=1.3)
        handles.append(h)
        if ci and {"conf.low", "conf.high"} <= set(w.columns):
            lo = w["conf.low"].map(_num).to_numpy(float)
            hi = w["conf.high"].map(_num).to_numpy(float)
            if pad:
                lo, hi = np.r_[1.0, lo], np.r_[1.0, hi]
            ax.fill_between(t, lo, hi, step="post", color=st.color, alpha=0.12, linewidth=0)
            _drew(ax, "km_ci", "shaded bands show pointwise 95% CIs")
        if censor and "n_censor" in w.columns:
            cmask = w["n_censor"].map(lambda v: not _isnull(v) and float(v) > 0).to_numpy(bool)
            ct = t[int(pad):][cmask]
            cs = s[int(pad):][cmask]
            ax.plot(ct, cs, linestyle="none", marker="|", markersize=5, markeredgewidth=0.8,
                    color=st.color)
            if len(ct):
                _drew(ax, "censor", "vertical tick marks show censored observations")
        _track(ax, rows)
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, xmax if xmax is not None else tmax)
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:.1f}"))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if median_line:
        ax.axhline(0.5, color=GREY, linestyle="--", linewidth=0.7, zorder=0)
        _drew(ax, "median", "the dashed horizontal line marks the median (half of the participants event free)")
    if censor:
        handles.append(plt.Line2D([], [], color="black", marker="|", linestyle="none",
                                  markersize=5, label="Censored"))
    if hr is not None:
        stat = fill(hr, hr_template, rules=rules)
        _bound_text(ax, *hr_pos, stat.text, stat.ids, transform=ax.transAxes, ha="left", va="bottom")
    n_lines = 0
    if risk_table:
        n_lines = _risk_table(ax, select(ard, context=risk_context), grps, labels, times)
        _drew(ax, "at_risk", "numbers below the x-axis are the participants at risk at each time")
    fs = plt.rcParams["font.size"] * 0.95
    _legend(ax, legend_loc, handles, offset=(RISK_TOP + fs * 1.45 * n_lines + 6) if n_lines else None)
    return ax


RISK_TOP = 36.0      # points between the axes and the "No. at risk" title


def _risk_table(ax, ard: pd.DataFrame, grps: list, labels: Mapping, times) -> None:
    risk = select(ard, stat_name="n_risk")
    if not len(risk):
        raise MissingStatError("km_plot: no at-risk rows (stat_name 'n_risk' in the risk_context rows)")
    if times is None:
        times = sorted({float(v) for v in risk["variable_level"] if not _isnull(v)})
    fig = ax.figure
    fs = plt.rcParams["font.size"] * 0.95
    line = fs * 1.45 / 72.0       # inches per at-risk line
    top = RISK_TOP / 72.0         # inches below the axis for the "No. at risk" title
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    left = blended_transform_factory(ax.transAxes, ax.transAxes)
    ax.text(0.0, 0.0, "No. at risk", transform=left + ScaledTranslation(-0.0, -top, fig.dpi_scale_trans),
            ha="right", va="top", fontsize=fs, fontweight="bold")
    ax.set_xticks(list(times))
    missing = []
    for i, g in enumerate(grps):
        st = group_style(i)
        off = ScaledTranslation(0, -top - line * (i + 1), fig.dpi_scale_trans)
        ax.text(-0.02, 0.0, labels.get(g, str(g)), transform=left + off, ha="right", va="top",
                fontsize=fs, color=st.text)
        rows = _grp(risk, g)
        for t in times:
            hit = rows[rows["variable_level"].map(lambda v: not _isnull(v) and math.isclose(float(v), t))]
            if len(hit) != 1:
                missing.append(f"{g}@{t:g}")
                continue
            _bound_text(ax, t, 0.0, str(hit["stat_fmt"].iloc[0]), hit["id"], transform=trans + off,
                        ha="center", va="top", fontsize=fs)
    if missing:
        raise MissingStatError("km_plot: no (or more than one) n_risk ARD row for "
                               + ", ".join(missing))
    return len(grps) + 1


# ---- forest plot -------------------------------------------------------------------------
def forest_plot(ard: pd.DataFrame, ax=None, *, log: bool = True, ref: Optional[float] = None,
                columns: Optional[Mapping[str, str]] = None, labels: Optional[Mapping[Any, str]] = None,
                xlabel: str = "Hazard ratio (95% CI)", favours: Optional[tuple[str, str]] = None,
                label_header: str = "Subgroup", rules: FormatRules = JAMA,
                xlim: Optional[tuple[float, float]] = None):
    """Estimates with CIs per subgroup, with the formatted values as text columns."""
    labels = dict(labels or {})
    columns = {"Estimate (95% CI)": "{estimate} ({ci})"} if columns is None else dict(columns)
    have = set(ard["stat_name"])
    count_cols = {}          # participants and events per subgroup, when the ARD has them
    n_stat = next((x for x in ("N", "n") if x in have), None)
    ev_stat = next((x for x in ("n_event", "n_events", "events") if x in have), None)
    if n_stat and not any("{" + n_stat + "}" in t for t in columns.values()):
        count_cols["No."] = "{" + n_stat + "}"
    if ev_stat and not any("{" + ev_stat + "}" in t for t in columns.values()):
        count_cols["Events"] = "{" + ev_stat + "}"
    columns = {**count_cols, **columns}

    ref = (1.0 if log else 0.0) if ref is None else ref
    _require(ard, ["estimate", "conf.low", "conf.high"], "forest_plot")
    keys = list(dict.fromkeys(zip(ard["variable"], ard["variable_level"].map(
        lambda v: None if _isnull(v) else v))))
    lines: list[tuple[str, Optional[pd.DataFrame], int]] = []   # (label, rows, indent)
    seen_heads = set()
    for var, lvl in keys:
        rows = select(ard, variable=var, variable_level=lvl)
        if lvl is None:
            lines.append((labels.get(var, str(var)), rows, 0))
        else:
            if var not in seen_heads:
                lines.append((labels.get(var, str(var)), None, 0))
                seen_heads.add(var)
            lines.append((labels.get(lvl, str(lvl)), rows, 1))
    n = len(lines)
    ax = _new_ax(ax, (FULL_PAGE, 0.25 * (n + 2) + 0.6))
    if "No." in count_cols:
        _drew(ax, "forest_n", "No. gives the participants in each subgroup")
    if "Events" in count_cols:
        _drew(ax, "forest_events", "Events gives the participants with an event in each subgroup")
    ys = np.arange(n)[::-1].astype(float)
    lab_tr = blended_transform_factory(ax.transAxes, ax.transData)
    ncols = len(columns)
    col_x, x = [], 1.04
    for head in columns:                 # count columns are narrow
        col_x.append(x)
        x += 0.27 if head in count_cols else 0.42
    for y, (lab, rows, ind) in zip(ys, lines):
        ax.text(-0.9 + 0.04 * ind, y, lab, transform=lab_tr, ha="left", va="center",
                fontweight="bold" if rows is None and ind == 0 and n > 1 else "normal")
        if rows is None:
            continue
        w = {r.stat_name: r.stat for r in rows.itertuples()}
        est, lo, hi = (_num(w.get(k)) for k in ("estimate", "conf.low", "conf.high"))
        if not any(math.isnan(v) for v in (est, lo, hi)):
            ax.plot([lo, hi], [y, y], color="black", linewidth=0.9, linestyle="-", solid_capstyle="butt")
            ax.plot([est], [y], marker="s", color=group_style(0).color, markersize=5,
                    linestyle="none")
        for x, (head, tpl) in zip(col_x, columns.items()):
            try:
                st = fill(rows, tpl, rules=rules)
            except MissingStatError:
                if head not in count_cols:
                    raise
                continue
            _bound_text(ax, x, y, st.text, st.ids, transform=lab_tr, ha="left", va="center")
        _track(ax, rows[rows["stat_name"].isin(["estimate", "conf.low", "conf.high"])])
    top = n - 0.2
    ax.text(-0.9, top + 0.6, label_header, transform=lab_tr, ha="left", va="bottom", fontweight="bold")
    for x, head in zip(col_x, columns):
        ax.text(x, top + 0.6, head, transform=lab_tr, ha="left", va="bottom", fontweight="bold")
    ax.axvline(ref, color=GREY, linestyle="--", linewidth=0.7, zorder=0)
    _drew(ax, "forest", "squares show the estimates and horizontal lines their 95% CIs")
    _drew(ax, "forest_ref", "the dashed vertical line marks no difference")
    if log:
        _drew(ax, "forest_log", "the ratio axis is logarithmic")
    if log:
        ax.set_xscale("log")
        ax.xaxis.set_minor_locator(ticker.NullLocator())
    if xlim:
        ax.set_xlim(*xlim)
    ax.set_ylim(-0.8, n - 0.2 + 0.4)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    ax.set_xlabel(xlabel)
    if favours:
        below = -2.4 * plt.rcParams["font.size"] - 14     # points: under tick labels and x label
        ax.annotate("\u2190 " + favours[0], xy=(0.5, 0), xycoords="axes fraction", xytext=(-4, below),
                    textcoords="offset points", ha="right", va="top")
        ax.annotate(favours[1] + " \u2192", xy=(0.5, 0), xycoords="axes fraction", xytext=(4, below),
                    textcoords="offset points", ha="left", va="top")
        # ensure ref sits mid-axis so that the favours labels read correctly
        lo_, hi_ = ax.get_xlim()
        if log:
            span = max(abs(math.log(lo_ / ref)), abs(math.log(hi_ / ref)))
            ax.set_xlim(ref * math.exp(-span), ref * math.exp(span))
        else:
            span = max(abs(lo_ - ref), abs(hi_ - ref))
            ax.set_xlim(ref - span, ref + span)
    if log:                             # readable ticks: 0.1, 0.25, 0.5, 1, 2, 4
        ax.xaxis.set_major_locator(ReadableLogLocator())
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_locator(ticker.NullLocator())
    return ax


# ---- trajectories -----------------------------------------------------------------------
def _bands(ax, bands) -> None:
    for k, band in enumerate(bands or ()):
        x0, x1, text = band
        x1 = ax.get_xlim()[1] if x1 is None else x1
        if k % 2 == 0:
            ax.axvspan(x0, x1, color=BAND, zorder=0, linewidth=0)
        ax.text((x0 + x1) / 2, 1.0, text, transform=blended_transform_factory(ax.transData, ax.transAxes),
                ha="center", va="bottom", fontsize=plt.rcParams["font.size"] - 0.5)


def _n_table(ax, ard: pd.DataFrame, grps: list, labels: Mapping, n_stat: str) -> int:
    """Numbers of participants per visit under the x axis (from ARD ``n_stat`` rows)."""
    fig = ax.figure
    fs = plt.rcParams["font.size"] * 0.85
    line = fs * 1.4
    top = _below(ax) - 2
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    left = blended_transform_factory(ax.transAxes, ax.transAxes)
    # row labels left of the axes only in the first column of a grid (they would run into the
    # panel on the left); the numbers are in the group's colour, as in the legend
    spec = ax.get_subplotspec() if hasattr(ax, "get_subplotspec") else None
    first_col = spec is None or spec.colspan.start == 0
    if first_col:
        ax.text(0.0, 0.0, "No. of participants", fontsize=fs, fontweight="bold", ha="right", va="top",
                transform=left + ScaledTranslation(-0.04, -top / 72, fig.dpi_scale_trans))
    else:
        ax.text(0.0, 0.0, "No.", fontsize=fs, fontweight="bold", ha="right", va="top",
                transform=left + ScaledTranslation(-0.04, -top / 72, fig.dpi_scale_trans))
    xlo, xhi = ax.get_xlim()
    for i, g in enumerate(grps):
        st = group_style(i)
        off = ScaledTranslation(0, -(top + line * (i + 1)) / 72, fig.dpi_scale_trans)
        if first_col:
            ax.text(-0.04, 0.0, labels.get(g, str(g)), transform=left + off, ha="right", va="top",
                    fontsize=fs, color=st.text)
        rows = select(_grp(ard, g), stat_name=n_stat)
        for r in rows.itertuples():
            try:
                x = float(r.variable_level)
            except (TypeError, ValueError):
                continue
            if xlo <= x <= xhi:
                _bound_text(ax, x, 0.0, str(r.stat_fmt), [r.id], transform=trans + off, ha="center", va="top",
                            fontsize=fs, color=st.text)
        _track(ax, rows)
    return top + line * (len(grps) + 1)


def _trajectory(ard, ax, *, y_stat, groups, labels, bands, xlabel, ylabel, dodge, log, ref, size,
                n_stat="auto", legend_loc="outside"):
    labels = dict(labels or {})
    ax = _new_ax(ax, size)
    _require(ard, [y_stat], "trajectory plot")
    grps = _groups(ard, groups)
    k = len(grps)
    xs_all = []
    for i, g in enumerate(grps):
        st = group_style(i)
        rows = _grp(ard, g)
        rows = rows[rows["stat_name"].isin([y_stat, "conf.low", "conf.high", "time"])]
        if not len(rows):
            raise MissingStatError(f"no ARD rows with {y_stat!r} for group {g!r}")
        w = _wide(rows)
        x = _x_of(w)
        order = np.argsort(x, kind="stable")
        w, x = w.iloc[order], x[order]
        xs_all += list(x)
        y = w[y_stat].map(_num).to_numpy(float)
        xd = x + (i - (k - 1) / 2) * dodge
        if {"conf.low", "conf.high"} <= set(w.columns):
            lo = w["conf.low"].map(_num).to_numpy(float)
            hi = w["conf.high"].map(_num).to_numpy(float)
            ax.errorbar(xd, y, yerr=[y - lo, hi - y], fmt="none", ecolor=st.color, elinewidth=0.8,
                        capsize=2, capthick=0.8)
            _drew(ax, "errorbars", "error bars show 95% CIs")
        ax.plot(xd, y, color=st.color, linestyle=st.linestyle, marker=st.marker,
                markerfacecolor="white" if i % 2 else st.color, markeredgecolor=st.color,
                label=labels.get(g, str(g)))
        _track(ax, rows)
    if log:
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(ReadableLogLocator())
        ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_locator(ticker.NullLocator())
    if ref is not None:
        ax.axhline(ref, color=GREY, linewidth=0.7, linestyle="--", zorder=0)
        _drew(ax, f"ref_{ref:g}", "the dashed horizontal line marks no change from baseline")
    if log:
        _drew(ax, "logy", "the y-axis is logarithmic")
    if xs_all:
        ax.set_xticks(sorted(set(xs_all)))
        pad = dodge * k + 1
        ax.set_xlim(min(xs_all) - pad, max(xs_all) + pad)
    _bands(ax, bands)
    if bands:
        _drew(ax, "bands", "shaded and unshaded areas mark the study periods ("
              + ", ".join(b[2] for b in bands) + ")")
    if k > 1 and dodge:
        _drew(ax, "dodge", "points are offset horizontally so that the groups do not overlap")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if n_stat == "auto":
        n_stat = next((x for x in ("n", "N") if x in set(ard["stat_name"])), None)
    offset = None
    if n_stat:
        offset = _n_table(ax, ard, grps, labels, n_stat) + 6
        _drew(ax, "n_visit", "numbers below the x-axis are the participants with a value at each visit")
    _legend(ax, legend_loc, offset=offset)
    return ax


def mean_change_plot(ard: pd.DataFrame, ax=None, *, y_stat: str = "mean",
                     groups: Optional[Sequence[Any]] = None, labels: Optional[Mapping[Any, str]] = None,
                     bands: Optional[Sequence[tuple[float, Optional[float], str]]] = None,
                     xlabel: str = "Week", ylabel: str = "Mean change from baseline (95% CI)",
                     dodge: float = 1.0, ref: Optional[float] = 0.0, n_stat: Optional[str] = "auto",
                     legend_loc: Optional[str] = "outside"):
    """Mean (95% CI) over visits per group; ``bands=[(0, 28, "Randomized"), (28, None, "Extension")]``
    shades periods (design information, not statistics). ``n_stat``: the ARD statistic
    printed per visit under the x axis ("auto": ``n`` or ``N`` when present; None: none)."""
    return _trajectory(ard, ax, y_stat=y_stat, groups=groups, labels=labels, bands=bands,
                       xlabel=xlabel, ylabel=ylabel, dodge=dodge, log=False, ref=ref,
                       size=(SINGLE_COLUMN * 1.4, SINGLE_COLUMN), n_stat=n_stat, legend_loc=legend_loc)


def ratio_plot(ard: pd.DataFrame, ax=None, *, y_stat: str = "estimate",
               groups: Optional[Sequence[Any]] = None, labels: Optional[Mapping[Any, str]] = None,
               bands: Optional[Sequence[tuple[float, Optional[float], str]]] = None,
               xlabel: str = "Week", ylabel: str = "Geometric mean ratio to baseline (95% CI)",
               dodge: float = 1.0, n_stat: Optional[str] = "auto", legend_loc: Optional[str] = "outside"):
    """Geometric mean ratio to baseline over visits on a log axis, reference line at 1."""
    return _trajectory(ard, ax, y_stat=y_stat, groups=groups, labels=labels, bands=bands,
                       xlabel=xlabel, ylabel=ylabel, dodge=dodge, log=True, ref=1.0,
                       size=(SINGLE_COLUMN * 1.4, SINGLE_COLUMN), n_stat=n_stat, legend_loc=legend_loc)


def spaghetti_plot(data: pd.DataFrame, *, x: str, y: str, id: str, group: Optional[str] = None,
                   ax=None, summary: Optional[pd.DataFrame] = None, y_stat: str = "mean",
                   groups: Optional[Sequence[Any]] = None, labels: Optional[Mapping[Any, str]] = None,
                   xlabel: Optional[str] = None, ylabel: Optional[str] = None, alpha: float = 0.35):
    """Individual trajectories (data, one thin line per participant) with an optional
    summary line per group from ARD rows (``y_stat`` per ``group1_level``/visit)."""
    labels = dict(labels or {})
    ax = _new_ax(ax, (SINGLE_COLUMN * 1.4, SINGLE_COLUMN))
    glevels = list(groups) if groups is not None else (
        list(dict.fromkeys(data[group])) if group else [None])
    for i, g in enumerate(glevels):
        st = group_style(i)
        sub = data if g is None else data[data[group] == g]
        for _, person in sub.groupby(id, sort=True):
            p = person.sort_values(x)
            ax.plot(p[x], p[y], color=st.color, alpha=alpha, linewidth=0.5, linestyle="-")
        _drew(ax, "individual", "thin lines show individual participants")
    if summary is not None:
        for i, g in enumerate(glevels):
            st = group_style(i)
            rows = _grp(summary, g) if g is not None else summary
            rows = rows[rows["stat_name"].isin([y_stat, "time"])]
            if not len(rows):
                raise MissingStatError(f"spaghetti_plot: no summary ARD rows with {y_stat!r} for {g!r}")
            w = _wide(rows)
            xx = _x_of(w)
            order = np.argsort(xx, kind="stable")
            ax.plot(xx[order], w[y_stat].map(_num).to_numpy(float)[order], color=st.color,
                    linewidth=2.0, linestyle=st.linestyle, marker=st.marker,
                    markeredgecolor="white", markeredgewidth=0.5,
                    label=f"{labels.get(g, str(g))}, {y_stat}" if g is not None else y_stat)
            _track(ax, rows)
            _drew(ax, "summary", f"thick lines with markers show the group {y_stat}")
        legend_below(ax)
    elif group:
        legend_below(ax, [plt.Line2D([], [], color=group_style(i).color, label=labels.get(g, str(g)))
                          for i, g in enumerate(glevels)])
    ax.set_xlabel(xlabel or x)
    ax.set_ylabel(ylabel or y)
    return ax


# ---- CONSORT -----------------------------------------------------------------------------
CONSORT_LABELS = {
    "assessed": "Assessed for eligibility", "excluded": "Excluded", "randomized": "Randomized",
    "allocated": "Allocated to {arm}", "received": "Received allocated intervention",
    "completed": "Completed double-blind period", "discontinued": "Discontinued",
    "entered_ole": "Entered open-label extension", "not_entered": "Did not enter extension",
    "completed_ole": "Completed open-label extension", "died": "Died", "withdrawn": "Withdrew",
    "analysed": "Included in the analysis",
}
CONSORT_STAGES = ("allocated", "received", "completed", "entered_ole", "completed_ole", "analysed")
CONSORT_EXITS = {"completed": ("discontinued",), "entered_ole": ("not_entered",),
                 "completed_ole": ("died", "withdrawn")}


def consort_diagram(counts_ard: pd.DataFrame, ax=None, *, arms: Optional[Sequence[Any]] = None,
                    arm_labels: Optional[Mapping[Any, str]] = None,
                    labels: Optional[Mapping[str, str]] = None,
                    stages: Sequence[str] = CONSORT_STAGES,
                    exits: Mapping[str, Sequence[str]] = CONSORT_EXITS,
                    width: float = FULL_PAGE, font_size: float = 7.0):
    """A CONSORT flow diagram (boxes and arrows); every count is an ARD ``stat_fmt``.

    Nodes absent from the ARD are left out, so the same function draws a plain
    trial or a trial with an open-label extension.
    """
    lab = {**CONSORT_LABELS, **dict(labels or {})}
    arm_labels = dict(arm_labels or {})
    ard = select(counts_ard, context="consort", stat_name="n")
    if not len(ard):
        raise MissingStatError("consort_diagram: no ARD rows with context 'consort' and stat_name 'n'")
    arm_rows = ard[ard["group1_level"].map(lambda v: not _isnull(v))]
    arms = list(arms) if arms is not None else list(dict.fromkeys(arm_rows["group1_level"]))
    used: list[str] = []

    def node(var: str, arm: Any = None) -> Optional[list[str]]:
        rows = select(ard, variable=var, group1_level=arm)
        if not len(rows):
            return None
        tot = rows[rows["variable_level"].map(_isnull)]
        if len(tot) != 1:
            raise MissingStatError(f"consort_diagram: expected one total row for node {var!r}"
                                   f"{'' if arm is None else f' ({arm})'}, found {len(tot)}")
        used.extend(rows["id"])
        name = lab.get(var, var).format(arm=arm_labels.get(arm, arm))
        lines = [f"{name} (n\u00a0=\u00a0{tot['stat_fmt'].iloc[0]})"]
        for r in rows[rows["variable_level"].map(lambda v: not _isnull(v))].itertuples():
            lines.append(f"\u2022 {r.variable_level} (n\u00a0=\u00a0{r.stat_fmt})")
        return lines

    k = max(len(arms), 1)
    W = width
    lh = font_size * 1.35 / 72.0
    cw = W / k
    chars = lambda w: max(int(w / (font_size * 0.56 / 72.0)), 10)

    def wrap(lines: list[str], w: float) -> str:
        out = []
        for ln in lines:
            ind = "  " if ln.startswith("\u2022") else ""
            out += textwrap.wrap(ln, chars(w - 0.16), subsequent_indent=ind) or [""]
        return "\n".join(out).replace("\u00a0", " ")

    def height(text: str) -> float:
        return (text.count("\n") + 1) * lh + 0.14

    boxes: list[tuple[float, float, float, float, str]] = []   # x, y_top, w, h, text
    arrows: list[tuple[tuple[float, float], tuple[float, float], bool]] = []
    y = 0.0
    gap = 0.28
    cx = W / 2
    top_w = min(0.36 * W, 2.6)
    prev_bottom: Optional[tuple[float, float]] = None
    for var in ("assessed", "randomized"):
        lines = node(var)
        if lines is None:
            continue
        if var == "randomized" and prev_bottom is not None:
            exc = node("excluded")
            if exc is not None:
                t = wrap(exc, top_w)
                h = height(t)
                ey = y - 0.1
                boxes.append((cx + 0.35, ey, top_w, h, t))
                arrows.append(((cx, ey - h / 2), (cx + 0.35, ey - h / 2), True))
                y = ey - h - 0.1
            arrows.append((prev_bottom, (cx, y), True))
        t = wrap(lines, top_w)
        h = height(t)
        boxes.append((cx - top_w / 2, y, top_w, h, t))
        prev_bottom = (cx, y - h)
        y -= h + gap
    # per-arm columns
    outer_right = [j >= k / 2 for j in range(k)]
    mw, ew = 0.47 * cw, 0.45 * cw
    mx = [(j * cw + 0.52 * cw) if not outer_right[j] and k > 1 else (j * cw + 0.02 * cw)
          for j in range(k)]
    if k == 1:
        mx = [W / 2 - mw / 2]
    ex = [(j * cw + 0.02 * cw) if not outer_right[j] else (j * cw + 0.54 * cw) for j in range(k)]
    if k == 1:
        ex = [W / 2 + mw / 2 + 0.2]
    centers = [m + mw / 2 for m in mx]
    if prev_bottom is not None:
        split_y = y + gap / 2
        arrows.append((prev_bottom, (cx, split_y), False))
        arrows.append(((min(centers), split_y), (max(centers), split_y), False))
        for c in centers:
            arrows.append(((c, split_y), (c, y), True))
    last_bottom = [None] * k
    for s_i, stage in enumerate(stages):
        nodes = [node(stage, a) for a in arms]
        if all(n is None for n in nodes):
            continue
        # exits before this stage
        ex_texts = []
        for a in arms:
            lines = []
            for e in exits.get(stage, ()):
                e_lines = node(e, a)
                if e_lines:
                    lines += e_lines
            ex_texts.append(wrap(lines, ew) if lines else None)
        if any(ex_texts) and any(last_bottom):
            hmax = max(height(t) for t in ex_texts if t)
            ey = y + gap / 2 - 0.05
            for j, t in enumerate(ex_texts):
                if not t:
                    continue
                h = height(t)
                boxes.append((ex[j], ey, ew, h, t))
                edge = ex[j] if (outer_right[j] or k == 1) else ex[j] + ew
                arrows.append(((centers[j], ey - h / 2), (edge, ey - h / 2), True))
            y = ey - hmax - gap / 2
        texts = [wrap(n, mw) if n else None for n in nodes]
        hmax = max(height(t) for t in texts if t)
        for j, t in enumerate(texts):
            if not t:
                continue
            if last_bottom[j] is not None:
                arrows.append((last_bottom[j], (centers[j], y), True))
            boxes.append((mx[j], y, mw, hmax, t))
            last_bottom[j] = (centers[j], y - hmax)
        y -= hmax + gap
    H = -y
    if ax is None:
        _, ax = plt.subplots(figsize=(W, H + 0.1))
    ax.set_xlim(0, W)
    ax.set_ylim(y + gap - 0.05, 0.05)
    ax.set_aspect("equal")
    ax.axis("off")
    for x0, yt, w, h, t in boxes:
        ax.add_patch(patches.Rectangle((x0, yt - h), w, h, facecolor="white", edgecolor="black",
                                       linewidth=0.6, zorder=2))
        ax.text(x0 + 0.07, yt - 0.07, t, ha="left", va="top", fontsize=font_size, zorder=3,
                linespacing=1.15)
    for (x0, y0), (x1, y1), head in arrows:
        if head:
            ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                        arrowprops=dict(arrowstyle="-|>", lw=0.6, color="black", shrinkA=0, shrinkB=0,
                                        mutation_scale=7), zorder=1)
        else:
            ax.plot([x0, x1], [y0, y1], color="black", linewidth=0.6, linestyle="-", zorder=1)
    _track(ax, used)
    return ax
