"""Safe output: locking, atomic swap, leftovers of killed renders."""
import multiprocessing as mp
import os
import signal
import time

import pytest

from trialsupp.pipeline.outdir import OutputBusyError, new_version_dir, output_lock, swap_in


def _render_once(out, text):
    with output_lock(out):
        v = new_version_dir(out)
        (v / "supplement.html").write_text(text)
        swap_in(out, v)


def test_swap_replaces_output_and_removes_previous(tmp_path):
    out = tmp_path / "valor"
    _render_once(out, "one")
    first_target = os.readlink(out)
    _render_once(out, "two")
    assert (out / "supplement.html").read_text() == "two"
    assert not (tmp_path / first_target).exists()
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == sorted(["valor", os.readlink(out)])


def test_a_plain_folder_is_kept_until_the_swap(tmp_path):
    out = tmp_path / "valor"
    out.mkdir()
    (out / "old.txt").write_text("old")
    _render_once(out, "new")
    assert out.is_symlink() and (out / "supplement.html").read_text() == "new"


def _hold_lock(out, ready):
    with output_lock(out):
        ready.set()
        time.sleep(30)


def test_second_writer_refuses_then_waits(tmp_path):
    out = tmp_path / "valor"
    ready = mp.Event()
    holder = mp.Process(target=_hold_lock, args=(out, ready))
    holder.start()
    try:
        assert ready.wait(10)
        with pytest.raises(OutputBusyError, match="another trialsupp render is writing"):
            with output_lock(out):
                pass
    finally:
        holder.terminate()
        holder.join()
    with output_lock(out, wait=True, timeout=5):   # released when the holder died
        pass


def _die_mid_render(out, sig):
    with output_lock(out):
        v = new_version_dir(out)
        (v / "supplement.html").write_text("half")
        os.kill(os.getpid(), sig)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_killed_render_leaves_previous_output_and_next_render_succeeds(tmp_path, sig):
    out = tmp_path / "valor"
    _render_once(out, "good")
    p = mp.Process(target=_die_mid_render, args=(out, sig))
    p.start()
    p.join(10)
    assert (out / "supplement.html").read_text() == "good"
    _render_once(out, "next")
    assert (out / "supplement.html").read_text() == "next"
    leftovers = [q.name for q in tmp_path.iterdir() if q.name.startswith(".valor.") and not q.name.endswith(".lock")]
    assert leftovers == [os.readlink(out)]
