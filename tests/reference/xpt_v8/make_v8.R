# SAS V8 transport file for tests/data/test_manifest.py (run from the repository root):
#   Rscript tests/reference/xpt_v8/make_v8.R
# The first 20 ADSL rows of the CDISC pilot (V5 file), a few variables, plus what only V8
# can hold: a variable name longer than 8 characters and a label longer than 40.
library(haven)
adsl <- read_xpt("data/cdiscpilot01/adsl.xpt")
v8 <- as.data.frame(adsl[1:20, c("USUBJID", "TRT01P", "AGE", "SEX", "TRTSDT")])
v8$PLANNEDTREATMENTARM <- v8$TRT01P
attr(v8$PLANNEDTREATMENTARM, "label") <- "Planned Treatment for Period 01, written as a SAS V8 long label"
write_xpt(v8, "tests/data/xpt_v8/adsl_v8.xpt", version = 8, name = "ADSL")
write.csv(v8, "tests/data/xpt_v8/adsl_v8.csv", row.names = FALSE)
