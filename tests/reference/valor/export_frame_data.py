"""Export the seed-48 simulated ADTTE (with ADSL subgroup) to CSV for frame.R.

Run from the project root: ``python tests/reference/valor/export_frame_data.py``
then ``Rscript tests/reference/valor/frame.R`` (writes frame_reference.json).
"""
from pathlib import Path

from studies.valor.simulate.valor import simulate

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    data = simulate(seed=48)
    adtte = {k.lower(): v for k, v in data.items()}["adtte"]
    cols = ["USUBJID", "PARAMCD", "AVAL", "CNSR", "STARTGR", "PROGGR1"]
    adtte[cols].sort_values(["PARAMCD", "USUBJID"]).to_csv(HERE / "valor_tte_seed48.csv", index=False)
    print("wrote", HERE / "valor_tte_seed48.csv", len(adtte))
