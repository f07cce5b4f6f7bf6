"""The simulated VALOR/OLE study: ``simulate(seed, out, formats, config)``.

THE DATA ARE SIMULATED; they are not the VALOR trial's data.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable, Mapping

import pandas as pd

from .adam import KEYS, STRUCTURE, VARS, build_adam
from .config import SimulationConfigError, load_study
from .model import simulate_study

FORMATS = ("parquet", "xpt", "dataset-json")
CODELIST_VARS = ("TRT01P", "TRT02P", "TRTP", "TRTA", "STARTGR", "PROGGR1", "SEX", "RACE", "ETHNIC", "AGEGR1",
                 "COUNTRY", "REGION", "EOSSTT", "DCSREAS", "DCSPER", "PARCAT1", "PARAMCD", "PARAM", "AVISIT",
                 "APERIODC", "EVNTDESC", "CNSDTDSC", "AESEV", "AEREL", "AEACN", "AEOUT", "AEBODSYS",
                 "AEDECOD", "CQ01NAM", "EXTRT", "EXROUTE", "EXCAT", "SOD1VAR")


def simulate(seed: int | None = None, out: str | Path | None = None, formats: Iterable[str] = ("parquet",),
             config: str | Path | Mapping | None = None) -> dict[str, pd.DataFrame]:
    """Simulate the VALOR/OLE study and return its ADaM datasets.

    Parameters
    ----------
    seed : int, optional
        Seed of ``numpy.random.Generator(PCG64(seed))``; default
        ``simulation.seed`` of the config.
    out : path, optional
        Folder to write ``<dataset>.<ext>`` files and ``define.json`` into
        (lower-case dataset names, e.g. ``adsl.parquet``).
    formats : iterable of {"parquet", "xpt"}
        File formats to write when ``out`` is given.
    config : path or mapping, optional
        Study config (default ``studies/valor.yaml``); a mapping may be the
        whole study or its ``simulation`` section.

    Returns
    -------
    dict
        ``{"ADSL": df, "ADQS": df, "ADEFF": df, "ADLB": df, "ADTTE": df,
        "ADAE": df, "ADEX": df}``; every frame has ``attrs["label"]`` and
        ``attrs["labels"]``.

    Raises
    ------
    SimulationConfigError
        If a parameter is invalid (nothing is written).
    """
    formats = tuple(formats)
    for f in formats:
        if f not in FORMATS:
            raise ValueError(f"unknown format {f!r}; choose from {', '.join(FORMATS)}")
    study = load_study(config)
    sim = study["simulation"]
    if seed is None:
        seed = sim["seed"]
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SimulationConfigError("seed", f"must be a non-negative integer, got {seed!r}")
    st = simulate_study(sim, seed)
    data = build_adam(st)
    for name, df in data.items():
        df.attrs["structure"] = STRUCTURE[name]
        df.attrs["keys"] = KEYS[name]
        df.attrs["types"] = {c: VARS[c][1] for c in df.columns}
        df.attrs["seed"] = seed
    if out is not None:
        write_study(data, out, formats, study, seed)
    return data


def write_study(data: Mapping[str, pd.DataFrame], out: str | Path, formats: Iterable[str], study: Mapping,
                seed: int) -> Path:
    """Write the datasets and ``define.json`` into ``out``."""
    from trialsupp.data.datasetjson import write_datasetjson
    from trialsupp.data.write import define_metadata, write_json, write_parquet, write_xpt

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sim = study["simulation"]
    files = {}
    for name, df in data.items():
        types = {c: VARS[c][1] for c in df.columns}
        files[name] = []
        if "parquet" in formats:
            write_parquet(df, out / f"{name.lower()}.parquet", name=name, types=types)
            files[name].append(f"{name.lower()}.parquet")
        if "xpt" in formats:
            write_xpt(df, out / f"{name.lower()}.xpt", name=name, types=types, timestamp=sim["xpt_timestamp"])
            files[name].append(f"{name.lower()}.xpt")
        if "dataset-json" in formats:
            write_datasetjson(df, out / f"{name.lower()}.json", name=name, types=types,
                              created=sim["xpt_timestamp"], study=study.get("name"))
            files[name].append(f"{name.lower()}.json")
    meta = define_metadata(data, study={**{k: study.get(k) for k in ("name", "title", "simulated")}, "seed": seed},
                           types={n: {c: VARS[c][1] for c in df.columns} for n, df in data.items()},
                           codelist_vars=CODELIST_VARS, files=files)
    meta["study"]["note"] = "Simulated data shaped like the VALOR trial; not the trial's data."
    meta["study"]["data_cuts"] = {k: {"date": v["date"].isoformat(), "label": v["label"]}
                                  for k, v in sim["data_cuts"].items()}
    write_json(meta, out / "define.json")
    return out
