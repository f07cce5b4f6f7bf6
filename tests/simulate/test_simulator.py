"""Tests of the simulated VALOR/OLE study (studies.valor.simulate)."""
from __future__ import annotations

import copy
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from studies.valor.simulate.config import DEFAULT_STUDY, SimulationConfigError, load_config, load_study
from studies.valor.simulate.valor import simulate


@pytest.fixture(scope="module")
def data():
    return simulate()


@pytest.fixture(scope="module")
def study():
    with open(DEFAULT_STUDY, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _digests(folder: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


class TestSizes:
    def test_arms_and_subgroups_exact(self, data):
        sl = data["ADSL"]
        assert len(sl) == 108 and sl.USUBJID.is_unique
        assert sl.TRT01P.value_counts().to_dict() == {"Tofersen 100 mg": 72, "Placebo": 36}
        ct = pd.crosstab(sl.PROGGR1, sl.TRT01P)
        assert ct.loc["Faster progression", "Tofersen 100 mg"] == 39
        assert ct.loc["Faster progression", "Placebo"] == 21
        assert ct.loc["Slower progression", "Tofersen 100 mg"] == 33
        assert ct.loc["Slower progression", "Placebo"] == 15
        assert (sl.FASFL == "Y").sum() == 60

    @pytest.mark.parametrize("seed", [None, 1, 7, 123])
    def test_disposition_counts_exact(self, seed):
        sl = simulate(seed=seed)["ADSL"]
        assert (sl.OLEFL == "Y").sum() == 95
        cmp = sl[sl.OLECMPFL == "Y"]
        assert (cmp.STARTGR == "Early start").sum() == 34
        assert (cmp.STARTGR == "Delayed start").sum() == 12
        tt = sl[sl.TOFFL == "Y"]
        assert ((tt.DTHFL == "Y") & (tt.DTHDT > tt.TOFSDT)).sum() == 14
        assert (sl[sl.TRT01PN == 1].SEX == "M").sum() == 43
        assert (sl[sl.TRT01PN == 0].SEX == "M").sum() == 19

    def test_sites_countries_variants(self, data):
        sl = data["ADSL"]
        assert sl.SITEID.nunique() == 32
        assert sl.COUNTRY.nunique() == 10
        assert sl.SOD1VAR.nunique() == 42
        assert (sl.SOD1VAR == "p.Ala5Val").sum() == 22
        assert set(sl.loc[sl.A5VFL == "Y", "PROGGR1"]) == {"Faster progression"}


class TestValues:
    def test_items_in_range_and_total_is_sum(self, data):
        qs = data["ADQS"]
        items = qs[qs.PARAMCD.str.fullmatch(r"ALSFRS\d\d")]
        assert items.AVAL.between(0, 4).all()
        assert (items.AVAL == np.round(items.AVAL)).all()
        wide = items.pivot_table(index=["USUBJID", "AVISITN"], columns="PARAMCD", values="AVAL")
        assert wide.shape[1] == 12 and not wide.isna().any().any()
        tot = qs[qs.PARAMCD == "ALSFRST"].set_index(["USUBJID", "AVISITN"]).AVAL
        assert tot.between(0, 48).all()
        pd.testing.assert_series_equal(wide.sum(axis=1).sort_index(), tot.sort_index(), check_names=False)
        dom = qs[qs.PARAMCD == "ALSFRSRE"].set_index(["USUBJID", "AVISITN"]).AVAL.sort_index()
        pd.testing.assert_series_equal(wide[["ALSFRS10", "ALSFRS11", "ALSFRS12"]].sum(axis=1).sort_index(), dom,
                                       check_names=False)

    def test_bds_baseline_and_change(self, data):
        for name in ("ADQS", "ADEFF", "ADLB"):
            d = data[name]
            bl = d[d.ABLFL == "Y"]
            assert (bl.AVISITN == 0).all()
            assert not bl.duplicated(["USUBJID", "PARAMCD"]).any()
            assert np.allclose(d.CHG, d.AVAL - d.BASE)
            assert not d.duplicated(["USUBJID", "PARAMCD", "AVISITN"]).any()
        lb = data["ADLB"]
        assert np.allclose(lb.R2BASE, lb.AVAL / lb.BASE) and np.allclose(lb.AVALL, np.log(lb.AVAL))
        qs = data["ADQS"]
        aq = qs[qs.PARAMCD == "ALSAQ40"]
        assert aq.AVAL.between(0, 100).all()
        assert set(qs.APERIODC) == {"VALOR", "OLE"}

    def test_tte_and_ae_codes(self, data):
        tte = data["ADTTE"]
        assert set(tte.PARAMCD) == {"DTHPV", "DTH"} and set(tte.CNSR) <= {0, 1}
        assert ((tte.CNSR == 0) == (tte.EVNTDESC != "")).all()
        assert (tte.AVAL == (tte.ADT - tte.STARTDT).dt.days + 1).all()
        ae = data["ADAE"]
        for pt in ("Procedural pain", "Headache", "Pain in extremity", "Fall", "Back pain",
                   "CSF white blood cell count increased", "CSF protein increased", "Post lumbar puncture syndrome"):
            assert pt in set(ae.AEDECOD)
        neuro = set(ae.loc[ae.CQ01NAM != "", "AEDECOD"])
        assert neuro <= {"Myelitis", "Radiculitis", "Meningitis aseptic", "Papilloedema", "Meningitis chemical"}
        assert (ae.TRTEMFL == "Y").all()
        ex = data["ADEX"]
        first = ex[ex.ASEQ <= 3]
        assert (first.EXCAT == "LOADING").all()
        assert set(ex.loc[ex.APERIOD == 2, "EXTRT"]) == {"TOFERSEN"}


class TestLabels:
    def test_every_variable_labelled(self, data):
        for name, df in data.items():
            labels = df.attrs["labels"]
            assert df.attrs["label"]
            for c in df.columns:
                assert len(c) <= 8, (name, c)
                assert labels.get(c), (name, c)
                assert len(labels[c]) <= 40, (name, c, labels[c])

    def test_files_carry_labels(self, tmp_path):
        import pyarrow.parquet as pq
        import pyreadstat

        simulate(out=tmp_path, formats=("parquet", "xpt"))
        define = json.loads((tmp_path / "define.json").read_text())
        assert define["study"]["simulated"] is True
        for ds in define["datasets"]:
            name = ds["name"].lower()
            schema = pq.read_schema(tmp_path / f"{name}.parquet")
            assert [f.name for f in schema] == [v["name"] for v in ds["variables"]]
            assert all(f.metadata[b"label"] for f in schema)
            assert b"pandas" not in (schema.metadata or {})
            assert all(v["label"] and v["type"] in ("text", "integer", "float", "date") for v in ds["variables"])
            _, meta = pyreadstat.read_xport(tmp_path / f"{name}.xpt", metadataonly=True)
            assert all(meta.column_labels)


class TestDeterminism:
    def test_same_seed_same_frames_other_seed_differs(self, data):
        again = simulate()
        for name in data:
            pd.testing.assert_frame_equal(data[name], again[name])
        other = simulate(seed=1)
        assert not other["ADQS"].AVAL.equals(data["ADQS"].AVAL)

    def test_bytes_identical_across_runs_and_hash_seeds(self, tmp_path):
        script = ("import sys; from studies.valor.simulate.valor import simulate; "
                  "simulate(seed=5, out=sys.argv[1], formats=('parquet', 'xpt'))")
        digests = []
        for i, hashseed in enumerate(("0", "1", "12345")):
            out = tmp_path / f"run{i}"
            # this project's code first: an earlier test may have rendered another project
            code = str(Path(__file__).resolve().parents[2] / "src")
            env = {**os.environ, "PYTHONHASHSEED": hashseed,
                   "PYTHONPATH": os.pathsep.join([code, os.environ.get("PYTHONPATH", "")])}
            subprocess.run([sys.executable, "-c", script, str(out)], check=True, env=env)
            digests.append(_digests(out))
        assert digests[0] == digests[1] == digests[2]
        simulate(seed=5, out=tmp_path / "inproc", formats=("parquet", "xpt"))
        assert _digests(tmp_path / "inproc") == digests[0]
        assert len(digests[0]) == 15          # 7 datasets x 2 formats + define.json

    def test_xpt_header_timestamp_fixed(self, tmp_path):
        simulate(out=tmp_path, formats=("xpt",))
        head = (tmp_path / "adsl.xpt").read_bytes()[:640]
        assert b"31AUG24:00:00:00" in head


class TestConfigErrors:
    def _bad(self, study, path, value):
        s = copy.deepcopy(study)
        node = s
        keys = path.split(".")
        for k in keys[:-1]:
            node = node[k]
        node[keys[-1]] = value
        return s

    @pytest.mark.parametrize("path,value,message", [
        ("simulation.dropout.monthly_prob", 1.3, "simulation.dropout.monthly_prob: must be within [0, 1], got 1.3"),
        ("simulation.arms.placebo.n", -5, "simulation.arms.placebo.n: must be >= 0, got -5"),
        ("simulation.ratio", [2, 0], "simulation.ratio[1]: must be > 0, got 0"),
        ("simulation.ratio", [3, 1], "simulation.ratio: 3:1 does not match the arm sizes 72:36"),
        ("simulation.progression.faster.median", "fast", "simulation.progression.faster.median: must be a number"),
        ("simulation.ole.entrants.tofersen", 80, "simulation.ole.entrants.tofersen: exceeds the arm size 72"),
        ("simulation.subgroups.faster.n.placebo", 20, "simulation.subgroups: placebo subgroup sizes add up to 35"),
        ("simulation.events.death.base", -0.1, "simulation.events.death.base: must be >= 0"),
    ])
    def test_error_names_parameter_and_writes_nothing(self, study, tmp_path, path, value, message):
        out = tmp_path / "out"
        with pytest.raises(SimulationConfigError) as err:
            simulate(config=self._bad(study, path, value), out=out)
        assert str(err.value).startswith(message)
        assert not out.exists()

    def test_unknown_and_missing_keys(self, study):
        s = copy.deepcopy(study)
        s["simulation"]["dropout"]["monthly_probability"] = 0.1
        with pytest.raises(SimulationConfigError, match=r"^simulation\.dropout\.monthly_probability: unknown key"):
            load_study(s)
        s = copy.deepcopy(study)
        del s["simulation"]["visits"]["ole_every_weeks"]
        with pytest.raises(SimulationConfigError, match=r"^simulation\.visits\.ole_every_weeks: missing"):
            load_study(s)

    def test_default_config_valid_and_documented(self, study):
        sim = load_config()
        assert sim["seed"] == study["simulation"]["seed"]
        assert study["name"] == "valor" and study["simulated"] is True
        assert set(study["simulation"]["data_cuts"]) == {"12-month", "final"}
        # every simulation key sits on a line with a comment or under a commented block
        text = DEFAULT_STUDY.read_text(encoding="utf-8")
        assert text.count("#") > 80


class TestDates:
    def test_dates_consistent(self, data):
        sl = data["ADSL"].set_index("USUBJID")
        assert sl.RANDDT.between("2019-03-01", "2021-07-31").all()
        close = pd.Timestamp("2024-08-31")
        dead = sl[sl.DTHFL == "Y"]
        assert (dead.DTHDT > dead.RANDDT).all()
        assert (sl.DTHDT.notna() == (sl.DTHFL == "Y")).all()
        assert (sl.EOSDT <= close).all() and (sl.TRTEDT <= sl.EOSDT).all()
        assert (sl.TRTSDT <= sl.TRTEDT).all()
        for name in ("ADQS", "ADEFF", "ADLB"):
            d = data[name].join(sl[["RANDDT", "DTHDT", "EOSDT"]], on="USUBJID")
            assert d.ADT.between(d.RANDDT, close).all()
            assert (d.ADT <= d.EOSDT).all()
            assert not (d.ADT >= d.DTHDT).any(), f"{name}: visit on or after death"
            assert (d.ADY == (d.ADT - d.RANDDT).dt.days + 1).all()
        ex = data["ADEX"].join(sl[["RANDDT", "DTHDT", "EOSDT", "TRTEDT"]], on="USUBJID")
        assert (ex.ASTDT >= ex.RANDDT).all() and (ex.ASTDT <= ex.TRTEDT).all()
        assert not (ex.ASTDT >= ex.DTHDT).any()
        ae = data["ADAE"].join(sl[["RANDDT", "DTHDT", "EOSDT"]], on="USUBJID")
        assert (ae.ASTDT >= ae.RANDDT).all() and (ae.ASTDT <= ae.EOSDT).all()
        assert not (ae.ASTDT > ae.DTHDT).any()
        tte = data["ADTTE"].join(sl[["EOSDT", "LSTALVDT"]], on="USUBJID")
        assert (tte.ADT <= tte.LSTALVDT).all()

    def test_delayed_start_switches_at_week_28(self, data):
        sl = data["ADSL"]
        d = sl[(sl.STARTGR == "Delayed start") & (sl.OLEFL == "Y")]
        weeks = (d.TOFSDT - d.RANDDT).dt.days / 7
        assert weeks.between(27, 29.5).all()
        assert (sl.loc[sl.STARTGR == "Early start", "TOFSDT"] == sl.loc[sl.STARTGR == "Early start", "RANDDT"]).all()


class TestUntreatedBurden:
    """SVC and ALSAQ-40 terms of issue 18 (model arrays, hand calculation of the model's formula)."""

    @staticmethod
    def _arrays(**corr):
        from studies.valor.simulate.model import simulate_study
        sim = load_config()
        sim = copy.deepcopy(sim)
        sim["correlation"].update(corr)
        return simulate_study(sim, 48)

    def test_alsaq_untreated_term_by_hand(self):
        sim = load_config()
        qa = sim["correlation"]["alsaq_untreated"]
        assert qa["per_week"] > 0
        on = self._arrays()
        off = self._arrays(alsaq_untreated={"per_week": 0.0, "recovery_weeks": qa["recovery_weeks"]})
        # no extra random draw: every other variable of the study is unchanged
        for k in ("total", "svc", "hhd", "nfl", "kept"):
            assert np.array_equal(on.v[k], off.v[k]), k
        early = on.p["arm"] == 1
        diff = on.v["alsaq"] - off.v["alsaq"]
        inside = (off.v["alsaq"] > 1.0) & (on.v["alsaq"] < 100.0)            # away from the clip at 1-100
        assert np.all(diff[early] == 0.0)
        # delayed start: per_week x weeks untreated x exp(-weeks on tofersen / recovery_weeks),
        # on the model's weekly grid (linear interpolation between whole weeks)
        u = on.v["u"]
        ton = on.p["ton"]
        g = np.arange(on.grid["alsaq_rev"].shape[1], dtype=float)
        want = np.array([np.interp(u[i], g, qa["per_week"] * np.minimum(g, ton[i])
                                   * np.exp(-np.clip(g - ton[i], 0, None) / qa["recovery_weeks"]))
                         for i in range(u.shape[0])])
        d = ~early[:, None] & inside
        assert np.allclose(diff[d], want[d], atol=1e-9)
        # hand value: a delayed-start participant at week 28 carries per_week x 28 points (about 1.6)
        k28 = int(np.flatnonzero(on.visit_weeks == 28)[0])
        i = int(np.flatnonzero(~early & inside[:, k28])[0])
        assert diff[i, k28] == pytest.approx(qa["per_week"] * u[i, k28], rel=0.02)

    def test_svc_drift_by_hand(self):
        """svc_per_week shifts every visit by per_week x weeks (before the clip at 0-150)."""
        on = self._arrays()
        off = self._arrays(svc_per_week=0.0)
        per_week = load_config()["correlation"]["svc_per_week"]
        inside = (on.v["svc"] > 0) & (off.v["svc"] > 0) & (on.v["svc"] < 150) & (off.v["svc"] < 150)
        inside[:, 0] = False                                   # the baseline record is the baseline value
        assert np.allclose((on.v["svc"] - off.v["svc"])[inside], (per_week * on.v["u"])[inside], atol=1e-9)

    def test_alsaq_untreated_is_optional(self, study):
        s = copy.deepcopy(study)
        del s["simulation"]["correlation"]["alsaq_untreated"]
        assert load_study(s)["simulation"]["correlation"]["alsaq_untreated"]["per_week"] == 0.0
        s["simulation"]["correlation"]["alsaq_untreated"] = {"per_week": -1.0, "recovery_weeks": 30.0}
        with pytest.raises(SimulationConfigError, match=r"^simulation\.correlation\.alsaq_untreated\.per_week"):
            load_study(s)
