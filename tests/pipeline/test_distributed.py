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
