"""The warm kernel pool (pipeline/kernels.py): a forked kernel per notebook behaves as a
plain kernel does (isolation, parameters, errors, same ARD, same recorded project files)
and leaves no process behind, after a render and after an interrupted one."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from trialsupp.pipeline import kernels
from trialsupp.pipeline.execute import NotebookError, execute_notebook
from trialsupp.pipeline.kernels import KernelPool

from .mini_project import PARAMS, make_project

pytestmark = pytest.mark.skipif(not kernels.available(), reason="the fork server needs Linux")

SYSTEM = {"study": "x", "data_dir": "data", "out_dir": "."}


def _notebook(path: Path, *cells: str, params: str = 'study = ""\ndata_dir = ""\nout_dir = ""\nmarker = ""\n') -> Path:
    nb = nbformat.v4.new_notebook()
    first = nbformat.v4.new_code_cell(params)
    first.metadata["tags"] = ["parameters"]
    nb.cells = [first] + [nbformat.v4.new_code_cell(c) for c in cells]
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def _printed(nb: Path) -> list[str]:
    doc = json.loads(nb.read_text(encoding="utf-8"))
    return [line for c in doc["cells"] for o in c.get("outputs", []) if o.get("name") == "stdout"
            for line in "".join(o["text"]).splitlines()]


def _processes(word: str) -> list[tuple[int, list[str]]]:
    """(pid, argv) of live processes whose command line contains ``word``."""
    found = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                argv = (d / "cmdline").read_bytes().decode(errors="replace").rstrip("\0").split("\0")
                state = (d / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if any(word in a for a in argv) and state != "Z":
                found.append((int(d.name), argv))
    return found


def _zygote_family(render_pid: int) -> list[int]:
    """The zygote of the render ``render_pid`` and the kernels it forked (same command line)."""
    return [pid for pid, argv in _processes("trialsupp.pipeline.kernels") if argv[-1] == str(render_pid)]


def test_pool_kernels_are_isolated_and_take_parameters(tmp_path):
    a = _notebook(tmp_path / "a.ipynb", "import os, trialsupp\nLEAK = marker\ntrialsupp._leak = marker\n"
                                         "print('ppid', os.getppid())\nprint('pid', os.getpid())")
    b = _notebook(tmp_path / "b.ipynb", "import os, trialsupp\nprint('leak', 'LEAK' in globals(), "
                                         "hasattr(trialsupp, '_leak'))\nprint('marker', marker)\n"
                                         "print('ppid', os.getppid())\nprint('pid', os.getpid())")
    with KernelPool(tmp_path) as pool:
        execute_notebook(a, tmp_path / "out" / "a.ipynb", {**SYSTEM, "marker": "first"}, cwd=tmp_path,
                         display_name="a.ipynb", pool=pool)
        execute_notebook(b, tmp_path / "out" / "b.ipynb", {**SYSTEM, "marker": "second"}, cwd=tmp_path,
                         display_name="b.ipynb", pool=pool)
        zygote = pool._proc.pid
    first, second = _printed(tmp_path / "out" / "a.ipynb"), _printed(tmp_path / "out" / "b.ipynb")
    assert first[0] == second[2] == f"ppid {zygote}"          # both forked by the zygote
    assert first[1] != second[3]                               # each its own process
    assert second[:2] == ["leak False False", "marker second"]  # nothing of a's state; b's parameter
    assert not _zygote_family(os.getpid())                     # zygote and kernels gone after close


def test_failing_notebook_names_cell_and_error_as_a_plain_kernel_does(tmp_path):
    bad = _notebook(tmp_path / "bad.ipynb", "x = 1", "x / 0")
    errors = []
    for pool in (KernelPool(tmp_path), None):
        with pytest.raises(NotebookError) as info:
            execute_notebook(bad, tmp_path / "out.ipynb", SYSTEM, cwd=tmp_path, display_name="bad.ipynb", pool=pool)
        if pool is not None:
            pool.close()
        errors.append(str(info.value))
    assert errors[0] == errors[1] == "notebook bad.ipynb, cell 2 (id cell-2): ZeroDivisionError: division by zero"


def test_interrupt_reaches_the_forked_kernel_and_shutdown_leaves_nothing(tmp_path):
    import asyncio
    with KernelPool(tmp_path) as pool:
        km = pool.manager_class()(kernel_name="python3")

        async def run():
            await km.start_kernel(cwd=str(tmp_path))
            kc = km.client()
            kc.start_channels()
            await kc.wait_for_ready(timeout=60)
            msg_id = kc.execute("import time, os; print(os.getpid(), flush=True); time.sleep(60)")
            started = time.monotonic()
            await asyncio.sleep(1.0)
            await km.interrupt_kernel()
            while True:
                reply = await kc.get_shell_msg(timeout=30)
                if reply["parent_header"].get("msg_id") == msg_id:
                    break
            kc.stop_channels()
            await km.shutdown_kernel()
            return reply["content"], time.monotonic() - started
        content, took = asyncio.run(run())
        assert content["status"] == "error" and content["ename"] == "KeyboardInterrupt"
        assert took < 20
        deadline = time.monotonic() + 5
        while len(_zygote_family(os.getpid())) > 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(_zygote_family(os.getpid())) == 1           # the zygote only: the kernel exited
    assert not _zygote_family(os.getpid())


def _add_project_module(root: Path) -> None:
    """The mini project's notebook imports a module of the project's own ``src/studies``."""
    for package in ("studies", "studies/mini"):      # regular packages, as a project's code is
        (root / "src" / package / "__init__.py").write_text("")
    (root / "src" / "studies" / "mini" / "helper.py").write_text("SCALE = 1\n")
    nb_path = root / "notebooks" / "mini" / "baseline.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells.insert(1, nbformat.v4.new_code_cell("from studies.mini import helper\nassert helper.SCALE == 1"))
    nb.cells[1].id = "cell-helper"
    nbformat.write(nb, nb_path)


@pytest.mark.slow
def test_render_through_the_pool_equals_plain_kernels(mini, tmp_path, monkeypatch):
    """Same ARD bytes, same executed notebook, same project files recorded for the cache."""
    from trialsupp.pipeline.render import render
    root, study = mini
    _add_project_module(root)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")     # both renders dated alike
    used = []
    real = KernelPool.manager_class
    monkeypatch.setattr(KernelPool, "manager_class", lambda self: used.append(real(self).__name__) or real(self))
    results = {}
    for pool_on in ("0", "1"):
        monkeypatch.setenv("TRIALSUPP_KERNEL_POOL", pool_on)
        out = tmp_path / f"out-{pool_on}"
        render(study, out=out, formats=("html",), engine="builtin", force=True)
        deps = [json.loads(p.read_text()) for p in (tmp_path / "cache").rglob("deps.json")]
        results[pool_on] = ((out / "ard.csv").read_bytes(), (out / "notebooks" / "baseline.ipynb").read_bytes(),
                            deps, (out / "supplement.html").read_bytes())
    assert used == ["AsyncKernelManager", "PoolKernelManager"]
    plain, pooled = results["0"], results["1"]
    assert pooled[0] == plain[0]
    assert pooled[1] == plain[1]
    assert pooled[2] == plain[2] and "src/studies/mini/helper.py" in pooled[2][0]     # the audit hook saw it
    assert pooled[3] == plain[3]
    assert not _zygote_family(os.getpid())


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=lambda s: s.name)
def test_interrupted_render_leaves_no_kernel(tmp_path, sig):
    root = tmp_path / "project"
    root.mkdir()
    study = make_project(root)
    nb = root / "notebooks" / "mini" / "baseline.ipynb"
    _notebook(nb, "import time\ntime.sleep(120)", params=PARAMS)
    env = {**os.environ, "TRIALSUPP_PROJECT": str(root), "TRIALSUPP_CACHE": str(tmp_path / "cache")}
    proc = subprocess.Popen([sys.executable, "-m", "trialsupp.cli", "render", "--study", str(study), "--out",
                             str(tmp_path / "out"), "--engine", "builtin", "--to", "html", "-q", "--force"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while len(_zygote_family(proc.pid)) < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)                             # zygote and its forked kernel are up
        family = _zygote_family(proc.pid)
        assert len(family) >= 2, proc.poll()
        sock = Path(f"/proc/{family[0]}/cmdline").read_bytes().split(b"\0")[-3].decode()
        relays = [pid for pid, argv in _processes("kernel_relay.py") if sock in argv]
        assert relays
        time.sleep(1.0)                                 # the kernel is in the sleeping cell
        os.kill(proc.pid, sig)
        _, err = proc.communicate(timeout=60)
        if sig == signal.SIGINT:
            assert proc.returncode == 130, err
            assert err.strip().splitlines()[-1] == "trialsupp: interrupted; the previous output is unchanged"
        deadline = time.monotonic() + 5
        alive = lambda: [p for p in family + relays if Path(f"/proc/{p}").exists()  # noqa: E731
                         and (Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z")]
        while alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(), "a zygote, kernel or relay outlived the render by 5 s"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_refused_request_falls_back_to_a_plain_kernel_with_one_warning(tmp_path, monkeypatch, capfd):
    nb = _notebook(tmp_path / "p.ipynb", "import os\nprint('ppid', os.getppid())")
    pool = KernelPool(tmp_path)
    assert pool.start()
    zygote = pool._proc.pid
    # the kernel's environment no longer matches the zygote's imports: it must not be forked
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    for name in ("p1", "p2"):
        execute_notebook(nb, tmp_path / f"{name}.ipynb", SYSTEM, cwd=tmp_path, display_name=name, pool=pool)
        assert _printed(tmp_path / f"{name}.ipynb")[0] != f"ppid {zygote}"
    capfd.readouterr()
    pool.close()
    err = capfd.readouterr().err.strip().splitlines()
    assert err == ["trialsupp: warning: warm kernel pool unavailable (PYTHONPATH differs from the zygote's); "
                   "notebooks run in plain kernels"]


def test_a_taken_port_is_recognised_and_the_kernel_started_once_more(tmp_path, monkeypatch):
    """A port taken between jupyter_client's choice and the kernel's bind: the forked kernel
    writes one warning line (no traceback) and execute_notebook starts the kernel again."""
    import errno

    import zmq
    ctx = zmq.Context.instance()
    first, second = ctx.socket(zmq.PUB), ctx.socket(zmq.PUB)
    try:
        port = first.bind_to_random_port("tcp://127.0.0.1")
        with pytest.raises(zmq.ZMQError) as taken:
            second.bind(f"tcp://127.0.0.1:{port}")
    finally:
        first.close(0)
        second.close(0)
    assert taken.value.errno == errno.EADDRINUSE and kernels._port_taken(taken.value)
    assert not kernels._port_taken(OSError(errno.EADDRINUSE, "not ZeroMQ"))
    assert not kernels._port_taken(zmq.ZMQError(errno.EINVAL))

    from trialsupp.pipeline import execute as execute_module
    calls = []
    real = execute_module._papermill        # papermill's steps, as execute_notebook runs them

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("Kernel died before replying to kernel_info")
        return real(*args, **kwargs)
    monkeypatch.setattr(execute_module, "_papermill", flaky)
    src = _notebook(tmp_path / "nb.ipynb", "print('ran')")
    execute_notebook(src, tmp_path / "out.ipynb", dict(SYSTEM), tmp_path, "nb.ipynb")
    assert len(calls) == 2 and "ran" in "".join(_printed(tmp_path / "out.ipynb"))
