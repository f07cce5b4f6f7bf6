"""Execute one parameterized notebook with papermill; failures name notebook, cell and error."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

SYSTEM_PARAMS = ("study", "data_dir", "out_dir")
KERNEL_START_FAILED = "Kernel died before replying to kernel_info"     # nbclient's words
# the kernel's own shutdown chatter (a ZMQ socket closed under load) is not the user's business
QUIET = "import logging as _l; _l.getLogger('tornado').setLevel(_l.CRITICAL); del _l"


class NotebookError(RuntimeError):
    """A notebook failed; ``str()`` is the one-line report (notebook, cell, error)."""

    def __init__(self, notebook: str, cell: str, error: str):
        self.notebook, self.cell, self.error = notebook, cell, error
        super().__init__(f"notebook {notebook}, {cell}: {error}")


def declared_parameters(path: Path) -> dict[str, Any]:
    """Names declared in the cell tagged ``parameters`` (papermill's convention)."""
    import papermill
    try:
        return papermill.inspect_notebook(str(path))
    except Exception as exc:
        raise NotebookError(str(path), "parameters cell", f"cannot be inspected ({exc})") from None


def check_parameters(path: Path, values: dict[str, Any]) -> dict[str, Any]:
    """The subset of ``values`` the notebook declares; system parameters must be declared."""
    declared = declared_parameters(path)
    if not declared:
        raise NotebookError(str(path), "parameters cell", "no cell tagged 'parameters'")
    missing = [k for k in SYSTEM_PARAMS if k not in declared]
    if missing:
        raise NotebookError(str(path), "parameters cell", f"does not define {', '.join(missing)}")
    return {k: v for k, v in values.items() if k in declared}


def _cell_label(cell: dict) -> str | None:
    src = cell.get("source", "")
    src = "".join(src) if isinstance(src, list) else src
    m = re.search(r"^#\|\s*label:\s*(\S+)", src, re.M)
    return m.group(1) if m else None


def failed_cell(src: Path, executed: Path) -> str | None:
    """Describe the cell that raised, by its position, id and label in the *source* notebook
    (papermill adds an injected-parameters cell and an error banner to the executed copy)."""
    ran = json.loads(executed.read_text(encoding="utf-8"))
    failed = next((c for c in ran["cells"] if any(o.get("output_type") == "error" for o in c.get("outputs", []))), None)
    if failed is None:
        return None
    source_ids = [c.get("id") for c in json.loads(src.read_text(encoding="utf-8"))["cells"]]
    position = source_ids.index(failed.get("id")) if failed.get("id") in source_ids else None
    label = _cell_label(failed)
    where = f"cell {position}" if position is not None else "injected cell"
    return f"{where} (id {failed.get('id')}{', label ' + label if label else ''})"


def _papermill(src: Path, dest: Path, parameters: dict[str, Any], cwd: Path, **engine_kwargs):
    """``papermill.execute_notebook`` (2.x) up to, not including, its final write: papermill
    re-serialises the executed notebook with nbformat's validating, pure-Python indenting
    writer (seconds for a notebook carrying 28,000 ARD rows); the caller writes it once.
    A failed run is still written by papermill, with its error banner (``failed_cell`` reads it)."""
    from papermill.engines import papermill_engines
    from papermill.execute import prepare_notebook_metadata, raise_for_execution_errors, remove_error_markers
    from papermill.iorw import load_notebook_node, local_file_io_cwd
    from papermill.parameterize import parameterize_notebook
    from papermill.utils import chdir
    with local_file_io_cwd():
        nb = load_notebook_node(str(src))
        if parameters:
            nb = parameterize_notebook(nb, parameters, False, kernel_name="python3")
        nb = prepare_notebook_metadata(nb, str(src), str(dest), False)
        nb = remove_error_markers(nb)
        with chdir(str(cwd)):
            nb = papermill_engines.execute_notebook_with_engine(None, nb, input_path=str(src), output_path=None,
                                                                kernel_name="python3", **engine_kwargs)
        raise_for_execution_errors(nb, str(dest))
    return nb


def execute_notebook(src: Path, dest: Path, parameters: dict[str, Any], cwd: Path,
                     display_name: str, timeout: int = 1200, startup: str | None = None,
                     pool=None, finish=None) -> Path:
    """Run ``src`` with ``parameters`` into ``dest``; raise NotebookError on any failure.
    ``startup``: one Python statement the kernel runs before the first cell; ``pool``: a
    ``kernels.KernelPool`` whose warm zygote forks the kernel (else a plain kernel);
    ``finish``: called with the executed notebook (a dict) before it is written."""
    from nbformat.v4.rwbase import split_lines, strip_transient
    from papermill.exceptions import PapermillExecutionError
    from trialsupp._json import dumps_indented
    from trialsupp.ard.store import atomic_write_text

    dest.parent.mkdir(parents=True, exist_ok=True)
    params = check_parameters(src, parameters)
    managed = {"kernel_manager_class": pool.manager_class()} if pool is not None else {}

    def run():
        nb = _papermill(src, dest, params, cwd, progress_bar=False, log_output=False,
                        execution_timeout=timeout,
                        # kernel start-up/shutdown chatter would break the progress display
                        extra_arguments=["--IPKernelApp.log_level=CRITICAL"]
                        + [f"--IPKernelApp.exec_lines={QUIET}" + (f"; {startup}" if startup else "")],
                        **managed)
        nb = strip_transient(split_lines(nb))      # what nbformat's writer does before dumping
        if finish is not None:
            finish(nb)
        # nbformat's layout (indent 1, sorted keys), without its deep copy and validation
        atomic_write_text(dest, dumps_indented(nb, sort_keys=True) + "\n")
    try:
        try:
            run()
        except RuntimeError as exc:
            # a kernel that died before its first reply ran nothing of the notebook: start it
            # once more (seen: a ZeroMQ port taken between jupyter_client's choice and the bind)
            if KERNEL_START_FAILED not in str(exc):
                raise
            run()
    except PapermillExecutionError as exc:
        cell = f"cell {exc.exec_count or exc.cell_index}"
        try:
            cell = failed_cell(src, dest) or cell
        except (OSError, ValueError, IndexError, KeyError):
            pass
        evalue = str(exc.evalue).strip().splitlines()
        raise NotebookError(display_name, cell, f"{exc.ename}: {evalue[0] if evalue else ''}") from None
    except Exception as exc:  # kernel died, timeout, bad notebook JSON
        text = str(exc).strip().splitlines()
        raise NotebookError(display_name, "execution", f"{type(exc).__name__}: {text[0] if text else ''}") from None
    return dest
