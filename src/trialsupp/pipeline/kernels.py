"""Warm kernel pool: one fork server ("zygote") per render, a fresh forked kernel per notebook.

Every notebook kernel used to start a Python, then import IPython, ipykernel, numpy,
pandas, scipy, statsmodels, lifelines, matplotlib and trialsupp (about 3 s) before its
first cell. The zygote does that once: it is started when the first notebook of a render
must run, imports those modules, and forks a child per notebook that becomes an ordinary
ipykernel on the connection file jupyter_client wrote. Each notebook still has a process
of its own (nothing is shared between notebooks but the imported, unchanged modules), and
papermill drives it exactly as before.

jupyter_client starts ``kernel_relay.py`` in place of ``python -m ipykernel_launcher``
(``PoolKernelManager``); the relay hands its arguments, working folder, environment and
stdio to the zygote and stands for the forked kernel (signals, exit status). The project's
own modules (``studies.<study>``) are never imported by the zygote, so the audit hook of
``deps.py`` still records every project file a notebook reads.

Linux only (fork, pidfd); elsewhere, or when ``TRIALSUPP_KERNEL_POOL=0``, or when the
zygote fails, notebooks run in plain kernels (one warning line when it failed).
"""
from __future__ import annotations

import ctypes
import json
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

# imported once by the zygote: what notebook kernels import (third-party and trialsupp
# only: the project's code is left to the notebook, see the module docstring). Measured:
# what a valor or cdiscpilot01 kernel had imported at its end.
PRELOAD = ("IPython", "IPython.core.completerlib", "ipykernel.kernelapp", "ipykernel.ipkernel",
           "ipykernel.zmqshell", "ipykernel.debugger", "tornado.gen", "tornado.queues", "psutil",
           "numpy", "pandas", "scipy.stats", "scipy.optimize", "statsmodels.api", "statsmodels.formula.api",
           "lifelines", "matplotlib", "matplotlib.pyplot", "matplotlib.backends.backend_agg",
           "matplotlib.backends.backend_pdf", "matplotlib.backends.backend_svg", "PIL.Image",
           "pyarrow", "pyarrow.parquet", "pyarrow.dataset", "pyarrow.pandas_compat", "trialsupp.project")
# every module of these trialsupp packages (the notebook-facing ones; never pipeline or publish)
PRELOAD_PACKAGES = ("trialsupp.ard", "trialsupp.data", "trialsupp.stats", "trialsupp.display", "trialsupp.tlg")
# notebooks run in parallel: one BLAS thread each (set before numpy is imported)
SINGLE_THREADED = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
INLINE = "module://matplotlib_inline.backend_inline"      # what ipykernel sets for a kernel
RELAY = Path(__file__).with_name("kernel_relay.py")


def available() -> bool:
    return (sys.platform.startswith("linux") and hasattr(os, "fork") and hasattr(os, "pidfd_open")
            and hasattr(socket, "send_fds") and os.environ.get("TRIALSUPP_KERNEL_POOL", "1") != "0")


# ---- the render's side ----------------------------------------------------------------
def start_early(study=None) -> "KernelPool | None":
    """Start the zygote of a render known to be cold (``--force``) before the rest of the
    render is imported (this module imports nothing heavy): its imports, about 3 CPU-s, then
    overlap the render's own imports and data step. None if the study cannot be read (the
    render says why) or the pool is not available."""
    from trialsupp.project import add_code_path
    from trialsupp.study import load_study
    try:
        st = load_study(study)
    except Exception:       # noqa: BLE001 -- reported by the render itself
        return None
    add_code_path(st.project_dir)         # the kernels' PYTHONPATH, as the render sets it
    pool = KernelPool(st.project_dir)
    return pool if pool.start() else None



class KernelPool:
    """The zygote of one render, started lazily by the first ``manager_class()`` call."""

    def __init__(self, cwd: Path):
        self.cwd = Path(cwd)
        self.enabled = available()
        self.warning: str | None = None
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._dir: str | None = None
        self._class = None
        self._closed = False

    @property
    def socket_path(self) -> str:
        return os.path.join(self._dir, "zygote.sock")

    def start(self) -> bool:
        with self._lock:
            if not self.enabled or self._closed:
                return False
            if self._proc is None:
                self._dir = tempfile.mkdtemp(prefix="trialsupp-kernels-")    # 0700: only we connect
                self._log = open(os.path.join(self._dir, "zygote.log"), "w+b")
                env = dict(os.environ)
                for var in SINGLE_THREADED:
                    env.setdefault(var, "1")
                try:
                    self._proc = subprocess.Popen(
                        [sys.executable, "-m", "trialsupp.pipeline.kernels", self.socket_path, str(os.getpid())],
                        cwd=str(self.cwd), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                        stderr=self._log, start_new_session=True)      # Ctrl-C reaches the render, not the kernels
                except OSError as exc:
                    self._fail(f"zygote not started: {exc}")
                    return False
                # it listens before importing anything heavy (tens of ms): relays may connect then
                deadline = time.monotonic() + 30
                while not os.path.exists(self.socket_path):
                    if self._proc.poll() is not None or time.monotonic() > deadline:
                        self._proc.kill()
                        self._fail("zygote did not listen")
                        return False
                    time.sleep(0.005)
            return True

    def manager_class(self):
        """The ``kernel_manager_class`` for nbclient: plain AsyncKernelManager when the pool is off."""
        from jupyter_client import AsyncKernelManager
        if not self.start():
            return AsyncKernelManager
        if self._class is None:
            argv = [sys.executable, "-I", "-S", str(RELAY), self.socket_path, "-f", "{connection_file}"]

            class PoolKernelManager(AsyncKernelManager):
                @property
                def kernel_spec(self):
                    spec = super().kernel_spec
                    if spec is not None and spec.language == "python" and not getattr(spec, "_ts_pool", False):
                        spec = type(spec)(**{**spec.to_dict(), "argv": argv, "resource_dir": spec.resource_dir})
                        spec._ts_pool = True
                        self._kernel_spec = spec
                    return spec
            self._class = PoolKernelManager
        return self._class

    def _fail(self, why: str) -> None:
        if self.warning is None:
            self.warning = why
            sys.stderr.write(f"trialsupp: warning: warm kernel pool unavailable ({why}); "
                             "notebooks run in plain kernels\n")
        self.enabled = False

    def _check(self, proc: subprocess.Popen) -> None:
        """One warning line when the zygote ended on its own or a relay fell back to a plain kernel."""
        with open(self._log.name, encoding="utf-8", errors="replace") as log:
            lines = log.read().strip().splitlines()
        fallbacks = [line for line in lines if line.startswith("plain kernel: ")]
        if proc.poll() not in (None, 0):
            self._fail(lines[-1] if lines else f"zygote exit {proc.returncode}")
        elif fallbacks:
            self._fail(fallbacks[0][len("plain kernel: "):])

    def close(self) -> None:
        """Stop the zygote; it kills any kernel still running (an interrupted render)."""
        with self._lock:
            proc, self._proc = self._proc, None
            self._closed = True
        if proc is not None:
            self._check(proc)
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        if self._dir is not None:
            import shutil
            self._log.close()
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---- the zygote -------------------------------------------------------------------------
def _die_with_parent() -> None:
    """SIGKILL this process when the one that forked it exits (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _send(conn: socket.socket, doc: dict) -> None:
    body = json.dumps(doc).encode()
    conn.sendall(struct.pack("!I", len(body)) + body)


def _receive(conn: socket.socket) -> tuple[dict, list[int]]:
    data, fds, _flags, _addr = socket.recv_fds(conn, 1 << 16, 3)
    if len(data) < 4:
        raise OSError("short request")
    size, = struct.unpack("!I", data[:4])
    body = data[4:]
    while len(body) < size:
        chunk = conn.recv(size - len(body))
        if not chunk:
            raise OSError("request cut short")
        body += chunk
    return json.loads(body), list(fds)


def _preload() -> None:
    import importlib
    import pkgutil
    set_here = not os.environ.get("MPLBACKEND")
    if set_here:
        os.environ["MPLBACKEND"] = INLINE        # as ipykernel sets it, before matplotlib is imported
    for name in PRELOAD:
        importlib.import_module(name)
    import trialsupp.notebook  # noqa: F401
    for package in PRELOAD_PACKAGES:
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, package + "."):
            try:
                importlib.import_module(info.name)
            except ImportError:          # an optional dependency: the notebook imports it, or fails, itself
                pass
    if set_here:
        del os.environ["MPLBACKEND"]
    if threading.active_count() != 1:      # a fork copies only the calling thread: none may exist
        raise RuntimeError("a preloaded module started a thread: " +
                           ", ".join(t.name for t in threading.enumerate()))


class Zygote:
    def __init__(self, path: str, parent: int):
        self.path, self.parent = path, parent
        self.env = dict(os.environ)             # before _preload: what a compatible request carries
        self.cwd = os.getcwd()
        self.children: dict[int, socket.socket] = {}

    def serve(self) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)           # first: relays queue here while we import
        self.listener.listen(64)
        self.parent_fd = os.pidfd_open(self.parent)
        _die_with_parent()
        _preload()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        sel = selectors.DefaultSelector()
        sel.register(self.listener, selectors.EVENT_READ, "accept")
        sel.register(self.wake_r, selectors.EVENT_READ, "reap")
        sel.register(self.parent_fd, selectors.EVENT_READ, "parent")
        try:
            while True:
                for key, _ in sel.select():
                    if key.data == "parent":
                        return                      # the render is gone
                    if key.data == "reap":
                        os.read(self.wake_r, 512)
                    else:
                        self.accept()
                self.reap()
        finally:
            for pid in list(self.children):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                os.unlink(self.path)
            except OSError:
                pass

    def reap(self) -> None:
        while self.children:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if os.environ.get("TRIALSUPP_POOL_STATS"):      # profiling: CPU seconds of each kernel
                with open(os.environ["TRIALSUPP_POOL_STATS"], "a") as fh:
                    fh.write(f"{pid} {usage.ru_utime:.2f} {usage.ru_stime:.2f} {usage.ru_maxrss}\n")
            conn = self.children.pop(pid, None)
            if conn is not None:
                try:
                    _send(conn, {"exit": os.waitstatus_to_exitcode(status)})
                except OSError:
                    pass
                conn.close()

    def accept(self) -> None:
        conn, _ = self.listener.accept()
        fds: list[int] = []
        try:
            conn.settimeout(10)
            request, fds = _receive(conn)
            why = self.incompatible(request, fds)
            if why:
                _send(conn, {"error": why})
                conn.close()
                return
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                self.become_kernel(conn, request, fds)        # never returns
            _send(conn, {"pid": pid})
            conn.settimeout(None)
            self.children[pid] = conn
        except (OSError, ValueError) as exc:
            try:
                _send(conn, {"error": f"{type(exc).__name__}: {exc}"})
            except OSError:
                pass
            conn.close()
        finally:
            for fd in fds:
                os.close(fd)

    def incompatible(self, request: dict, fds: list[int]) -> str | None:
        if len(fds) != 3:
            return "stdio not received"
        if os.path.realpath(request.get("executable", "")) != os.path.realpath(sys.executable):
            return f"kernel Python {request.get('executable')} is not the zygote's"
        env = request.get("env") or {}
        if env.get("PYTHONPATH") != self.env.get("PYTHONPATH"):
            return "PYTHONPATH differs from the zygote's"
        return None

    def become_kernel(self, conn: socket.socket, request: dict, fds: list[int]) -> None:
        code = 1
        try:
            _die_with_parent()
            signal.set_wakeup_fd(-1)
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD):
                signal.signal(sig, signal.SIG_DFL)
            for sock in [self.listener, conn, *self.children.values()]:
                sock.close()
            for fd in (self.wake_r, self.wake_w, self.parent_fd):
                os.close(fd)
            for target, fd in enumerate(fds):
                os.dup2(fd, target)
            os.chdir(request["cwd"])
            os.environ.clear()
            os.environ.update(request["env"])
            if sys.path and sys.path[0] == self.cwd:       # -m put the zygote's folder first
                sys.path[0] = request["cwd"]
            import numpy
            numpy.random.seed()          # a plain kernel draws its own global state at import
            _watch(request["relay"])
            code = _run_kernel(request["argv"])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException as exc:
            if _port_taken(exc):    # execute.py starts the kernel once more: one line, no traceback
                sys.stderr.write(f"trialsupp: warning: kernel port taken ({exc}); starting the kernel again\n")
            else:
                import traceback
                traceback.print_exc()
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)


def _port_taken(exc: BaseException) -> bool:
    """ZeroMQ could not bind a port jupyter_client chose (another process took it meanwhile)."""
    import errno
    return type(exc).__name__ == "ZMQError" and getattr(exc, "errno", None) == errno.EADDRINUSE


def _watch(relay: int) -> None:
    """Die with the relay: jupyter_client kills the relay when a kernel will not shut down."""
    fd = os.pidfd_open(relay)

    def wait() -> None:
        import select
        select.select([fd], [], [])
        os.kill(os.getpid(), signal.SIGKILL)
    threading.Thread(target=wait, daemon=True, name="trialsupp-relay-watch").start()


def _run_kernel(argv: list[str]) -> int:
    """What ``python -m ipykernel_launcher ARGV`` does, in this warm process."""
    import importlib.util
    from ipykernel.kernelapp import IPKernelApp
    sys.argv = [importlib.util.find_spec("ipykernel_launcher").origin, *argv]
    app = IPKernelApp.instance()
    app.initialize(argv)
    if "matplotlib_inline.backend_inline" in sys.modules:
        # pyplot was imported before the shell existed: hook the inline backend up now,
        # as importing it in the first cell would (figures shown at the end of a cell)
        from matplotlib_inline import backend_inline
        backend_inline._enable_matplotlib_integration()
    app.start()
    return 0


def _zygote_main(path: str, parent: int) -> None:
    """Serve, then leave without the interpreter's teardown of the preloaded modules (about
    0.5 s that the render's ``close`` waited for)."""
    code = 0
    try:
        Zygote(path, parent).serve()
    except SystemExit as stop:                  # SIGTERM from close()
        code = stop.code if isinstance(stop.code, int) else 0
    except BaseException:
        import traceback
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    _zygote_main(sys.argv[1], int(sys.argv[2]))
