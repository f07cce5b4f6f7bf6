"""Progress display: each stage and each notebook with elapsed time (rich)."""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager


class Reporter:
    """Prints one line when a stage or notebook starts and one when it ends, with seconds.

    Uses rich's console (colour on a terminal, plain lines in CI logs); ``quiet``
    prints nothing (library use and tests).
    """

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self._lock = threading.Lock()
        self._console = None
        if not quiet:
            from rich.console import Console
            self._console = Console(stderr=True, highlight=False)

    def _say(self, text: str) -> None:
        if self._console is not None:
            with self._lock:
                self._console.print(text)

    def progress(self, done: int, total: int, what: str) -> None:
        """One line per finished item of a longer step: what is done and what is left."""
        self._say(f"  [green]ok[/green] {what} {done} of {total} ({total - done} left)")

    def stage_skipped(self, name: str, why: str) -> None:
        self._say(f"[green]=[/green] {name}: {why}")

    @contextmanager
    def stage(self, name: str):
        self._say(f"[bold]>[/bold] {name}")
        t0 = time.monotonic()
        try:
            yield
        except BaseException:
            self._say(f"[red]x[/red] {name} failed after {time.monotonic() - t0:.1f} s")
            raise
        self._say(f"[green]ok[/green] {name} ({time.monotonic() - t0:.1f} s)")

    @contextmanager
    def task(self, name: str):
        """A notebook; the block may call the yielded ``note(text)`` to annotate its end line."""
        t0 = time.monotonic()
        notes: list[str] = []
        self._say(f"  . {name} ...")
        try:
            yield notes.append
        except BaseException:
            self._say(f"  [red]x[/red] {name} failed after {time.monotonic() - t0:.1f} s")
            raise
        extra = f", {', '.join(notes)}" if notes else ""
        self._say(f"  [green]ok[/green] {name} ({time.monotonic() - t0:.1f} s{extra})")
