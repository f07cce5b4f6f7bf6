"""``trialsupp new``: write a project (or add a study to one) from an ADaM folder.

Writes, for study NAME in project PATH (nothing is overwritten; a failure leaves PATH as it was):
    data/NAME/                   copies of the ADaM files + SOURCE.md with their SHA-256
    src/studies/NAME/study.yml   study config (layout, format rules, notebooks, report, audit exemptions)
    notebooks/NAME/*.ipynb       one ordinary notebook per standard output, calling trialsupp.tlg
    report/NAME/index.qmd        report skeleton citing every output in order
    trialsupp.yml                project config (created, or the study added to it)
    _quarto.yml, _extensions/trialsupp/   from the package templates (when missing)
"""
from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import nbformat
import yaml

from trialsupp.data.io import FORMATS, sha256_file

from .inventory import Inventory, Output, inspect_adam

__all__ = ["new_project", "NewError"]

LAYOUTS = ("jama", "csr")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# CSR appendix 14 sections, as in the CDISC pilot CSR (ICH E3 section 14 tables)
CSR_SECTIONS = {1: "Subject Disposition", 2: "Demographic and Baseline Characteristics", 3: "Efficacy",
                4: "Exposure", 5: "Adverse Events", 6: "Laboratory Data", 7: "Vital Signs and Other Safety Data"}
# audit exemptions of the CSR layout: output numbers "14-5", "14-5.01" and "appendix 14" are not results
CSR_NUMBER_PATTERNS = [r"(?<![\w.])14-[1-7](?:\.\d{2})?(?![\w.-]*\d)", r"(?i)\bappendix 14\b"]


def csr_section(key: str) -> int:
    """Appendix 14 section of a standard output: 14-1 disposition, 14-2 demographics, 14-3
    efficacy (time to event; questionnaires and other BDS efficacy data), 14-4 exposure, 14-5
    adverse events, 14-6 laboratory (ADLB*), 14-7 vital signs, ECG and other safety BDS."""
    if key in ("disposition", "demographics", "exposure"):
        return {"disposition": 1, "demographics": 2, "exposure": 4}[key]
    if key.startswith("ae-"):
        return 5
    if key.startswith("bds-"):
        ds = key[4:]
        return 6 if ds.startswith("adlb") else 7 if ds.startswith(("advs", "adeg")) else 3
    return 3                                                # time to event


@dataclass(frozen=True)
class Element:
    """One table or figure of the report: notebook, cell label, caption, code and (CSR) number."""
    output: Output
    label: str
    caption: str
    code: str
    number: Optional[str] = None      # "14-5.01" (CSR layout); None: Quarto numbers it (JAMA)

    @property
    def is_figure(self) -> bool:
        return self.label.startswith(("fig-", "f-"))

    @property
    def heading(self) -> str:
        return f"{'Figure' if self.is_figure else 'Table'} {self.number} {self.caption}"


def elements(inv: Inventory, layout: str) -> list[Element]:
    """The report's elements in order. JAMA: inventory order, Quarto labels (tbl-/fig-) numbered
    by the publisher. CSR: by appendix 14 section, each table/figure numbered 14-<section>.<nn>
    (tables and figures counted apart), labels t-14-5-01 / f-14-3-01 as the shipped CSR."""
    cells = [(o, label, caption, code) for o in inv.outputs for label, caption, code in o.cells]
    if layout != "csr":
        return [Element(*c) for c in cells]
    out, seen = [], {}
    for o, label, caption, code in sorted(cells, key=lambda c: csr_section(c[0].key)):   # stable
        sec = csr_section(o.key)
        fig = label.startswith("fig-")
        n = seen[(sec, fig)] = seen.get((sec, fig), 0) + 1
        number = f"14-{sec}.{n:02d}"
        out.append(Element(o, f"{'f' if fig else 't'}-14-{sec}-{n:02d}", caption, code, number))
    return out


class NewError(ValueError):
    """``trialsupp new`` cannot proceed (the message says why and what to do)."""


def _study_name(name: Optional[str], inv: Inventory, path: Path) -> str:
    raw = name or inv.studyid or path.name
    slug = re.sub(r"[^a-z0-9_]+", "_", raw.lower()).strip("_")
    if not slug or not slug[0].isalpha():
        slug = "study_" + slug
    if name and slug != name:
        raise NewError(f"--study {name!r}: use lower-case letters, digits and _ (e.g. {slug!r})")
    return slug


def _exempt_patterns(labels: set[str]) -> list[str]:
    """Audit exemptions for label texts from the data that contain digits (arms such as
    "Tofersen 100 mg", categories such as "<65", parameter names): labels, not statistics."""
    out = []
    for text in sorted(labels):
        if len(text) > 200:
            continue
        out.append(r"(?<![\w.])" + re.escape(text) + r"(?![\w])")
    return out


def _study_yml(name: str, title: str, inv: Inventory, layout: str, notebooks: list[str]) -> str:
    rules = ({"rounding": "half_away", "minus": "-", "pvalue_style": "csr"} if layout == "csr"
             else {"rounding": "half_even", "minus": "\u2212", "pvalue_style": "jama"})
    raw = {
        "name": name, "title": title, "simulated": inv.simulated, "layout": layout,
        "protocol": inv.studyid or name.upper(),
        "format_rules": rules,
        "data": {"source": "files", "dir": f"data/{name}", "checksums": f"data/{name}/SOURCE.md"},
        "cuts": {},
        "notebooks": notebooks,
        "report": f"report/{name}/index.qmd",
        "audit_exempt": _exempt_patterns(inv.labels) + (CSR_NUMBER_PATTERNS if layout == "csr" else []),
    }
    head = [f"# Study {name}: written by `trialsupp new` on {dt.date.today().isoformat()} from {inv.root}.",
            "# Edit freely: notebooks/, report/ and this file are yours.", "#",
            "# Defaults chosen from the data:"]
    head += [f"#   - {c}" for c in inv.choices] or ["#   (none)"]
    if inv.missing:
        head += ["# Standard outputs not made (variables missing):"] + [f"#   - {m}" for m in inv.missing]
    head.append("# audit_exempt: label texts from the data that contain digits (not statistics)"
                + ("; CSR output numbers 14-x.yy." if layout == "csr" else "."))
    return "\n".join(head) + "\n" + yaml.safe_dump(raw, sort_keys=False, allow_unicode=True, width=100)


def _notebook(name: str, out: Output, elems: list[Element]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    if out.requires:   # what the calls read; `render` checks it on the data before any notebook runs
        nb.metadata["trialsupp"] = {"requires": {ds: {"variables": dict(v)} for ds, v in out.requires.items()}}
    stem = out.key
    cells = [
        nbformat.v4.new_markdown_cell(f"# {out.title}\n\nStandard output made with `trialsupp.tlg` "
                                      f"(see `help(tlg)`); change the arguments of the call below to "
                                      f"customise it. Rendered by `trialsupp render --study {name}`. "
                                      "The variables it reads are declared in the notebook's metadata "
                                      "(`trialsupp: requires:`) and checked before any notebook runs; "
                                      "declare there any variable you add."),
        nbformat.v4.new_code_cell(f'study = "{name}"\ndata_dir = "data/{name}"\nout_dir = "_output/{name}"'),
        nbformat.v4.new_code_cell(
            "#| echo: false\nfrom trialsupp import tlg\nfrom trialsupp.notebook import open_session\n"
            f"s = open_session(study=study, data_dir=data_dir, out_dir=out_dir, datasets={out.datasets!r})\n"
            'layout = s.study.raw.get("layout", "jama")'),
    ]
    cells[1].metadata["tags"] = ["parameters"]
    for e in (e for e in elems if e.output is out):
        if e.number:        # CSR: the number and title are the report's heading; the RTF carries them
            src = (f"#| label: {e.label}\n#| echo: false\n"
                   f"{e.code}\n_ = tlg.show(s, out, {e.label!r}, number={e.number!r})")
        else:
            cap = "fig-cap" if e.is_figure else "tbl-cap"
            src = (f"#| label: {e.label}\n#| {cap}: {yaml.safe_dump(e.caption, width=1000).strip()}\n"
                   f"#| echo: false\n{e.code}\n_ = tlg.show(s, out, {e.label!r})")
        cells.append(nbformat.v4.new_code_cell(src))
    for i, c in enumerate(cells):
        c.id = f"{stem}-{i:02d}"
    nb.cells = cells
    return nb


def _report(name: str, title: str, inv: Inventory, layout: str, elems: list[Element]) -> str:
    front = {"title": title, "format": {"trialsupp-typst": "default", "trialsupp-html": "default"}}
    protocol = inv.studyid or name.upper()
    if layout == "csr":
        front["subtitle"] = "Clinical study report, appendix 14: tables and figures"
        front["trialsupp"] = {"heading": f"Protocol {protocol} - Appendix 14", "landscape": True,
                              "csr": True, "protocol": protocol, "page-numbering": "of"}
        front["layout"] = "csr"
    lines = ["---", yaml.safe_dump(front, sort_keys=False, allow_unicode=True).strip(), "---", "",
             "<!-- Written by `trialsupp new`. Every number in this report comes from a notebook in",
             f"     notebooks/{name}/ (ARD rows); cite numbers in prose with the ard shortcode and an ARD id",
             "     (`trialsupp trace` lists the ids of a rendered output). -->", ""]
    if layout == "csr":
        lines += [f"**Protocol:** {protocol}. Standard outputs of appendix 14 from the analysis data (ADaM): "
                  + (", ".join(f"{'Figure' if e.is_figure else 'Table'} {e.number}" for e in elems) or "none")
                  + ".", ""]
    else:
        lines += ["# Standard Outputs", "",
                  f"Standard outputs of study {protocol} from its analysis data (ADaM): "
                  + ", ".join(f"@{e.label}" for e in elems) + "." if elems
                  else "No standard output could be made from these data.", ""]
    if inv.missing:
        lines += ["Outputs not produced, for missing analysis variables: "
                  + "; ".join(m.split(":")[0] for m in inv.missing) + ".", ""]
    section = None
    for i, e in enumerate(elems):
        if layout == "csr" and i:       # CSR: every output starts a page (its running header counts them)
            lines += ["{{< pagebreak >}}", ""]
        if e.number and csr_section(e.output.key) != section:
            section = csr_section(e.output.key)
            lines += [f"# 14-{section} {CSR_SECTIONS[section]}", ""]
        if e.number:
            lines += [f"## {e.heading}", ""]
        lines += [f"{{{{< embed ../../notebooks/{name}/{e.output.key}.ipynb#{e.label} >}}}}", ""]
    lines += ["{{< pagebreak >}}", "", "{{< results provenance >}}", ""]   # code, cells, data of each output
    return "\n".join(lines)


def _source_md(inv: Inventory, files: list[Path], name: str) -> str:
    digest = "\n".join(f"{sha256_file(p)}  {p.name}" for p in files)
    return (f"# {name}: ADaM datasets\n\nCopied by `trialsupp new` on {dt.date.today().isoformat()} from "
            f"`{inv.root}`. The data layer checks every file against the SHA-256 below before a "
            "notebook reads it.\n\n```\n" + digest + "\n```\n")


def new_project(path: Path, adam: Path, *, layout: str = "jama", title: Optional[str] = None,
                study: Optional[str] = None, echo=print) -> dict:
    """Create (or extend) the project at ``path`` with a study made from the ADaM folder ``adam``.

    Returns ``{"study": name, "files": [written paths], "inventory": Inventory}``.
    """
    from trialsupp.project import PROJECT_FILE, install_templates, read_project

    if layout not in LAYOUTS:
        raise NewError(f"--layout must be one of {', '.join(LAYOUTS)}, not {layout!r}")
    path, adam = Path(path).resolve(), Path(adam).resolve()
    if not adam.is_dir():
        raise NewError(f"--adam {adam}: not a folder")
    try:
        inv = inspect_adam(adam)
    except (FileNotFoundError, ValueError) as exc:
        raise NewError(str(exc)) from None
    name = _study_name(study, inv, path)
    existing = read_project(path) if (path / PROJECT_FILE).is_file() else {"studies": {}, "default": None}
    if name in existing["studies"]:
        raise NewError(f"{path / PROJECT_FILE}: study {name!r} exists already; give another --study NAME")
    targets = [path / "data" / name, path / "src" / "studies" / name, path / "notebooks" / name,
               path / "report" / name]
    taken = [t for t in targets if t.exists()]
    if taken:
        raise NewError(f"{taken[0]} exists already; nothing was written (give another --study NAME)")
    title = title or (f"{inv.studyid or name.upper()}: Supplementary Tables and Figures"
                      + (" (simulated data)" if inv.simulated else ""))
    echo(inv.report())

    path.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".trialsupp-new-", dir=path))
    written: list[Path] = []
    try:
        data = stage / "data" / name
        data.mkdir(parents=True)
        # the datasets read, and define.xml (metadata; define.json stays behind: a .json in the
        # data folder is read as a Dataset-JSON dataset)
        files = sorted(p for p in adam.iterdir() if p.is_file() and (p.name == "define.xml" or (
            p.suffix.lower() in FORMATS and p.stem.lower() in inv.datasets)))
        for p in files:
            shutil.copy2(p, data / p.name)
        copies = [data / p.name for p in files]
        for src, dst in zip(files, copies):
            if sha256_file(src) != sha256_file(dst):
                raise NewError(f"{src.name}: the copy differs from the original (disk full?)")
        (data / "SOURCE.md").write_text(_source_md(inv, copies, name), encoding="utf-8")
        from trialsupp.data.manifest import accept     # the input manifest a render requires
        accept(data, f"trialsupp new: copied from {adam}")
        nb_dir = stage / "notebooks" / name
        nb_dir.mkdir(parents=True)
        notebooks = []
        elems = elements(inv, layout)
        for out in inv.outputs:
            nbformat.write(_notebook(name, out, elems), nb_dir / f"{out.key}.ipynb")
            notebooks.append(f"notebooks/{name}/{out.key}.ipynb")
        cfg = stage / "src" / "studies" / name
        cfg.mkdir(parents=True)
        (cfg / "study.yml").write_text(_study_yml(name, title, inv, layout, notebooks), encoding="utf-8")
        rep = stage / "report" / name
        rep.mkdir(parents=True)
        (rep / "index.qmd").write_text(_report(name, title, inv, layout, elems), encoding="utf-8")
        # swap in: each target folder is new (checked above), so a move cannot clobber anything
        for t in targets:
            src = stage / t.relative_to(path)
            t.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, t)
            written.append(t)
    except BaseException:
        for t in written:
            shutil.rmtree(t, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    studies = {k: os.path.relpath(v, path) for k, v in existing["studies"].items()}
    studies[name] = f"src/studies/{name}/study.yml"
    default = existing["default"] or name
    proj = path / PROJECT_FILE
    tmp = proj.with_name(f".{proj.name}.tmp")
    tmp.write_text("# trialsupp project: its studies (name: study config) and the default one.\n"
                   + yaml.safe_dump({"default": default, "studies": studies}, sort_keys=False), encoding="utf-8")
    os.replace(tmp, proj)
    written.append(proj)
    written += install_templates(path)
    gi = path / ".gitignore"
    if not gi.exists():
        gi.write_text("_output/\n.trialsupp-cache/\n", encoding="utf-8")
        written.append(gi)
    return {"study": name, "files": written, "inventory": inv}
