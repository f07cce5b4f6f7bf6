"""Export the analysis data of the R reference (run from the repo root):
python tests/reference/valor/export_data.py  -> tests/reference/valor/*.csv (seed 48, 12-month cut)."""
from pathlib import Path

from studies.valor.common import FASTER, SHORT_VISITS, endpoint_records, population
from studies.valor.simulate.calibrate import cut_datasets
from studies.valor.simulate.valor import simulate

HERE = Path(__file__).resolve().parent
d = cut_datasets(simulate(seed=48), "12-month")
itt = population(d["adsl"])
endpoint_records(d, "ALSFRST", itt, SHORT_VISITS)[["USUBJID", "STARTGR", "PROGGR1", "AVISIT", "AVISITN", "BASE",
                                                    "CHG"]].to_csv(HERE / "alsfrs_w52.csv", index=False)
fas = population(d["adsl"], FASTER)
nfl = endpoint_records(d, "NFL", fas, [28])
nfl[["USUBJID", "TRT01P", "R2BASE", "BASEL"]].to_csv(HERE / "nfl_w28.csv", index=False)
