"""Dask scale-out: the same seeds give the same bytes on a local Dask cluster as in process."""
import pytest

pytest.importorskip("distributed")

from trialsupp.pipeline.distributed import map_replicates


def test_replicates_on_a_local_dask_cluster_equal_the_in_process_run():
    from studies.valor.simulate import calibrate as cal
    inline = cal.replicate_headlines(4, jobs=2, first_seed=11, scheduler="inline")
    dask = cal.replicate_headlines(4, jobs=2, first_seed=11)          # LocalCluster, 2 processes
    assert list(dask["seed"]) == [11, 12, 13, 14]
    assert dask.to_csv(index=False).encode() == inline.to_csv(index=False).encode()
    assert inline[list(cal.HEADLINES)].notna().all().all()


def test_map_replicates_keeps_the_order_of_the_items():
    import operator
    assert map_replicates(operator.neg, [3, 1, 2], scheduler="inline") == [-3, -1, -2]
    assert map_replicates(operator.neg, [3, 1, 2, 5], jobs=2) == [-3, -1, -2, -5]
    assert map_replicates(operator.neg, []) == []


def test_on_result_reports_each_item_with_its_index():
    import operator
    for kw in ({"scheduler": "inline"}, {"jobs": 2}):
        got = {}
        out = map_replicates(operator.neg, [3, 1, 2, 5], on_result=lambda i, r: got.__setitem__(i, r), **kw)
        assert out == [-3, -1, -2, -5] and got == {0: -3, 1: -1, 2: -2, 3: -5}, kw


def test_calibration_checkpoint_resumes(tmp_path, monkeypatch):
    """Replicates already in the checkpoint file are not run again; a truncated last line is ignored."""
    from studies.valor.simulate import calibrate as cal
    ran = []

    def replicate(args):
        ran.append(args[0])
        return {f.name: (float(args[0]), None, None) for f in cal.FIGURES}

    monkeypatch.setattr(cal, "_one_seed", replicate)
    monkeypatch.setattr(cal, "simulated_values", lambda d, n, s: {f.name: (f.published, None, None)
                                                                   for f in cal.FIGURES})
    monkeypatch.setattr("studies.valor.simulate.valor.simulate", lambda seed: None)
    ck = tmp_path / "replicates.jsonl"
    t = cal.calibrate(seed=44, replicates=3, scheduler="inline", checkpoint=ck)
    assert ran == [45, 46, 47] and t.attrs["replicates"] == 3 and t["median"].iloc[0] == 46.0
    with open(ck, "a") as fh:
        fh.write('{"seed": 48, "n_imp')                     # a run stopped while writing
    t = cal.calibrate(seed=44, replicates=5, scheduler="inline", checkpoint=ck)
    assert ran == [45, 46, 47, 48, 49] and t["median"].iloc[0] == 47.0          # median of 45-49
    assert sorted(cal.read_checkpoint(ck)) == [45, 46, 47, 48, 49]
    assert t["share_within"].iloc[0] == 0.0                 # 45-49 randomized: never the exact 108
