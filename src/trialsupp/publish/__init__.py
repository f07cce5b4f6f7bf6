"""trialsupp.publish: render a staged report with Quarto or the built-in
Pandoc 3 + Typst publisher.

``publish(stage_dir, entry, out_dir)`` uses Quarto when ``quarto`` (>= 1.5) is on
PATH, else the built-in publisher; ``engine="builtin"``/``"quarto"`` forces one.
Both render the same sources: ``_quarto.yml``, ``_extensions/trialsupp/``
(typst partials, ``jama.css``, ``provenance.js``, the ``ard`` shortcode),
``report/<study>/*.qmd``, executed ``notebooks/`` and ``_results/ard.json``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

from trialsupp.publish.qmd import PublishError

__all__ = ["PublishError", "publish", "resolve_engine", "engine_versions", "publish_builtin", "publish_quarto", "quarto_available",
           "number_elements", "number_report", "write_provenance_html"]


def publish(stage_dir: str | Path, entry: str | Path, out_dir: str | Path,
            formats: Iterable[str] = ("html", "pdf"), *, engine: str = "auto",
            ard_json=None, study=None, params=None, run=None, **kwargs) -> dict[str, Path]:
    """Render ``entry`` of the staged project to ``out_dir``.

    engine: ``"auto"`` (Quarto if available, else built-in), ``"quarto"`` or
    ``"builtin"``. ``run`` (the run metadata) gives the PDF date (its
    ``started`` date) for the built-in publisher; ``study`` and ``params`` are
    accepted for the pipeline's call but per-study settings are read from the
    staged ``_quarto.yml`` / front matter. Extra keyword arguments go to the
    chosen publisher. Returns ``{"html": Path, "pdf": Path}``.
    """
    from trialsupp.publish.quarto import quarto_available as _qa
    if engine not in ("auto", "quarto", "builtin"):
        raise PublishError(f"unknown engine {engine!r} (auto, quarto, builtin)")
    use_quarto = engine == "quarto" or (engine == "auto" and _qa())
    if use_quarto:
        from trialsupp.publish.quarto import publish_quarto as _pq
        return _pq(stage_dir, entry, formats, out_dir, ard_json=ard_json, **kwargs)
    from trialsupp.publish.builtin import publish_builtin as _pb
    if run and "run_date" not in kwargs:
        started = run.get("started") or run.get("run_date")
        if isinstance(started, str) and len(started) >= 10:
            kwargs["run_date"] = started[:10]
            if len(started) >= 16 and "run_time" not in kwargs:
                kwargs["run_time"] = started[11:16] + " UTC"
    return _pb(stage_dir, entry, out_dir, formats, ard_json=ard_json, **kwargs)


def resolve_engine(engine: str = "auto") -> str:
    """``"quarto"`` or ``"builtin"``: the publisher ``publish(engine=...)`` will use."""
    from trialsupp.publish.quarto import MIN_VERSION, quarto_available as _qa
    if engine not in ("auto", "quarto", "builtin"):
        raise PublishError(f"unknown engine {engine!r} (auto, quarto, builtin)")
    if engine == "quarto" and not _qa():
        raise PublishError(f"--engine quarto: Quarto >= {'.'.join(map(str, MIN_VERSION))} is not on PATH "
                           "(install it from quarto.org or with `pip install quarto-cli`)")
    return "quarto" if engine == "quarto" or (engine == "auto" and _qa()) else "builtin"


def engine_versions(name: str) -> dict[str, str]:
    """What made the output, for run.json: ``{"name": "quarto", "quarto": "1.10.18"}`` or
    ``{"name": "builtin", "pandoc": ..., "typst": ...}``."""
    from importlib import metadata
    if name == "quarto":
        from trialsupp.publish.quarto import quarto_version
        v = quarto_version()
        return {"name": "quarto", "quarto": ".".join(map(str, v)) if v else "unknown"}
    info = {"name": "builtin"}
    try:
        info["pandoc"] = _pandoc_version()
    except Exception:            # pypandoc missing or broken: the render would have failed
        info["pandoc"] = "unknown"
    try:
        info["typst"] = metadata.version("typst")
    except metadata.PackageNotFoundError:
        info["typst"] = "unknown"
    return info


def _pandoc_version() -> str:
    import pypandoc
    return pypandoc.get_pandoc_version()


def number_elements(entry: str | Path, stage_dir: str | Path | None = None) -> dict[str, str]:
    """label -> "eTable N" / "eFigure N" (JAMA order of first citation) for the
    report ``entry``; the project directory is ``stage_dir`` or the nearest
    parent of ``entry`` holding ``_quarto.yml``."""
    entry = Path(entry).resolve()
    if stage_dir is None:
        stage_dir = next((p for p in entry.parents if (p / "_quarto.yml").is_file()), entry.parent)
    return number_report(stage_dir, entry)


def publish_builtin(*args, **kwargs):
    from trialsupp.publish.builtin import publish_builtin as _pb
    return _pb(*args, **kwargs)


def publish_quarto(*args, **kwargs):
    from trialsupp.publish.quarto import publish_quarto as _pq
    return _pq(*args, **kwargs)


def quarto_available(*args, **kwargs) -> bool:
    from trialsupp.publish.quarto import quarto_available as _qa
    return _qa(*args, **kwargs)


def number_report(stage_dir, entry) -> dict[str, str]:
    from trialsupp.publish.builtin import number_report as _nr
    return _nr(stage_dir, entry)


def write_provenance_html(stage_dir, ard_json=None, out=None) -> Path:
    from trialsupp.publish.provenance import write_provenance_html as _w
    return _w(stage_dir, ard_json, out)
