"""The results store of a render as a CDISC Analysis Results Standard (ARS 1.0) ReportingEvent.

Mapping (ARD -> ARS):
  population                         -> AnalysisSet
  group1/group2 (subject variables)  -> SubjectGroupingFactor (analysisGroupings), one group per level
  group1/group2 (record variables)   -> DataGroupingFactor (dataGroupings), e.g. AVISIT, AEBODSYS
  variable_level                     -> data-driven DataGroupingFactor of the analysed variable
  (context, method)                  -> AnalysisMethod; each stat_name is one Operation
  (output, analysis_id, variable)    -> Analysis, its rows -> OperationResult (rawValue, formattedValue)
  output_id                          -> Output with one OutputDisplay, file specifications and page refs

ARS has no place for where a value is printed nor for file hashes; those go into the
top-level extension object ``EXTENSION_KEY`` (the ARS schema allows additional top-level
properties): one entry per OperationResult (analysis, index, ARD id, places) and the
SHA-256 of every file of the render and of every input dataset.
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd

from trialsupp.ard.provenance import sha256_file
from trialsupp.ard.store import read_store, slug

ARS_VERSION = "1.0"
EXTENSION_KEY = "trialsuppExtension"
EXTENSION_NAMESPACE = "trialsupp/ars-extension/1"
# grouping variables that subdivide data records rather than subjects (ARS DataGroupingFactor)
RECORD_VARIABLES = {"AVISIT", "AVISITN", "VISIT", "VISITNUM", "PARAM", "PARAMCD", "ATPT", "ATPTN",
                    "AEBODSYS", "AEDECOD", "AESOC", "AEHLT", "AELLT", "AESEV", "AETOXGR", "AREL",
                    "APERIOD", "APHASE", "AVALCAT1", "CRIT1", "DTYPE", "TIME", "AVISITCD"}
_FILE_TYPES = {".pdf": "pdf", ".rtf": "rtf", ".txt": "txt"}


def _id(prefix: str, *parts: Any) -> str:
    return prefix + "_" + "_".join(slug(p) for p in parts if p not in (None, ""))


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value)) and value != ""


def raw_value(value: Any) -> str | None:
    """ARS rawValue is a string: full precision (shortest round-trip repr for floats)."""
    if not _present(value):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _is_record_grouping(variable: str) -> bool:
    return str(variable).upper() in RECORD_VARIABLES


def _overall(level) -> bool:
    """The "Total" column of a standard output (``trialsupp.tlg``: all levels of its group
    variable): in ARS a result over every group, i.e. without that grouping, not a group."""
    from trialsupp.tlg._spine import TOTAL
    return str(level) == TOTAL


def _groupings(ard: pd.DataFrame) -> tuple[list[dict], list[dict], dict[tuple, dict]]:
    """(analysisGroupings, dataGroupings, (variable, level) -> ResultGroup)."""
    levels: dict[str, list] = {}
    for gcol, lcol in (("group1", "group1_level"), ("group2", "group2_level")):
        for var, lev in zip(ard[gcol], ard[lcol]):
            if _present(var) and _present(lev) and not _overall(lev):
                seen = levels.setdefault(str(var), [])
                if lev not in seen:
                    seen.append(lev)
    subject, record, result_groups = [], [], {}
    for var in sorted(levels):
        gid = _id("GRP", var)
        groups = []
        for order, lev in enumerate(levels[var], start=1):
            group_id = _id("GRP", var, lev)
            result_groups[(var, str(lev))] = {"groupingId": gid, "groupId": group_id}
            groups.append({"id": group_id, "label": str(lev), "order": order,
                           "condition": {"variable": var, "comparator": "EQ", "value": [str(lev)]}})
        factor = {"id": gid, "label": var, "groupingVariable": var, "dataDriven": False, "groups": groups}
        (record if _is_record_grouping(var) else subject).append(factor)
    for var in sorted({str(v) for v, lev in zip(ard["variable"], ard["variable_level"])
                       if _present(v) and _present(lev)}):
        record.append({"id": _id("VAR", var), "label": f"{var} categories", "groupingVariable": var,
                       "dataDriven": True})
    return subject, record, result_groups


def _methods(ard: pd.DataFrame) -> tuple[list[dict], dict[tuple, str]]:
    """AnalysisMethods (one per context + method text) and (context, method) -> method id."""
    methods, ids = [], {}
    for (context, method), rows in ard.groupby([ard["context"].fillna(""), ard["method"].fillna("")],
                                                sort=True):
        mid = _id("MTH", context or "stat", method[:60] or None)
        while mid in ids.values():
            mid += "_"
        ids[(context, method)] = mid
        ops = []
        for stat_name, label in dict(zip(rows["stat_name"], rows["stat_label"])).items():
            ops.append({"id": f"{mid}_{slug(stat_name)}", "name": str(stat_name), "label": str(label or stat_name)})
        ops.sort(key=lambda o: o["id"])
        methods.append({"id": mid, "name": method or context or "statistic",
                        "label": context or "statistic",
                        **({"description": method} if method else {}), "operations": ops})
    return methods, ids


def _code(rows: pd.DataFrame, python: str) -> dict:
    first = rows.iloc[0]
    code = {"context": f"Python {python}".strip()}
    refs = sorted({str(c) for c in rows["code"] if _present(c)})
    if refs:
        code["code"] = "; ".join(refs)
    params = first["params"] if isinstance(first["params"], dict) else {}
    if params:
        code["parameters"] = [{"name": str(k), "value": [json.dumps(v) if not isinstance(v, str) else v]}
                              for k, v in sorted(params.items())]
    return code


def _files(out_dir: Path) -> list[dict]:
    skip = {"ars.json", "verify.html", "verify.json", "run.json"}
    files = []
    for path in sorted(p for p in out_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(out_dir).as_posix()
        if rel in skip or any(part.startswith(".") for part in path.relative_to(out_dir).parts):
            continue
        files.append({"name": rel, "sha256": sha256_file(path), "bytes": path.stat().st_size})
    return files


def _captions(out_dir: Path) -> dict[str, str]:
    """Output number -> its caption text, from the HTML (``eTable 2. Title``)."""
    html = out_dir / "supplement.html"
    if not html.exists():
        return {}
    text = re.sub(r"<[^>]+>", "", html.read_text(encoding="utf-8"))
    from html import unescape
    text = unescape(text)
    caps = {}
    for m in re.finditer(r"((?:e?(?:Table|Figure))\s+[\d.\-]+)[.:]\s+([^\n]{3,300})", text):
        caps.setdefault(m.group(1), " ".join(m.group(2).split()))
    return caps


def reporting_event(out_dir: str | Path) -> dict:
    """Build the ARS ReportingEvent of a rendered output folder (``ard.json`` + documents)."""
    from trialsupp.export.placement import locate
    out_dir = Path(out_dir)
    ard = read_store(out_dir)
    run = ard.attrs.get("run", {})
    ard = ard[ard["context"].fillna("") != "parameter"].reset_index(drop=True)
    python = str(run.get("python", "")).split()[0] if run.get("python") else ""
    study = str(run.get("study") or out_dir.name)

    sets, set_ids = [], {}
    for order, pop in enumerate(sorted({str(p) for p in ard["population"] if _present(p)}), start=1):
        set_ids[pop] = _id("AS", pop)
        sets.append({"id": set_ids[pop], "label": pop, "order": order, "level": 1})
    subject, record, result_groups = _groupings(ard)
    methods, method_ids = _methods(ard)
    captions = _captions(out_dir)
    places = locate(out_dir, ard, captions)

    docs = [{"id": f"DOC_{slug(name)}", "name": name, "location": name}
            for name in ("supplement.html", "supplement.pdf") if (out_dir / name).exists()]
    rtf = sorted((out_dir / "rtf").glob("*.rtf")) if (out_dir / "rtf").is_dir() else []
    docx = sorted((out_dir / "docx").glob("*.docx")) if (out_dir / "docx").is_dir() else []

    analyses, extension_results = [], []
    keys = ["output_id", "analysis_id", "variable", "context", "method"]
    grouped = ard.assign(**{k: ard[k].fillna("") for k in keys}).groupby(keys, sort=True)
    taken: set[str] = set()
    for (output_id, analysis_id, variable, _context, _method), rows in grouped:
        aid = _id("AN", output_id, analysis_id, variable or None)
        while aid in taken:          # same analysis and variable, several methods
            aid += "_"
        taken.add(aid)
        first = rows.iloc[0]
        analysis = {
            "id": aid, "version": 1,
            "name": f"{output_id}: {analysis_id}" + (f", {variable}" if variable else ""),
            "reason": {"controlledTerm": "SPECIFIED IN SAP"},
            "purpose": {"sponsorTermId": "PURPOSE_NOT_DECLARED"},
            "methodId": method_ids[(first["context"] or "", first["method"] or "")],
            "programmingCode": _code(rows, python),
            "results": [],
        }
        if variable:
            analysis["variable"] = str(variable)
        if _present(first["population"]):
            analysis["analysisSetId"] = set_ids[str(first["population"])]
        orders = []
        for col in ("group1", "group2"):
            var = next((v for v in rows[col] if _present(v)), None)
            if var:
                orders.append({"groupingId": _id("GRP", var), "order": len(orders) + 1, "resultsByGroup": True})
        if rows["variable_level"].map(_present).any() and variable:
            orders.append({"groupingId": _id("VAR", variable), "order": len(orders) + 1, "resultsByGroup": True})
        if orders:
            analysis["orderedGroupings"] = orders
        mid = analysis["methodId"]
        for idx, r in enumerate(rows.to_dict("records")):
            result = {"operationId": f"{mid}_{slug(r['stat_name'])}"}
            groups = [result_groups[(str(r[g]), str(r[lv]))] for g, lv in
                      (("group1", "group1_level"), ("group2", "group2_level"))
                      if _present(r[g]) and _present(r[lv]) and not _overall(r[lv])]
            if _present(r["variable_level"]) and variable:
                groups.append({"groupingId": _id("VAR", variable), "groupValue": str(r["variable_level"])})
            if groups:
                result["resultGroups"] = groups
            raw = raw_value(r["stat"])
            if raw is not None:
                result["rawValue"] = raw
            result["formattedValue"] = "" if r["stat_fmt"] is None else str(r["stat_fmt"])
            analysis["results"].append(result)
            entry = {"analysisId": aid, "resultIndex": idx, "ardId": r["id"],
                     "places": places.get(r["id"], [])}
            if _present(r["error"]):
                entry["notEstimable"] = str(r["error"])
            if r["notebook"]:
                entry["notebook"] = r["notebook"]
                entry["cellId"] = r["cell_id"]
            extension_results.append(entry)
        analyses.append(analysis)

    outputs, planned_outputs = [], []
    by_output: dict[str, list[dict]] = {}
    for entry in extension_results:
        by_output.setdefault(entry["analysisId"], []).extend(entry["places"])
    for order, output_id in enumerate(sorted({str(o) for o in ard["output_id"].fillna("")}), start=1):
        oid = _id("OUT", output_id)
        pages = sorted({p["page"] for a in analyses if a["name"].startswith(output_id + ":")
                        for p in by_output.get(a["id"], []) if "page" in p})
        anchors = sorted({p["anchor"] for a in analyses if a["name"].startswith(output_id + ":")
                          for p in by_output.get(a["id"], []) if "anchor" in p})
        files = [{"name": d["name"], "location": d["location"],
                  **({"fileType": {"controlledTerm": "pdf"}} if d["name"].endswith(".pdf") else
                     {"fileType": {"sponsorTermId": "FILETYPE_HTML"}})} for d in docs]
        key = re.sub(r"[^a-z0-9]+", "-", output_id.lower()).strip("-")
        for path in rtf + docx:          # CSR files: t-14-3-01.rtf / .docx for output "14-3.01"
            if re.sub(r"^[tf]-", "", path.stem.lower()) == key:
                kind = _FILE_TYPES.get(path.suffix)
                files.append({"name": path.name, "location": path.relative_to(out_dir).as_posix(),
                              "fileType": {"controlledTerm": kind} if kind else {"sponsorTermId": "FILETYPE_DOCX"}})
        refs = []
        if pages and any(d["name"] == "supplement.pdf" for d in docs):
            refs.append({"referenceDocumentId": "DOC_supplement-pdf",
                         "pageRefs": [{"refType": "PhysicalRef", "pageNumbers": pages}]})
        if anchors and any(d["name"] == "supplement.html" for d in docs):
            refs.append({"referenceDocumentId": "DOC_supplement-html",
                         "pageRefs": [{"refType": "NamedDestination", "pageNames": [a.lstrip("#") for a in anchors]}]})
        display = {"id": _id("DSP", output_id), "name": output_id, "version": 1}
        if output_id in captions:
            display["displayTitle"] = f"{output_id}. {captions[output_id]}"
        output = {"id": oid, "name": output_id or "unplaced", "version": 1,
                  "displays": [{"order": 1, "display": display}]}
        if files:
            output["fileSpecifications"] = files
        if refs:
            output["documentRefs"] = refs
        outputs.append(output)
        planned_outputs.append({"level": 1, "order": order, "name": output_id or "unplaced", "outputId": oid})

    git = run.get("git") or {}
    commit = git.get("commit") if isinstance(git, dict) else None
    event = {
        "id": f"RE_{slug(study)}" + (f"_{commit[:12]}" if commit else ""),
        "name": f"{study}: results of the rendered supplement",
        "version": 1,
        "referenceDocuments": docs,
        "terminologyExtensions": [
            {"id": "TE_purpose", "enumeration": "AnalysisPurposeEnum", "sponsorTerms": [
                {"id": "PURPOSE_NOT_DECLARED", "submissionValue": "NOT DECLARED",
                 "description": "The study configuration does not declare the analysis' purpose."}]},
            {"id": "TE_filetype", "enumeration": "OutputFileTypeEnum", "sponsorTerms": [
                {"id": "FILETYPE_HTML", "submissionValue": "html"},
                {"id": "FILETYPE_DOCX", "submissionValue": "docx"}]}],
        "analysisSets": sets,
        "analysisGroupings": subject,
        "dataGroupings": record,
        "methods": methods,
        "analyses": analyses,
        "outputs": outputs,
        "listOfPlannedAnalyses": {"listItems": [
            {"level": 1, "order": i, "name": a["name"], "analysisId": a["id"]}
            for i, a in enumerate(analyses, start=1)]},
        "listOfPlannedOutputs": {"listItems": planned_outputs},
        EXTENSION_KEY: {
            "namespace": EXTENSION_NAMESPACE,
            "description": "Beyond ARS 1.0: where each OperationResult is printed (file, PDF page, "
                           "HTML anchor), its ARD id and notebook cell, and the SHA-256 of every "
                           "file of the render and of every input dataset.",
            "arsVersion": ARS_VERSION,
            "study": study,
            "git": git,
            "inputs": run.get("inputs", {}),
            "files": _files(out_dir),
            "results": extension_results,
        },
    }
    return event


def write_ars(out_dir: str | Path, to: str | Path | None = None) -> Path:
    from trialsupp.ard.store import atomic_write_text
    out_dir = Path(out_dir)
    target = Path(to) if to else out_dir / "ars.json"
    event = reporting_event(out_dir)
    atomic_write_text(target, json.dumps(event, indent=1, ensure_ascii=False) + "\n")
    return target
