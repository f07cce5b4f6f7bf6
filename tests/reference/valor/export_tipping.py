"""Export the delta-adjusted completed data sets of the tipping-point analysis (seed 48,
final cut; week 52 delta 0 and -3, week 148 delta 0) for tests/reference/valor/tipping.R."""
import warnings

import pandas as pd

from studies.valor import sensitivity as sv
from studies.valor.simulate.calibrate import cut_datasets
from studies.valor.simulate.valor import simulate

warnings.simplefilter("ignore")
d = cut_datasets(simulate(seed=48), "final")
parts = []
for week, delta in ((52, 0.0), (52, -3.0), (148, 0.0)):
    c = sv.completed_data(d, week, delta, n_imputations=10, seed=48)
    parts.append(c.assign(KEY=f"w{week}_d{delta:g}"))
pd.concat(parts).to_csv("tests/reference/valor/tipping_completed.csv", index=False)
