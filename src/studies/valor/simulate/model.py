"""The disease and treatment model of the simulated VALOR/OLE study.

Everything is generated with one ``numpy.random.Generator`` in a fixed order of
vectorised draws, so a seed fixes the study. Time ``u`` is in weeks from
randomisation (study day ``d`` is ``u = (d - 1) / 7``).

Model (parameters: the ``simulation`` section of ``studies/valor.yaml``):

* **Function.** Each participant has a latent untreated ALSFRS-R decline rate
  ``s_i`` (points/week, log-normal by progression subgroup). On tofersen the rate
  is multiplied by ``1 - emax_i * (1 - exp(-(tau/lag)^shape))`` (``tau`` = weeks on
  tofersen): little effect in the first weeks, full effect after about 6-9
  months; ``emax_i > 1`` means improvement. Delayed-start participants switch
  to tofersen at their week-28 visit and follow the same curve 28 weeks late.
* **Items.** The deficit ``48 - F`` is spread over the 12 ALSFRS-R items with
  per-participant Dirichlet weights (limb- or bulbar-predominant profile),
  water-filled so no item loses more than 4 points; item values get visit
  noise and are rounded to 0-4, so the total (their sum) stays in 0-48.
* **SVC, HHD, ALSAQ-40** follow the latent ALSFRS-R loss with
  participant-specific coefficients (plus drift and visit noise).
* **Biomarkers.** log plasma NfL and log CSF SOD1 drift up while untreated
  and fall within weeks of the first tofersen dose.
* **Events.** Death and permanent ventilation hazards are
  ``base * exp(function_coef * (ref - F(u)) + nfl_coef * (log NfL(0) - log ref)
  + nfl_change_coef * (log NfL(u) - log NfL(0)))``: baseline NfL is prognostic, and its
  change (the rate of ongoing axonal injury, lowered by tofersen within weeks) acts strongly.
* **Disposition.** Withdrawal is missing at random: its hazard between visits
  depends on the last observed ALSFRS-R total. OLE entry, OLE completion and
  the number of deaths among tofersen-treated participants are exact by
  construction: ranks of participant-level thresholds pick who enters, who
  dies in the OLE (a per-simulation scale of the OLE death hazard) and who
  withdraws (a per-arm scale of the OLE withdrawal hazard).
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

import numpy as np

from .config import SimulationConfigError

N_ITEMS = 12
ITEM_DOMAIN = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3])   # bulbar, fine motor, gross motor, respiratory
LIMB_PROFILE = np.array([0.5, 0.5, 0.5, 1.3, 1.3, 1.3, 1.4, 1.4, 1.4, 0.6, 0.6, 0.6])
BULBAR_PROFILE = np.array([2.2, 1.6, 2.2, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.6, 0.6, 0.6])
DAYS_PER_MONTH = 30.4375


@dataclass
class Study:
    """Arrays of one simulated study (participant-level ``p``, visit matrices ``v``)."""

    sim: dict
    p: dict = field(default_factory=dict)      # name -> array (N,)
    v: dict = field(default_factory=dict)      # name -> array (N, K[, ...])
    doses: dict = field(default_factory=dict)  # name -> array (n_doses,)
    aes: dict = field(default_factory=dict)    # name -> array (n_aes,)
    visit_days: np.ndarray | None = None       # scheduled study day of each visit column (K,)
    visit_weeks: np.ndarray | None = None      # nominal week of each visit column (K,)
    n_valor_visits: int = 0


# ---------------------------------------------------------------- helpers
def _interp_rows(grid: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Linear interpolation of row-wise values on a unit-step grid at times ``u`` (N, K)."""
    g = grid.shape[1] - 1
    uc = np.clip(u, 0.0, g - 1e-9)
    i = np.floor(uc).astype(np.int64)
    f = uc - i
    rows = np.arange(grid.shape[0])[:, None]
    return grid[rows, i] * (1 - f) + grid[rows, i + 1] * f


def _inverse_cum(cum: np.ndarray, target: np.ndarray) -> np.ndarray:
    """First time (grid units) at which the row-wise increasing ``cum`` reaches ``target``; inf if never."""
    above = cum >= target[:, None]
    hit = above.any(axis=1)
    j = np.where(hit, above.argmax(axis=1), 1)
    j = np.maximum(j, 1)
    rows = np.arange(cum.shape[0])
    lo, hi = cum[rows, j - 1], cum[rows, j]
    frac = np.where(hi > lo, (target - lo) / np.where(hi > lo, hi - lo, 1.0), 0.0)
    return np.where(hit, j - 1 + np.clip(frac, 0, 1), np.inf)


def _piecewise_cum(times: np.ndarray, rates: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Cumulative hazard at ``times`` (N, K) for rates constant on [times[k], times[k+1]), from ``start``."""
    t0 = np.maximum(times[:, :-1], start[:, None])
    t1 = np.maximum(times[:, 1:], start[:, None])
    seg = np.nan_to_num(rates[:, :-1] * (t1 - t0))
    return np.concatenate([np.zeros((times.shape[0], 1)), np.cumsum(seg, axis=1)], axis=1)


def _solve_piecewise(times: np.ndarray, cum: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Time at which a piecewise-linear cumulative (values ``cum`` at ``times``) reaches ``target``."""
    above = cum >= target[:, None]
    hit = above.any(axis=1)
    j = np.maximum(np.where(hit, above.argmax(axis=1), 1), 1)
    rows = np.arange(times.shape[0])
    c0, c1 = cum[rows, j - 1], cum[rows, j]
    t0, t1 = times[rows, j - 1], times[rows, j]
    frac = np.where(c1 > c0, (target - c0) / np.where(c1 > c0, c1 - c0, 1.0), 0.0)
    return np.where(hit, t0 + np.clip(frac, 0, 1) * (t1 - t0), np.inf)


def _threshold_between(q: np.ndarray, k: int) -> float:
    """A scale that puts exactly ``k`` of the values ``q`` below it (``q`` positive)."""
    qs = np.sort(q)
    if k <= 0:
        return qs[0] / 2 if qs.size else 1.0
    if k >= qs.size:
        return qs[-1] * 2
    return float(np.sqrt(qs[k - 1] * qs[k]))


def _moment_match(x: np.ndarray, mean: float, sd: float) -> np.ndarray:
    if x.size < 2 or x.std(ddof=1) == 0:
        return np.full_like(x, mean)
    return mean + (x - x.mean()) / x.std(ddof=1) * sd


# ---------------------------------------------------------------- design and baseline
def _design(sim: dict, rng: np.random.Generator, st: Study) -> None:
    subs = sim["subgroups"]
    arm_list, sub_list = [], []
    for s_code, sub in enumerate(("faster", "slower")):
        for arm in ("tofersen", "placebo"):
            n = subs[sub]["n"][arm]
            arm_list += [1 if arm == "tofersen" else 0] * n
            sub_list += [s_code] * n
    arm = np.array(arm_list, dtype=np.int64)
    sub = np.array(sub_list, dtype=np.int64)
    order = rng.permutation(arm.size)           # randomisation order
    arm, sub = arm[order], sub[order]
    n = arm.size
    cal = sim["calendar"]
    span = (cal["last_randomization"] - cal["first_randomization"]).days
    offs = np.sort(rng.integers(0, span + 1, size=n))
    offs[0], offs[-1] = 0, span
    st.p.update(arm=arm, sub=sub, rand_off=offs)

    # sites: the first len(sites) participants fill every site once, the rest at random
    countries = sim["sites"]["countries"]
    site_country = np.concatenate([[ci] * c["sites"] for ci, c in enumerate(countries)]).astype(np.int64)
    n_sites = site_country.size
    site = np.empty(n, dtype=np.int64)
    site[:n_sites] = rng.permutation(n_sites)
    site[n_sites:] = rng.integers(0, n_sites, size=n - n_sites)
    st.p.update(site=site, country=site_country[site])


def _baseline(sim: dict, rng: np.random.Generator, st: Study) -> None:
    p, b = st.p, sim["baseline"]
    arm, sub = p["arm"], p["sub"]
    n = arm.size
    is_fast = sub == 0
    # age, moment-matched per arm
    z = rng.standard_normal(n)
    age = np.empty(n)
    for code, key in ((1, "tofersen"), (0, "placebo")):
        m = arm == code
        age[m] = _moment_match(z[m], b["age"][key]["mean"], b["age"][key]["sd"])
    p["age"] = np.clip(np.rint(age), b["age"]["min"], b["age"]["max"]).astype(np.int64)
    # sex: exact male counts per arm
    male = np.zeros(n, dtype=bool)
    u = rng.random(n)
    for code, key in ((1, "tofersen"), (0, "placebo")):
        idx = np.flatnonzero(arm == code)
        male[idx[np.argsort(u[idx], kind="stable")[: b["male"][key]]]] = True
    p["male"] = male
    races = list(b["race"])
    probs = np.array([b["race"][r] for r in races])
    p["race"] = np.searchsorted(np.cumsum(probs) / probs.sum(), rng.random(n), side="right").clip(0, len(races) - 1)
    p["hispanic"] = rng.random(n) < b["hispanic_prob"]
    p["riluzole"] = rng.random(n) < b["riluzole_prob"]
    p["edaravone"] = rng.random(n) < b["edaravone_prob"]
    z = rng.standard_normal(n)
    med = np.where(is_fast, b["onset_months"]["faster"]["median"], b["onset_months"]["slower"]["median"])
    lsd = np.where(is_fast, b["onset_months"]["faster"]["log_sd"], b["onset_months"]["slower"]["log_sd"])
    p["onset_months"] = np.round(med * np.exp(lsd * z), 1).clip(3.0, None)

    # variants: exactly a5v_n A5V (faster subgroup) and every other variant at least once
    var = sim["variants"]
    n_other = len(var["others"])
    variant = np.empty(n, dtype=np.int64)          # 0 = A5V, 1.. = others
    u = rng.random(n)
    fast_idx = np.flatnonzero(is_fast)
    a5v = fast_idx[np.argsort(u[fast_idx], kind="stable")[: var["a5v_n"]]]
    rest = np.setdiff1d(np.arange(n), a5v)
    variant[a5v] = 0
    rest = rest[rng.permutation(rest.size)]
    weights = 1.0 / np.arange(1, n_other + 1) ** 0.8        # a few common, many private variants
    extra = rng.choice(n_other, size=rest.size - n_other, p=weights / weights.sum())
    variant[rest] = 1 + np.concatenate([np.arange(n_other), extra])
    p["variant"] = variant

    # latent untreated progression (points/week)
    pr = sim["progression"]
    z = rng.standard_normal(n)
    med = np.where(is_fast, pr["faster"]["median"], pr["slower"]["median"])
    lsd = np.where(is_fast, pr["faster"]["log_sd"], pr["slower"]["log_sd"])
    # p.Ala5Val carriers progress faster than other faster progressors (a heavier upper tail)
    p["slope"] = med * np.exp(lsd * z) * np.where(variant == 0, pr["a5v_multiplier"], 1.0)
    # baseline outcomes
    a = b["alsfrs"]
    z = rng.standard_normal(n)
    f0 = np.where(is_fast, a["faster"]["mean"] + a["faster"]["sd"] * z, a["slower"]["mean"] + a["slower"]["sd"] * z)
    p["f0"] = np.clip(f0, a["min"], a["max"])
    p["svc0"] = np.clip(b["svc"]["mean"] + b["svc"]["sd"] * rng.standard_normal(n), b["svc"]["min"], b["svc"]["max"])
    p["hhd0"] = b["hhd"]["mean"] + b["hhd"]["sd"] * rng.standard_normal(n)
    q = b["alsaq"]
    p["q0"] = np.clip(q["intercept"] + q["per_point"] * (48 - p["f0"]) + q["sd"] * rng.standard_normal(n), 1.0, 99.0)
    nf = b["nfl"]
    gm = np.where(is_fast, nf["faster"]["geomean"], nf["slower"]["geomean"])
    p["lnfl0"] = (np.log(gm) + nf["slope_coef"] * np.log(p["slope"] / med) + nf["log_sd"] * rng.standard_normal(n))
    p["lsod0"] = np.log(b["csf_sod1"]["geomean"]) + b["csf_sod1"]["log_sd"] * rng.standard_normal(n)
    # participant-level treatment response and outcome couplings
    te, co = sim["treatment_effect"], sim["correlation"]
    p["emax"] = np.clip(te["emax_mean"] + te["emax_sd"] * rng.standard_normal(n), te["emax_min"], te["emax_max"])
    p["nfl_fall"] = te["nfl"]["fall_mean"] + te["nfl"]["fall_sd"] * rng.standard_normal(n)
    p["sod_fall"] = te["csf_sod1"]["fall_mean"] + te["csf_sod1"]["fall_sd"] * rng.standard_normal(n)
    p["svc_k"] = co["svc_per_point"]["mean"] + co["svc_per_point"]["sd"] * rng.standard_normal(n)
    p["hhd_k"] = co["hhd_per_point"]["mean"] + co["hhd_per_point"]["sd"] * rng.standard_normal(n)
    p["q_k"] = np.clip(co["alsaq_per_point"]["mean"] + co["alsaq_per_point"]["sd"] * rng.standard_normal(n), 0, None)
    it = sim["items"]
    bulbar = rng.random(n) < it["onset_bulbar_prob"]
    prof = np.where(bulbar[:, None], BULBAR_PROFILE, LIMB_PROFILE)
    w = rng.gamma(it["dirichlet_alpha"] * prof)
    p["item_w"] = w / w.sum(axis=1, keepdims=True)


# ---------------------------------------------------------------- schedule and latent paths
def _schedule(sim: dict, rng: np.random.Generator, st: Study) -> None:
    v = sim["visits"]
    p = st.p
    n = p["arm"].size
    vd = np.array(v["valor_days"], dtype=np.int64)
    ole_weeks = np.arange(v["ole_first_week"], v["ole_last_week"] + 1, v["ole_every_weeks"], dtype=np.int64)
    st.visit_days = np.concatenate([vd, ole_weeks * 7 + 1])
    st.visit_weeks = np.concatenate([np.round((vd - 1) / 7).astype(np.int64), ole_weeks])
    st.n_valor_visits = vd.size
    jit = np.concatenate([
        rng.integers(-v["valor_window_days"], v["valor_window_days"] + 1, size=(n, vd.size)),
        rng.integers(-v["ole_window_days"], v["ole_window_days"] + 1, size=(n, ole_weeks.size)),
    ], axis=1)
    jit[:, 0] = 0
    off = (st.visit_days - 1)[None, :] + jit                 # days after randomisation
    close_off = (sim["calendar"]["ole_close"] - sim["calendar"]["first_randomization"]).days - p["rand_off"]
    exists = off <= close_off[:, None]
    exists[:, : vd.size] = True
    st.v.update(off=off, scheduled=exists)
    k28 = vd.size - 1
    p["t28"] = off[:, k28] / 7.0                              # week-28 visit = OLE day 1
    last_k = np.where(exists, np.arange(off.shape[1])[None, :], -1).max(axis=1)
    p["t_last"] = off[np.arange(n), last_k] / 7.0              # last possible visit (completion)
    p["close_off"] = close_off


def _latent(sim: dict, st: Study) -> None:
    """Latent paths on a weekly grid (N, G) assuming delayed start switches at week 28."""
    p = st.p
    te = sim["treatment_effect"]
    is_fast = p["sub"] == 0
    g = int(np.ceil(max(st.visit_days) / 7)) + 10
    grid = np.arange(g + 1, dtype=float)
    ton = np.where(p["arm"] == 1, 0.0, p["t28"])               # tofersen start (weeks)
    p["ton"] = ton
    mid = grid[:-1] + 0.5
    tau = mid[None, :] - ton[:, None]
    on = tau > 0
    tpos = np.where(on, tau, 0.0)
    mult = np.where(on, 1 - p["emax"][:, None] * (1 - np.exp(-(tpos / te["lag_weeks"]) ** te["shape"])), 1.0)
    loss = np.concatenate([np.zeros((mult.shape[0], 1)), np.cumsum(p["slope"][:, None] * mult, axis=1)], axis=1)
    # plausibility bound: true function never rises more than max_gain points above baseline
    f = np.clip(np.minimum(p["f0"][:, None] - loss, p["f0"][:, None] + te["max_gain"]), 0.0, 48.0)
    tau_g = grid[None, :] - ton[:, None]
    tg = np.clip(tau_g, 0, None)
    nf = te["nfl"]
    drift = np.where(is_fast, nf["drift_per_week"]["faster"], nf["drift_per_week"]["slower"])
    untreated = np.minimum(grid[None, :], ton[:, None])
    # on tofersen the untreated rise is reversed (fraction ``drift_reversal``) with the fast fall:
    # NfL tracks the current rate of axonal injury, not its history
    reversed_ = nf["drift_reversal"] * (1 - np.exp(-tg / nf["fall_weeks"]))
    lnfl = (p["lnfl0"][:, None] + drift[:, None] * untreated * (1 - reversed_)
            - p["nfl_fall"][:, None] * (1 - np.exp(-tg / nf["fall_weeks"]))
            - nf["late_fall"] * (1 - np.exp(-tg / nf["late_weeks"])))
    sd = te["csf_sod1"]
    lsod = (p["lsod0"][:, None] + sd["drift_per_week"] * untreated
            - p["sod_fall"][:, None] * (1 - np.exp(-tg / sd["fall_weeks"])))
    # SVC: a respiratory loss that accrues only while untreated and recovers on tofersen
    sv = sim["correlation"]["svc_untreated"]
    svc_rev = sv["per_week"] * untreated * np.exp(-tg / sv["recovery_weeks"])
    # ALSAQ-40: the same form, the burden of untreated weeks not carried by the ALSFRS-R total
    qa = sim["correlation"]["alsaq_untreated"]
    alsaq_rev = qa["per_week"] * untreated * np.exp(-tg / qa["recovery_weeks"])
    st.grid = dict(f=f, lnfl=lnfl, lsod=lsod, svc_rev=svc_rev, alsaq_rev=alsaq_rev)
    ev = sim["events"]

    def cumhaz(spec):
        h = spec["base"] * np.exp(spec["function_coef"] * (ev["ref_alsfrs"] - f)
                                  + spec["nfl_coef"] * (p["lnfl0"][:, None] - np.log(ev["nfl_ref"]))
                                  + spec["nfl_change_coef"] * (lnfl - p["lnfl0"][:, None]))
        hm = 0.5 * (h[:, 1:] + h[:, :-1])
        return np.concatenate([np.zeros((h.shape[0], 1)), np.cumsum(hm, axis=1)], axis=1)

    st.grid["H_death"] = cumhaz(ev["death"])
    st.grid["H_pv"] = cumhaz(ev["ventilation"])


def _observe(sim: dict, rng: np.random.Generator, st: Study) -> None:
    """Observed outcome values at every scheduled visit (before follow-up ends)."""
    p, v = st.p, st.v
    me, co = sim["measurement"], sim["correlation"]
    n, k = v["off"].shape
    u = v["off"] / 7.0
    v["u"] = u
    f = _interp_rows(st.grid["f"], u)
    v["f_latent"] = f
    # items: spread the deficit over the items, water-filling at 4 points per item
    deficit = np.clip(48.0 - f + me["visit_sd"] * rng.standard_normal((n, k)), 0.0, 48.0)
    w = np.broadcast_to(p["item_w"][:, None, :], (n, k, N_ITEMS))
    alloc = np.zeros((n, k, N_ITEMS))
    remaining = deficit.copy()
    active = np.ones((n, k, N_ITEMS), dtype=bool)
    for _ in range(N_ITEMS):
        ww = np.where(active, w, 0.0)
        tot = ww.sum(axis=2)
        share = ww / np.where(tot > 0, tot, 1.0)[:, :, None]
        new = alloc + remaining[:, :, None] * share
        over = np.clip(new - 4.0, 0.0, None)
        alloc = np.minimum(new, 4.0)
        remaining = over.sum(axis=2)
        active = alloc < 4.0 - 1e-12
        if remaining.max() < 1e-9:
            break
    items = np.rint(4.0 - alloc + me["item_sd"] * rng.standard_normal((n, k, N_ITEMS)))
    items = np.clip(items, 0, 4).astype(np.int64)
    # permanent ventilation (latent time): respiratory insufficiency item 12 = 0 afterwards
    e_pv = rng.exponential(size=n)
    p["t_pv"] = _inverse_cum(st.grid["H_pv"], e_pv)
    after_pv = u >= p["t_pv"][:, None]
    items[:, :, 11] = np.where(after_pv, 0, items[:, :, 11])
    _cap_observed_gain(items, me["max_observed_gain"])
    v["items"] = items
    v["total"] = items.sum(axis=2)
    floss = p["f0"][:, None] - f
    v["svc"] = np.clip(p["svc0"][:, None] - p["svc_k"][:, None] * floss + co["svc_per_week"] * u
                       - _interp_rows(st.grid["svc_rev"], u)
                       + me["svc_sd"] * rng.standard_normal((n, k)), 0.0, 150.0)
    v["hhd"] = (p["hhd0"][:, None] - p["hhd_k"][:, None] * floss + co["hhd_per_week"] * u
                + me["hhd_sd"] * rng.standard_normal((n, k)))
    v["alsaq"] = np.clip(p["q0"][:, None] + p["q_k"][:, None] * floss + _interp_rows(st.grid["alsaq_rev"], u)
                         + me["alsaq_sd"] * rng.standard_normal((n, k)), 1.0, 100.0)  # floor 1: ratios exist
    v["nfl"] = np.exp(_interp_rows(st.grid["lnfl"], u) + me["nfl_log_sd"] * rng.standard_normal((n, k)))
    v["sod1"] = np.exp(_interp_rows(st.grid["lsod"], u) + me["sod1_log_sd"] * rng.standard_normal((n, k)))
    # the baseline record is the participant's baseline value
    v["svc"][:, 0], v["hhd"][:, 0], v["alsaq"][:, 0] = p["svc0"], p["hhd0"], p["q0"]
    v["nfl"][:, 0], v["sod1"][:, 0] = np.exp(p["lnfl0"]), np.exp(p["lsod0"])


def _cap_observed_gain(items: np.ndarray, cap: float) -> None:
    """Bound measurement error in place: no visit total exceeds the baseline total + ``cap``
    (the surplus is taken one point at a time from the highest-scored item)."""
    base = items[:, :1, :].sum(axis=2)
    for _ in range(4 * N_ITEMS):
        excess = items.sum(axis=2) - base - cap
        if (excess <= 0).all():
            break
        i, k = np.nonzero(excess > 0)
        j = items[i, k].argmax(axis=1)
        items[i, k, j] -= 1


# ---------------------------------------------------------------- disposition
def _disposition(sim: dict, rng: np.random.Generator, st: Study) -> None:
    p, v = st.p, st.v
    n = p["arm"].size
    kv = st.n_valor_visits
    u = v["u"]
    t28, t_last = p["t28"], p["t_last"]
    do = sim["dropout"]
    e_death = rng.exponential(size=n)
    e_wv = rng.exponential(size=n)
    e_wo = rng.exponential(size=n)
    entry_noise = sim["ole"]["entry_noise_sd"] * rng.standard_normal(n)
    t_death = _inverse_cum(st.grid["H_death"], e_death)

    # MAR withdrawal hazard (per week) on each inter-visit interval, from the last observed total
    rate_v = -np.log1p(-min(do["monthly_prob"], 1 - 1e-12)) / (DAYS_PER_MONTH / 7)
    rate_o = -np.log1p(-min(do["ole_monthly_prob"], 1 - 1e-12)) / (DAYS_PER_MONTH / 7)
    state = np.exp(do["state_coef"] * (do["ref_alsfrs"] - v["total"]))
    times = np.where(v["scheduled"], u, np.nan)
    times = np.fmax.accumulate(np.nan_to_num(times, nan=-1.0), axis=1)  # carry last time forward
    # VALOR: intervals between VALOR visits
    tv = u[:, :kv]
    cum_v = _piecewise_cum(tv, rate_v * state[:, :kv], np.zeros(n))
    w_valor = _solve_piecewise(tv, cum_v, e_wv)

    valor_death = t_death < np.minimum(w_valor, t28)
    valor_wd = ~valor_death & (w_valor < t28)

    # OLE entry: exactly n per arm, ranked by week-28 ALSFRS-R plus noise. If too few
    # completed VALOR, the latest VALOR withdrawals, then the latest VALOR deaths, are
    # moved past week 28 (so the entrant counts hold by construction).
    entrant = np.zeros(n, dtype=bool)
    score = v["total"][:, kv - 1] + entry_noise
    for code, key in ((1, "tofersen"), (0, "placebo")):
        need = sim["ole"]["entrants"][key]
        arm_m = p["arm"] == code
        short = need - int((arm_m & ~valor_death & ~valor_wd).sum())
        if short > 0:
            wd = np.flatnonzero(arm_m & valor_wd)
            back = wd[np.argsort(-w_valor[wd], kind="stable")[:short]]
            valor_wd[back], w_valor[back] = False, np.inf
            short -= back.size
        if short > 0:
            dd = np.flatnonzero(arm_m & valor_death)
            back = dd[np.argsort(-t_death[dd], kind="stable")[:short]]
            valor_death[back] = False
            e_death[back] = _interp_rows(st.grid["H_death"][back], t28[back, None])[:, 0] + e_death[back]
        cand = np.flatnonzero(arm_m & ~valor_death & ~valor_wd)
        entrant[cand[np.argsort(-score[cand], kind="stable")[:need]]] = True
    completed_valor = ~valor_death & ~valor_wd

    # OLE deaths: exactly `target - early-start VALOR deaths` among entrants
    target = sim["events"]["tofersen_treated_deaths"]
    k_ole = target - int((valor_death & (p["arm"] == 1)).sum())
    ent = np.flatnonzero(entrant)
    if not 0 <= k_ole <= ent.size:
        raise SimulationConfigError("simulation.events.tofersen_treated_deaths",
                                    f"cannot be met: {target - k_ole} early-start deaths already in VALOR")
    H = st.grid["H_death"]
    h28 = _interp_rows(H, t28[:, None])[:, 0]
    hlast = _interp_rows(H, t_last[:, None])[:, 0]
    resid = e_death - h28                       # > 0 for everyone alive at week 28
    q = np.full(n, np.inf)
    q[ent] = resid[ent] / np.maximum(hlast[ent] - h28[ent], 1e-12)
    c_death = _threshold_between(q[ent], k_ole)
    ole_death = entrant & (q < c_death)
    t_ole_death = np.full(n, np.inf)
    idx = np.flatnonzero(ole_death)
    if idx.size:
        t_ole_death[idx] = _inverse_cum(H[idx], h28[idx] + resid[idx] / c_death)
        t_ole_death[idx] = np.minimum(t_ole_death[idx], t_last[idx] - 1e-6)

    # OLE withdrawal: per arm, exactly `completers` of the surviving entrants complete
    to = np.where(np.arange(u.shape[1])[None, :] >= kv - 1, times, t28[:, None])
    cum_o = _piecewise_cum(to, rate_o * state, t28)
    cum_at_last = cum_o[:, -1]        # times are carried forward past the last visit
    w_ole = np.full(n, np.inf)
    c_wd = {}
    for code, key in ((1, "tofersen"), (0, "placebo")):
        pool = np.flatnonzero(entrant & ~ole_death & (p["arm"] == code))
        n_comp = sim["ole"]["completers"][key]
        if pool.size < n_comp:
            raise SimulationConfigError(f"simulation.ole.completers.{key}",
                                        f"{n_comp} completers wanted but only {pool.size} surviving entrants")
        qw = e_wo[pool] / np.maximum(cum_at_last[pool], 1e-12)
        c = _threshold_between(qw, pool.size - n_comp)
        c_wd[key] = c
        leave = pool[qw < c]
        if leave.size:
            w_ole[leave] = np.minimum(_solve_piecewise(to[leave], cum_o[leave], e_wo[leave] / c), t_last[leave] - 1e-6)

    # end of follow-up (weeks) and how it ended
    end = np.where(valor_death, t_death, np.where(valor_wd, w_valor, np.where(~entrant, t28,
                   np.where(ole_death, t_ole_death, np.minimum(w_ole, t_last)))))
    died = valor_death | ole_death
    t_died = np.where(valor_death, t_death, np.where(ole_death, t_ole_death, np.inf))
    withdrew = valor_wd | (entrant & ~ole_death & np.isfinite(w_ole))
    completer = entrant & ~ole_death & ~np.isfinite(w_ole)
    pv = p["t_pv"] < end
    p.update(end=end, died=died, t_died=t_died, withdrew=withdrew, valor_wd=valor_wd,
             valor_death=valor_death, entrant=entrant, completer=completer,
             completed_valor=completed_valor, pv=pv, c_death=np.full(n, c_death))
    st.scales = dict(death=c_death, **{f"withdrawal_{k}": c for k, c in c_wd.items()})

    # day offsets (days after randomisation) of the end of follow-up, death and PV
    end_off = np.floor(end * 7).astype(np.int64)
    died_off = np.where(died, np.maximum(np.floor(np.where(died, t_died, 0) * 7), 1), -1).astype(np.int64)
    # an OLE death falls after the OLE day-1 (first tofersen) dose
    died_off = np.where(ole_death, np.maximum(died_off, np.rint(t28 * 7).astype(np.int64) + 1), died_off)
    pv_off = np.where(pv, np.maximum(np.floor(np.where(pv, p["t_pv"], 0) * 7), 1), -1).astype(np.int64)
    # completers and OLE non-entrants end at their last visit (which they attend)
    last_visit_ok = completer | (completed_valor & ~entrant)
    end_off = np.where(last_visit_ok, np.rint(end * 7).astype(np.int64), end_off)
    end_off = np.where(died, died_off, end_off)
    end_off = np.maximum(end_off, 1)
    kept = v["scheduled"] & ((v["off"] < end_off[:, None]) | (last_visit_ok[:, None] & (v["off"] <= end_off[:, None])))
    kept[:, 0] = True
    kept[~entrant, kv:] = False
    v["kept"] = kept
    p.update(end_off=end_off, died_off=died_off, pv_off=pv_off)


# ---------------------------------------------------------------- dosing
def _doses(sim: dict, rng: np.random.Generator, st: Study) -> None:
    p = st.p
    d = sim["dosing"]
    load = np.array(d["loading_days"], dtype=np.int64)
    maint_v = np.arange(load[-1] + d["maintenance_every_days"], d["valor_last_dose_day"] + 1,
                        d["maintenance_every_days"], dtype=np.int64)
    valor_days = np.concatenate([load, maint_v])
    max_ole = int(np.ceil(p["t_last"].max() * 7 - p["t28"].min() * 7)) + 1
    maint_o = np.arange(load[-1] + d["maintenance_every_days"], max_ole + 1, d["maintenance_every_days"])
    ole_days = np.concatenate([load, maint_o])
    n = p["arm"].size
    # VALOR doses
    jit_v = rng.integers(-d["dose_window_days"], d["dose_window_days"] + 1, size=(n, valor_days.size))
    jit_v[:, 0] = 0
    off_v = (valor_days - 1)[None, :] + jit_v
    jit_o = rng.integers(-d["dose_window_days"], d["dose_window_days"] + 1, size=(n, ole_days.size))
    jit_o[:, 0] = 0
    ole_start = np.rint(p["t28"] * 7).astype(np.int64)
    off_o = ole_start[:, None] + (ole_days - 1)[None, :] + jit_o
    end_off = p["end_off"]
    ok_v = off_v < np.where(p["completed_valor"], ole_start, end_off)[:, None]
    ok_v[:, 0] = True
    ok_o = p["entrant"][:, None] & (off_o < end_off[:, None])
    subj = np.concatenate([np.repeat(np.arange(n)[:, None], valor_days.size, 1)[ok_v],
                           np.repeat(np.arange(n)[:, None], ole_days.size, 1)[ok_o]])
    off = np.concatenate([off_v[ok_v], off_o[ok_o]])
    period = np.concatenate([np.ones(ok_v.sum(), np.int64), np.full(ok_o.sum(), 2, np.int64)])
    nload = load.size
    loading = np.concatenate([np.broadcast_to(np.arange(valor_days.size) < nload, ok_v.shape)[ok_v],
                              np.broadcast_to(np.arange(ole_days.size) < nload, ok_o.shape)[ok_o]])
    tof = (period == 2) | (p["arm"][subj] == 1)
    order = np.lexsort((off, subj))
    st.doses = dict(subj=subj[order], off=off[order], period=period[order], loading=loading[order],
                    tofersen=tof[order])
    last = np.full(n, -1, np.int64)
    np.maximum.at(last, st.doses["subj"], st.doses["off"])
    first_tof = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first_tof, st.doses["subj"][st.doses["tofersen"]], st.doses["off"][st.doses["tofersen"]])
    p.update(last_dose_off=last,
             first_tof_off=np.where(first_tof == np.iinfo(np.int64).max, -1, first_tof),
             ole_start_off=np.where(p["entrant"], ole_start, -1))


# ---------------------------------------------------------------- adverse events
def _adverse_events(sim: dict, rng: np.random.Generator, st: Study) -> None:
    """Treatment-emergent AEs: per-dose (lumbar puncture) and per-year events, SAEs, discontinuations."""
    p, dz = st.p, st.doses
    ae = sim["adverse_events"]
    n = p["arm"].size
    rec = {k: [] for k in ("subj", "off", "term", "serious", "sev", "fatal", "drug_withdrawn", "dur")}

    def add(subj, off, term, serious=False, sev=None, fatal=False, withdrawn=False, dur=None):
        m = np.asarray(subj).size
        rec["subj"].append(np.asarray(subj, np.int64))
        rec["off"].append(np.asarray(off, np.int64))
        rec["term"].append(np.broadcast_to(np.asarray(term, dtype=object), (m,)).copy())
        rec["serious"].append(np.broadcast_to(serious, (m,)).astype(bool))
        rec["sev"].append(np.asarray(sev if sev is not None else np.zeros(m), np.int64))
        rec["fatal"].append(np.broadcast_to(fatal, (m,)).astype(bool))
        rec["drug_withdrawn"].append(np.broadcast_to(withdrawn, (m,)).astype(bool))
        rec["dur"].append(np.asarray(dur if dur is not None else np.zeros(m), np.int64))

    sevp = np.cumsum(ae["severity_probs"])
    # per-dose events, onset 0-2 days after the lumbar puncture
    tof_dose = dz["tofersen"]
    for term, (pt, pp) in ae["per_dose"].items():
        hit = rng.random(dz["subj"].size) < np.where(tof_dose, pt, pp)
        k = int(hit.sum())
        add(dz["subj"][hit], dz["off"][hit] + rng.integers(0, 3, size=k), term,
            sev=np.searchsorted(sevp, rng.random(k), side="right").clip(0, 2), dur=rng.integers(1, 15, size=k))
    # per-year events, uniform over each period's exposure
    ole_start = np.where(p["entrant"], p["ole_start_off"], p["end_off"])
    end1 = np.minimum(ole_start, p["end_off"])
    for term, (rt, rp) in ae["per_year"].items():
        for per, lo, hi, rate in ((1, np.zeros(n, np.int64), end1, np.where(p["arm"] == 1, rt, rp)),
                                  (2, ole_start, p["end_off"], np.full(n, rt))):
            expo = np.clip(hi - lo, 0, None) / 365.25
            cnt = rng.poisson(rate * expo)
            subj = np.repeat(np.arange(n), cnt)
            off = lo[subj] + np.floor(rng.random(subj.size) * np.maximum(hi[subj] - lo[subj], 1)).astype(np.int64)
            add(subj, off, term, sev=np.searchsorted(sevp, rng.random(subj.size), side="right").clip(0, 2),
                dur=rng.integers(2, 60, size=subj.size))

    tof_treated = p["first_tof_off"] >= 0
    n_tt = int(tof_treated.sum())
    tt = np.flatnonzero(tof_treated)
    t_on = np.where(tof_treated, p["first_tof_off"], 0)

    def onset_on_tofersen(idx, frac=None):
        f = rng.random(idx.size) if frac is None else frac
        span = np.maximum(p["end_off"][idx] - t_on[idx] - 1, 1)
        return t_on[idx] + 1 + np.floor(f * span).astype(np.int64)

    # deaths: a fatal serious AE on the day of death
    dead = np.flatnonzero(p["died"])
    fatal_terms = np.array(["RESPIRATORY FAILURE", "AMYOTROPHIC LATERAL SCLEROSIS", "PNEUMONIA ASPIRATION"],
                           dtype=object)
    add(dead, p["died_off"][dead], fatal_terms[rng.integers(0, 3, size=dead.size)], serious=True,
        sev=np.full(dead.size, 2), fatal=True, dur=np.zeros(dead.size))
    # serious neurological events: exact participant counts, on tofersen
    u = rng.random(n)
    neuro_order = tt[np.argsort(u[tt], kind="stable")]
    pos = 0
    neuro_subj = []
    for term, k in sim["adverse_events"]["serious_neuro"].items():
        who = neuro_order[pos:pos + k]
        pos += k
        neuro_subj.append(who)
        add(who, onset_on_tofersen(who), term, serious=True, sev=rng.integers(1, 3, size=who.size),
            dur=rng.integers(14, 120, size=who.size))
    neuro_subj = np.concatenate(neuro_subj) if neuro_subj else np.zeros(0, np.int64)
    # other serious AEs so that exactly round(serious_prob * n_tt) tofersen-treated have one on tofersen
    sae_terms = np.array(["PNEUMONIA", "DYSPHAGIA", "RESPIRATORY FAILURE", "FALL", "FEMUR FRACTURE",
                          "PULMONARY EMBOLISM", "DEHYDRATION", "DEEP VEIN THROMBOSIS"], dtype=object)
    have = np.zeros(n, dtype=bool)
    tof_death = p["died"] & tof_treated & (p["died_off"] > t_on)
    have[tof_death] = True
    have[neuro_subj] = True
    want = int(np.floor(ae["serious_prob"] * n_tt + 0.5))
    more = max(want - int(have[tt].sum()), 0)
    # sicker participants (lower last observed function) are likelier to have a serious AE
    last_total = np.where(st.v["kept"], st.v["total"], 99).min(axis=1)
    key = last_total + 6.0 * rng.standard_normal(n)
    cand = tt[~have[tt]]
    pick = cand[np.argsort(key[cand], kind="stable")[:more]]
    add(pick, onset_on_tofersen(pick), sae_terms[rng.integers(0, sae_terms.size, size=pick.size)],
        serious=True, sev=rng.integers(1, 3, size=pick.size), dur=rng.integers(5, 40, size=pick.size))
    # serious AEs on placebo (VALOR)
    pl = np.flatnonzero(p["arm"] == 0)
    expo = np.clip(np.minimum(p["end_off"][pl], np.where(p["entrant"][pl], p["ole_start_off"][pl], p["end_off"][pl])),
                   0, None) / 365.25
    cnt = rng.poisson(ae["placebo_serious_per_year"] * expo)
    subj = np.repeat(pl, cnt)
    hi = np.where(p["entrant"][subj], p["ole_start_off"][subj], p["end_off"][subj])
    add(subj, 1 + np.floor(rng.random(subj.size) * np.maximum(hi - 1, 1)).astype(np.int64),
        sae_terms[rng.integers(0, sae_terms.size, size=subj.size)], serious=True,
        sev=rng.integers(1, 3, size=subj.size), dur=rng.integers(5, 40, size=subj.size))
    # discontinuation for an AE: exactly round(discontinuation_prob * n_tt) tofersen-treated withdrawals
    k_disc = int(np.floor(ae["discontinuation_prob"] * n_tt + 0.5))
    pool = np.flatnonzero(tof_treated & p["withdrew"] & (p["end_off"] > t_on))
    if pool.size < k_disc:
        raise SimulationConfigError("simulation.adverse_events.discontinuation_prob",
                                    f"{k_disc} AE discontinuations wanted but only {pool.size} withdrawals")
    disc = pool[np.argsort(rng.random(pool.size), kind="stable")[:k_disc]]
    disc_terms = np.array(["POST LUMBAR PUNCTURE SYNDROME", "BACK PAIN", "HEADACHE", "MUSCULAR WEAKNESS",
                           "DYSPNOEA", "FATIGUE", "CSF PROTEIN INCREASED"], dtype=object)
    # discontinuing participants with a serious neurological event discontinue for it
    is_neuro = np.isin(disc, neuro_subj)
    gap = rng.integers(3, 45, size=disc.size)
    onset = np.maximum(p["end_off"][disc] - gap, t_on[disc] + 1)
    add(disc[~is_neuro], onset[~is_neuro], disc_terms[rng.integers(0, disc_terms.size, size=int((~is_neuro).sum()))],
        sev=np.full(int((~is_neuro).sum()), 1), withdrawn=True, dur=rng.integers(5, 60, size=int((~is_neuro).sum())))
    p["ae_disc"] = np.isin(np.arange(n), disc)
    out = {k: np.concatenate(vv) for k, vv in rec.items()}
    # neurological events of discontinuing participants lead to drug withdrawal
    neuro_names = np.array(list(sim["adverse_events"]["serious_neuro"]), dtype=object)
    out["drug_withdrawn"] |= np.isin(out["subj"], disc[is_neuro]) & np.isin(out["term"], neuro_names)
    # keep events within follow-up and after the first dose
    keep = (out["off"] >= 0) & (out["off"] <= p["end_off"][out["subj"]])
    out = {k: vv[keep] for k, vv in out.items()}
    order = np.lexsort((out["term"].astype(str), out["off"], out["subj"]))
    a = {k: vv[order] for k, vv in out.items()}
    a["neuro"] = np.isin(a["term"], neuro_names)
    # causality: per-term probability (placebo-period events a little less often judged related)
    rel = ae["related_prob"]
    relp = np.array([rel.get(t, rel["default"]) for t in a["term"]])
    on_tof = (p["arm"][a["subj"]] == 1) | (p["entrant"][a["subj"]] & (a["off"] >= p["ole_start_off"][a["subj"]]))
    a["related"] = rng.random(a["subj"].size) < np.where(on_tof, relp, 0.8 * relp)
    st.aes = a


def simulate_study(sim: dict, seed: int) -> Study:
    """Run the whole model for a validated ``simulation`` section."""
    rng = np.random.Generator(np.random.PCG64(seed))
    st = Study(sim=sim)
    _design(sim, rng, st)
    _baseline(sim, rng, st)
    _schedule(sim, rng, st)
    _latent(sim, st)
    _observe(sim, rng, st)
    _disposition(sim, rng, st)
    _doses(sim, rng, st)
    _adverse_events(sim, rng, st)
    return st


def day_offset_to_date(first: _dt.date, rand_off: np.ndarray, off: np.ndarray) -> np.ndarray:
    """Dates (numpy datetime64[D]) ``off`` days after each participant's randomisation."""
    base = np.datetime64(first, "D")
    return base + (rand_off + off).astype("timedelta64[D]")
