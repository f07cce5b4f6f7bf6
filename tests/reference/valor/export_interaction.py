"""Export the subgroup-interaction analysis frame (seed 5, final cut) for interaction.R."""
import warnings

from studies.valor import efficacy as ef
from studies.valor.simulate.calibrate import cut_datasets
from studies.valor.simulate.valor import simulate

warnings.simplefilter("ignore")
d = cut_datasets(simulate(seed=5), "final")
cols = ["USUBJID", "EARLY", "BLALSFRS", "CHG", "AVAL", "EVENT", *ef.SUBGROUPS]
ef.interaction_frame(d)[cols].to_csv("tests/reference/valor/interaction_seed5.csv", index=False)
