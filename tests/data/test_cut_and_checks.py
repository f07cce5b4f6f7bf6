import pandas as pd
import pytest

from trialsupp.data.checks import check_study, require
from trialsupp.data.cut import apply_cut
from trialsupp.data.io import DataError, read_dataset, read_study


def _study():
    d = pd.to_datetime
    adsl = pd.DataFrame({"USUBJID": ["A", "B", "C"], "RANDDT": d(["2020-01-01", "2021-06-01", "2022-03-01"]),
                         "DTHDT": d(["2021-01-01", "2022-02-01", None]), "DTHFL": ["Y", "Y", ""],
                         "EOSDT": d(["2021-01-01", "2022-02-01", None]), "EOSSTT": ["DISCONTINUED"] * 2 + ["ONGOING"],
                         "DCSREAS": ["Death", "Death", ""]})
    adqs = pd.DataFrame({"USUBJID": ["A", "A", "B", "B", "C"], "AVISITN": [0, 4, 0, 4, 0],
                         "ADT": d(["2020-01-01", "2020-02-01", "2021-06-01", "2022-01-20", "2022-03-01"]),
                         "AVAL": [40, 38, 41, 30, 44]})
    adtte = pd.DataFrame({"USUBJID": ["A", "B", "C"], "STARTDT": adsl["RANDDT"], "ADT": adsl["DTHDT"].fillna(d("2024-01-01")),
                          "CNSR": [0, 0, 1], "EVNTDESC": ["Death", "Death", "Censored"]})
    adtte["AVAL"] = (adtte["ADT"] - adtte["STARTDT"]).dt.days + 1
    adae = pd.DataFrame({"USUBJID": ["A", "B"], "ASTDT": d(["2020-03-01", "2022-01-20"]), "AEDECOD": ["Headache", "Fall"]})
    return {"adsl": adsl, "adqs": adqs, "adtte": adtte, "adae": adae}


def test_cut_removes_later_records_and_censors_at_the_cut():
    cut = apply_cut(_study(), "2022-01-15")
    adsl = cut["adsl"].set_index("USUBJID")
    assert list(adsl.index) == ["A", "B"]                       # C randomized after the cut
    assert adsl.loc["B", "DTHFL"] == "" and pd.isna(adsl.loc["B", "DTHDT"])
    assert adsl.loc["B", "EOSSTT"] == "ONGOING" and adsl.loc["B", "DCSREAS"] == ""
    assert adsl.loc["A", "DTHFL"] == "Y"
    assert len(cut["adqs"]) == 3 and cut["adqs"]["ADT"].max() <= pd.Timestamp("2022-01-15")
    tte = cut["adtte"].set_index("USUBJID")
    assert tte.loc["B", "CNSR"] == 1 and tte.loc["B", "ADT"] == pd.Timestamp("2022-01-15")
    # 2021-06-01 to 2022-01-15 is 228 days; +1 as in the source's own convention
    assert tte.loc["B", "AVAL"] == 229 and tte.loc["A", "AVAL"] == 367 and tte.loc["A", "CNSR"] == 0
    assert cut["adae"]["AEDECOD"].tolist() == ["Headache"]


def test_checks_name_dataset_variable_and_rows():
    data = _study()
    data["adsl"].loc[2, "USUBJID"] = "A"
    with pytest.raises(DataError, match=r"dataset adsl, variable USUBJID: not unique; rows 0, 2"):
        check_study(data)
    data = _study()
    data["adsl"]["SAFFL"] = ["Y", "X", "N"]
    with pytest.raises(DataError, match=r"dataset adsl, variable SAFFL: .*rows 1 hold \['X'\]"):
        check_study(data)
    data = _study()
    data["adqs"].loc[4, "USUBJID"] = "Z"
    with pytest.raises(DataError, match=r"dataset adqs, variable USUBJID: rows 4 .*'Z'"):
        check_study(data)
    data = _study()
    data["adqs"]["AVISITN"] = ["0", "4", "Week 4", "4", "0"]
    with pytest.raises(DataError, match=r"dataset adqs, variable AVISITN: must be numeric; rows 2"):
        check_study(data)
    with pytest.raises(DataError, match="dataset adsl: required variable\\(s\\) TRT01P missing"):
        require(_study(), {"adsl": ["USUBJID", "TRT01P"]})


def test_bad_files_give_one_clear_line(tmp_path):
    (tmp_path / "adsl.xpt").write_bytes(b"not a transport file at all")
    with pytest.raises(DataError, match="adsl.xpt: not a SAS transport"):
        read_dataset(tmp_path / "adsl.xpt")
    (tmp_path / "adae.parquet").write_bytes(b"PAR1 truncated")
    with pytest.raises(DataError, match="adae.parquet: cannot be read as parquet"):
        read_dataset(tmp_path / "adae.parquet")
    (tmp_path / "advs.xpt").mkdir() if False else None
    d = tmp_path / "dir.xpt"
    d.mkdir()
    with pytest.raises(DataError, match="is a directory"):
        read_dataset(d)
    with pytest.raises(DataError, match="notes.txt: not a dataset file"):
        read_dataset(tmp_path / "notes.txt")


def test_truncated_xpt_and_checksum_mismatch(tmp_path, project_dir):
    src = project_dir / "data" / "cdiscpilot01" / "adsl.xpt"
    (tmp_path / "adsl.xpt").write_bytes(src.read_bytes()[:5000])
    with pytest.raises(DataError, match="adsl.xpt"):
        read_dataset(tmp_path / "adsl.xpt")
    (tmp_path / "adsl.xpt").write_bytes(src.read_bytes())
    with pytest.raises(DataError, match="adsl.xpt: SHA-256 .* does not match"):
        read_study(tmp_path, ["adsl"], {"adsl.xpt": "0" * 64})


def test_a_study_declares_its_own_flags_that_a_cut_resets():
    """Only DTHFL is ADaM's own; a study's flags (study config data.cut_flags) are passed in."""
    data = _study()
    data["adsl"]["EXTFL"] = ["Y", "Y", "N"]
    data["adsl"]["EXTSDT"] = pd.to_datetime(["2020-06-01", "2022-01-10", None])
    plain = apply_cut(data, "2022-01-05")["adsl"].set_index("USUBJID")
    assert plain.loc["B", "EXTFL"] == "Y" and pd.isna(plain.loc["B", "EXTSDT"])
    cut = apply_cut(data, "2022-01-05", flags={"EXTFL": "EXTSDT"})["adsl"].set_index("USUBJID")
    assert cut.loc["B", "EXTFL"] == "N" and cut.loc["A", "EXTFL"] == "Y"
