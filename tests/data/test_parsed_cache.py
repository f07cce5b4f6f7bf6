"""The parsed-dataset cache (trialsupp.data.parsed): a cached frame is the frame the file gives."""
from pathlib import Path

import numpy as np
import pandas as pd

from trialsupp.data import parsed
from trialsupp.data.io import read_study

ROOT = Path(__file__).resolve().parents[2] / "data" / "cdiscpilot01"


def _types(df):
    return {c: list(map(type, df[c])) for c in df.columns if df[c].dtype == object}


def test_cached_frames_equal_parsed_files(tmp_path):
    # adae: date columns whose missing values are NaN (Parquet alone would give None)
    names = ["adsl", "adae"]
    plain = read_study(ROOT, names)
    first = read_study(ROOT, names, parsed=tmp_path)          # parses and stores
    assert sorted(p.stem for p in tmp_path.glob("*.parquet")) == sorted(plain.hashes[n] for n in names)
    again = read_study(ROOT, names, parsed=tmp_path)          # reads the cache
    for n in names:
        for got in (first[n], again[n]):
            pd.testing.assert_frame_equal(got, plain[n])
            assert _types(got) == _types(plain[n])
            assert got.attrs == plain[n].attrs
    assert any(isinstance(v, float) and np.isnan(v) for v in again["adae"]["ASTDT"])
    assert again.hashes == plain.hashes


def test_damaged_entry_is_parsed_again(tmp_path):
    digest = read_study(ROOT, ["adsl"], parsed=tmp_path).hashes["adsl"]
    (tmp_path / f"{digest}.parquet").write_bytes(b"not parquet")
    got = read_study(ROOT, ["adsl"], parsed=tmp_path)["adsl"]
    pd.testing.assert_frame_equal(got, read_study(ROOT, ["adsl"])["adsl"])


def test_frame_that_does_not_round_trip_is_not_stored(tmp_path):
    df = pd.DataFrame({"x": pd.Series([1, "a", None, np.nan], dtype=object)})   # None and NaN in one column
    assert not parsed.save(tmp_path, "0" * 64, df)
    assert not list(tmp_path.iterdir())
    ok = pd.DataFrame({"x": [1.0, 2.0], "s": ["a", "b"]})
    assert parsed.save(tmp_path, "1" * 64, ok)
    pd.testing.assert_frame_equal(parsed.load(tmp_path, "1" * 64), ok)


def test_unwritable_cache_folder_is_no_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")                   # the cache folder cannot be made under a file
    got = read_study(ROOT, ["adsl"], parsed=blocker / "parsed")["adsl"]
    pd.testing.assert_frame_equal(got, read_study(ROOT, ["adsl"])["adsl"])
