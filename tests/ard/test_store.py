import json

import pandas as pd
import pytest

from trialsupp.ard.fmt import CSR
from trialsupp.ard.schema import ARDError, ard_rows, bind_ard, check_ard
from trialsupp.ard.store import ARD_MIME, collect_notebook, place, read_store, resolve_output_ids, write_store


def _summary():
    return bind_ard(
        ard_rows({"N": 36, "mean": 51.2345, "sd": 11.6}, variable="AGE", group1="TRT01P", group1_level="Placebo"),
        ard_rows({"N": 72, "mean": 48.05, "sd": 12.6}, variable="AGE", group1="TRT01P", group1_level="Tofersen"),
    )


def test_place_gives_stable_ids_and_formatted_text():
    placed = place(_summary(), output="tbl-baseline", analysis_id="baseline", population="ITT",
                   params={"seed": 1}, inputs={"adsl": "ab" * 32})
    check_ard(placed, placed=True)
    assert placed["id"].tolist()[:2] == ["baseline.baseline.placebo.age.N", "baseline.baseline.placebo.age.mean"]
    assert placed["stat_fmt"].tolist() == ["36", "51.23", "11.60", "72", "48.05", "12.60"]
    again = place(_summary(), output="tbl-baseline", analysis_id="baseline", population="ITT")
    assert again["id"].tolist() == placed["id"].tolist()


def test_place_uses_the_study_rounding_rule():
    ard = ard_rows({"mean": 0.125}, variable="X")
    assert place(ard, output="t", analysis_id="a", population="p")["stat_fmt"].iloc[0] == "0.12"
    assert place(ard, output="t", analysis_id="a", population="p", rules=CSR)["stat_fmt"].iloc[0] == "0.13"


def test_duplicate_ids_are_refused():
    ard = bind_ard(ard_rows({"mean": 1.0}, variable="X"), ard_rows({"mean": 2.0}, variable="X"))
    with pytest.raises(ARDError, match="share ids"):
        place(ard, output="t", analysis_id="a", population="p")


def test_non_finite_becomes_not_estimable():
    ard = ard_rows({"estimate": float("nan")}, variable="X")
    assert ard["stat"].iloc[0] is None and "not estimable" in ard["error"].iloc[0]
    placed = place(ard, output="t", analysis_id="a", population="p")
    assert placed["stat_fmt"].iloc[0] == "NE"


def test_check_ard_reports_every_problem():
    bad = _summary().drop(columns=["method"])
    with pytest.raises(ARDError, match="missing columns: method"):
        check_ard(bad)


def _notebook(tmp_path, placed):
    from trialsupp.ard.store import to_records
    nb = {"cells": [{"id": "c1", "cell_type": "code", "source": "x", "outputs": []},
                    {"id": "c2", "cell_type": "code", "source": "#| label: tbl-baseline",
                     "outputs": [{"output_type": "display_data", "metadata": {},
                                  "data": {ARD_MIME: {"rows": to_records(placed)}}}]}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "baseline.ipynb"
    path.write_text(json.dumps(nb))
    return path


def test_collect_write_and_read_back(tmp_path):
    placed = place(_summary(), output="tbl-baseline", analysis_id="baseline", population="ITT")
    rows = collect_notebook(_notebook(tmp_path, placed), "notebooks/valor/baseline.ipynb")
    assert {r["cell_id"] for r in rows} == {"c2"}
    rows = resolve_output_ids(rows, {"tbl-baseline": "eTable 1"})
    write_store(rows, tmp_path / "out", {"study": "x", "started": "2026-01-01T00:00:00"})
    first = (tmp_path / "out" / "ard.json").read_bytes()
    write_store(list(reversed(rows)), tmp_path / "out", {"study": "x", "started": "2027-01-01T00:00:00"})
    assert (tmp_path / "out" / "ard.json").read_bytes() == first      # order and run time do not matter
    back = read_store(tmp_path / "out")
    assert set(back["output_id"]) == {"eTable 1"} and len(back) == 6
    assert pd.read_csv(tmp_path / "out" / "ard.csv", dtype=str)["stat_fmt"].tolist()[0] in {"11.60", "12.60", "36", "48.05", "51.23", "72"}


def _lab_rows(population: str) -> list[dict]:
    """Real placed rows (CDISC pilot lab tables 14-6.01/02 for ALT and GLUC): mixed stat types,
    None, unicode, nested inputs/params."""
    from pathlib import Path as _Path

    from studies.cdiscpilot01.labs import by_test, t14_6_01, t14_6_02
    from trialsupp.ard.store import to_records
    from trialsupp.data.io import read_study

    root = _Path(__file__).resolve().parents[2] / "data" / "cdiscpilot01"
    tests = by_test(read_study(root, ["adlbc"])["adlbc"])
    rows = []
    for pc in ("ALT", "GLUC"):
        for fn, aid in ((t14_6_01, "lab"), (t14_6_02, "range")):
            rows += to_records(place(fn(tests[pc], pc), output="14-6.0x", analysis_id=f"{aid}-{pc}",
                                     population=population, params={"cut": None, "seeds": [1, 2]},
                                     inputs={"adlbc": "ab" * 32}))
    return rows


def test_ard_json_text_is_the_standard_librarys(tmp_path):
    """write_store's fast writer gives json.dumps(indent=1)'s bytes for real placed rows
    (mixed stat types, None, unicode, nested inputs/params) and for odd values."""
    import json as _json

    from trialsupp.ard.store import dump_indented

    rows = _lab_rows("Safety \u2265 1 dose")
    rows.append({"id": "x\u00e9\"\\\t\u0001", "stat": float("nan"), "big": 10 ** 20, "tiny": 1e-300,
                 "flag": True, "none": None, "empty": {}, "list": [], "nested": {"a": [1, {"b": None}]}})
    assert len(rows) > 100 and {type(r["stat"]) for r in rows[:-1]} >= {int, float}
    doc = {"schema": "trialsupp-ard/1", "run": {"a": [1, 2], "b": {}}, "columns": ["id"], "rows": rows}
    assert dump_indented(doc) == _json.dumps(doc, indent=1, ensure_ascii=False)
    assert dump_indented({**doc, "rows": []}) == _json.dumps({**doc, "rows": []}, indent=1, ensure_ascii=False)


def test_store_rows_and_csv_are_the_pandas_round_trips(tmp_path):
    """write_store sorts and writes plain Python rows; ard.json and ard.csv are the bytes the
    former DataFrame path gave (DataFrame -> to_dict -> json; to_csv), for real placed rows
    in shuffled order (mixed stat types, None, NaN, unicode, quotes, nested inputs/params)."""
    import json as _json
    import random

    from trialsupp.ard.schema import ARD_COLUMNS
    from trialsupp.ard.store import _jsonable

    rows = _lab_rows("Safety, \"\u2265 1 dose\"")
    rows[0] = {**rows[0], "stat": float("nan"), "method": "a,b\nc"}
    random.Random(7).shuffle(rows)
    doc = write_store(rows, tmp_path, {"study": "x", "started": "2026-01-01T00:00:00"})
    # the former path, written out here as the reference
    frame = pd.DataFrame(rows, columns=ARD_COLUMNS).sort_values("id", kind="stable").reset_index(drop=True)
    records = [{c: _jsonable(r[c]) for c in ARD_COLUMNS} for r in frame.to_dict("records")]
    assert doc["rows"] == records and doc == _json.loads((tmp_path / "ard.json").read_text(encoding="utf-8"))
    csv = frame.copy()
    for col in ("inputs", "params"):
        csv[col] = [_json.dumps(v, sort_keys=True) for v in csv[col]]
    assert (tmp_path / "ard.csv").read_text(encoding="utf-8") == csv.to_csv(index=False, lineterminator="\n")
    with pytest.raises(ARDError, match="not unique"):
        write_store(rows + rows[:1], tmp_path / "dup", {"study": "x"})


def test_fast_indented_json_is_the_standard_librarys_anywhere_in_a_notebook():
    """trialsupp._json.dumps_indented == json.dumps(indent=1, ensure_ascii=False[, sort_keys])
    for a notebook-shaped document holding ARD row lists at several depths (under a key, as a
    list element, inside a dict subclass), with unsorted keys, odd values and short lists."""
    import json as _json
    from collections import OrderedDict

    from trialsupp._json import MIN_ROWS, dumps_indented

    rows = [{"z": i, "id": f"r\u00e9{i}", "stat": i / 7, "none": None, "flag": i % 2 == 0,
             "inputs": {"b": "2", "a": [1, {"y": None, "x": float("nan")}]}, "empty": {}}
            for i in range(MIN_ROWS + 5)]
    nb = {"cells": [{"source": ["a\n", "b"], "outputs": [
        {"data": {"application/vnd.trialsupp.ard+json": {"rows": rows}, "text/plain": "x\u0001\""},
         "metadata": {}},
        {"data": OrderedDict(b=[rows[:3], rows[3:]], a=1)}]}],       # a short and a long list, nested
        "metadata": {"z": [], "a": {}}, "nbformat": 4}
    for sort_keys in (True, False):
        assert dumps_indented(nb, sort_keys=sort_keys) == _json.dumps(nb, indent=1, ensure_ascii=False,
                                                                      sort_keys=sort_keys)
    assert dumps_indented(rows) == _json.dumps(rows, indent=1, ensure_ascii=False)
    assert dumps_indented([]) == "[]" and dumps_indented({"rows": rows[:2]}) == _json.dumps(
        {"rows": rows[:2]}, indent=1, ensure_ascii=False)


def test_ard_output_text_reads_as_the_kernel_packed_object():
    """emit() displays the rows as one JSON text; it parses to what the kernel's message packer
    (jupyter_client's Session, the former path) made of the object form: non-finite numbers as
    null, dates as ISO text; collect_notebook reads either form of the output alike."""
    import datetime
    import json as _json

    from jupyter_client.session import Session

    from trialsupp.ard.store import parse_payloads, payload_text

    rows = [{"id": "a", "stat": float("inf"), "inputs": {"b": "1", "a": "2"}, "n": 3,
             "t": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc), "d": datetime.date(2026, 1, 2)},
            {"id": "b", "stat": float("nan"), "x": None, "u": "\u00e9\u0001\""}]
    text = payload_text(rows)
    assert _json.loads(text) == _json.loads(Session().pack({"rows": rows}))
    packed = _json.loads(text)["rows"]

    def notebook(payload):
        return {"cells": [{"id": "c1", "outputs": [{"output_type": "display_data", "data": {ARD_MIME: payload}}]}]}
    as_text, as_object = notebook(text), notebook({"rows": packed})
    assert collect_notebook("x.ipynb", "nb", nb=as_text) == collect_notebook("x.ipynb", "nb", nb=as_object)
    assert parse_payloads(as_text) == as_object
