# Independent R reference values for CDISCPILOT01 safety-side outputs.
# Run: cd /work/main && Rscript tests/reference/cdiscpilot01/safety.R
# Writes tests/reference/cdiscpilot01/safety_reference.json (tests read the JSON; CI has no R).
suppressMessages({library(haven); library(jsonlite)})
d <- "data/cdiscpilot01"
adsl <- read_xpt(file.path(d, "adsl.xpt")); adae <- read_xpt(file.path(d, "adae.xpt"))
adsl$TRT01P <- factor(adsl$TRT01P, levels = c("Placebo", "Xanomeline Low Dose", "Xanomeline High Dose"))
itt <- adsl[adsl$ITTFL == "Y", ]
out <- list()
# 14-2.01: ANOVA and Pearson chi-square (no correction; tables are >= 2 x 3)
for (v in c("AGE", "MMSETOT", "DURDIS", "EDUCLVL", "WEIGHTBL", "HEIGHTBL", "BMIBL")) {
  out[[paste0("anova_", v)]] <- summary(aov(itt[[v]] ~ itt$TRT01P))[[1]][["Pr(>F)"]][1]
  for (a in levels(itt$TRT01P)) {
    x <- na.omit(itt[[v]][itt$TRT01P == a])
    out[[paste0("mean_", v, "_", a)]] <- mean(x); out[[paste0("sd_", v, "_", a)]] <- sd(x)
    out[[paste0("median_", v, "_", a)]] <- median(x)
  }
}
race <- ifelse(itt$ETHNIC == "HISPANIC OR LATINO", "Hispanic", itt$RACE)
cats <- list(AGEGR1 = itt$AGEGR1, SEX = itt$SEX, RACEORIG = race, DURDSGR1 = itt$DURDSGR1, BMIBLGR1 = itt$BMIBLGR1,
             RACE = itt$RACE)
for (v in names(cats)) out[[paste0("chisq_", v)]] <- suppressWarnings(chisq.test(table(cats[[v]], itt$TRT01P), correct = FALSE)$p.value)
# 14-1.02: Fisher exact (r x c) on all subjects
out$fisher_COMP24FL <- fisher.test(table(adsl$COMP24FL, adsl$TRT01P))$p.value
out$fisher_AE <- fisher.test(table(adsl$DCSREAS == "Adverse Event", adsl$TRT01P))$p.value
out$fisher_LOE <- fisher.test(table(adsl$DCSREAS == "Lack of Efficacy", adsl$TRT01P))$p.value
# 14-5.01: any TEAE and selected terms, Fisher 2 x 2 vs placebo
ae <- adae[adae$SAFFL == "Y" & adae$TRTEMFL == "Y", ]
N <- table(adsl$TRT01P[adsl$SAFFL == "Y"])
f2 <- function(subj, arm) {
  n0 <- length(unique(subj$USUBJID[subj$TRTA == "Placebo"])); n1 <- length(unique(subj$USUBJID[subj$TRTA == arm]))
  fisher.test(matrix(c(n0, n1, N[["Placebo"]] - n0, N[[arm]] - n1), 2))$p.value
}
for (term in c("ANY", "APPLICATION SITE PRURITUS", "DIZZINESS", "ERYTHEMA")) {
  sub <- if (term == "ANY") ae else ae[ae$AETERM == term, ]
  out[[paste0("ae_n_", term, "_Placebo")]] <- length(unique(sub$USUBJID[sub$TRTA == "Placebo"]))
  out[[paste0("ae_n_", term, "_Xanomeline High Dose")]] <- length(unique(sub$USUBJID[sub$TRTA == "Xanomeline High Dose"]))
  out[[paste0("ae_events_", term, "_Xanomeline High Dose")]] <- sum(sub$TRTA == "Xanomeline High Dose")
  out[[paste0("ae_p_", term, "_Xanomeline Low Dose")]] <- f2(sub, "Xanomeline Low Dose")
  out[[paste0("ae_p_", term, "_Xanomeline High Dose")]] <- f2(sub, "Xanomeline High Dose")
}
# 14-4.01 safety population exposure
for (a in levels(adsl$TRT01P)) {
  x <- adsl$AVGDD[adsl$SAFFL == "Y" & adsl$TRT01P == a]; out[[paste0("avgdd_mean_", a)]] <- mean(x)
  x <- adsl$CUMDOSE[adsl$SAFFL == "Y" & adsl$TRT01P == a]; out[[paste0("cumdose_mean_", a)]] <- mean(x)
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           "tests/reference/cdiscpilot01/safety_reference.json")
cat("wrote", length(out), "values\n")
