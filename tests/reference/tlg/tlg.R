# Independent R reference values for the standard outputs of trialsupp.tlg on the CDISC pilot ADaM.
# Run from the repository root: Rscript tests/reference/tlg/tlg.R
# Writes tests/reference/tlg/tlg_reference.json (the tests read the JSON; CI has no R).
# Selections follow the trialsupp.tlg defaults (arm TRT01A from ADSL, SAFFL = Y, screen failures out).
suppressMessages({library(haven); library(jsonlite); library(survival)})
d <- "data/cdiscpilot01"
rd <- function(n) as.data.frame(read_xpt(file.path(d, paste0(n, ".xpt"))))
adsl <- rd("adsl"); adae <- rd("adae"); adlbc <- rd("adlbc"); adtte <- rd("adtte")
arms <- c("Placebo", "Xanomeline Low Dose", "Xanomeline High Dose")
saf <- adsl[adsl$SAFFL == "Y", c("USUBJID", "TRT01A")]
q2 <- function(x, p) unname(quantile(x, p, type = 2))
summ <- function(x) { x <- x[!is.na(x)]
  list(N = length(x), mean = mean(x), sd = if (length(x) > 1) sd(x) else NULL, median = median(x),
       q1 = q2(x, 0.25), q3 = q2(x, 0.75), min = min(x), max = max(x)) }
out <- list(R = R.version.string, survival = as.character(packageVersion("survival")))

# demographics (ITT, TRT01P, as CSR 14-2.01): AGE summary with SAS quartiles, SEX counts
itt <- adsl[adsl$ITTFL == "Y", ]
out$demographics <- lapply(setNames(arms, arms), function(a) {
  s <- itt[itt$TRT01P == a, ]
  list(AGE = summ(s$AGE), SEX_F = sum(s$SEX == "F"), SEX_M = sum(s$SEX == "M"), N = nrow(s)) })
out$demographics$Total <- list(AGE = summ(itt$AGE), SEX_F = sum(itt$SEX == "F"), N = nrow(itt))

# AEs by SOC/PT: treatment-emergent, distinct subjects per arm, % of the ADSL safety N
ae <- merge(adae[adae$TRTEMFL == "Y", c("USUBJID", "AEBODSYS", "AEDECOD", "AESER", "AESEV", "AEOUT")],
            saf, by = "USUBJID")
Nsaf <- table(factor(saf$TRT01A, levels = arms))
cnt <- function(rows) sapply(arms, function(a) length(unique(rows$USUBJID[rows$TRT01A == a])))
out$ae <- list(N = as.list(Nsaf), any = as.list(cnt(ae)),
  serious = as.list(cnt(ae[ae$AESER == "Y", ])), severe = as.list(cnt(ae[ae$AESEV == "SEVERE", ])),
  fatal = as.list(cnt(ae[ae$AEOUT == "FATAL", ])),
  soc = lapply(split(ae, ae$AEBODSYS), function(s) as.list(cnt(s))),
  pt = lapply(split(ae, paste(ae$AEBODSYS, ae$AEDECOD, sep = "|")), function(s) as.list(cnt(s))))
# terms at >= 5% in at least one arm
pt_p <- sapply(out$ae$pt, function(v) max(unlist(v) / as.numeric(Nsaf)))
out$ae$pt_5pct <- sort(names(pt_p)[pt_p >= 0.05])

# lab summary by visit: ADLBC creatinine, every record with a visit, value and change (post-baseline)
lb <- merge(adlbc[adlbc$PARAMCD == "CREAT" & adlbc$AVISIT != "", ], saf, by = "USUBJID", suffixes = c(".lb", ""))
out$lab <- lapply(setNames(arms, arms), function(a) {
  s <- lb[lb$TRT01A == a, ]
  list(AVAL = lapply(split(s$AVAL, s$AVISIT), summ),
       CHG = lapply(split(s$CHG[s$ABLFL != "Y"], s$AVISIT[s$ABLFL != "Y"]), summ)) })

# shift ALT: post-baseline records with ANL01FL = Y, End of Treatment excluded
sh <- merge(adlbc[adlbc$PARAMCD == "ALT" & adlbc$ANL01FL == "Y" & adlbc$AVISITN != 99 & adlbc$ABLFL != "Y"
                  & adlbc$BNRIND != "" & adlbc$ANRIND != "", ], saf, by = "USUBJID", suffixes = c(".lb", ""))
out$shift <- lapply(setNames(arms, arms), function(a) {
  s <- sh[sh$TRT01A == a, ]; tb <- table(factor(s$BNRIND, levels = c("N", "H")), factor(s$ANRIND, levels = c("N", "H")))
  list(NN = tb["N", "N"], NH = tb["N", "H"], HN = tb["H", "N"], HH = tb["H", "H"]) })

# time to event: TTDE, Kaplan-Meier (log-log CI) and Cox (Efron) vs placebo
tt <- merge(adtte[adtte$PARAMCD == "TTDE", c("USUBJID", "AVAL", "CNSR")], saf, by = "USUBJID")
tt$TRT01A <- factor(tt$TRT01A, levels = arms)
fit <- survfit(Surv(AVAL, 1 - CNSR) ~ TRT01A, data = tt, conf.type = "log-log")
qq <- quantile(fit, probs = c(0.25, 0.5, 0.75))
nm <- function(m) setNames(lapply(seq_len(nrow(m)), function(i) as.list(setNames(unname(m[i, ]), c("q1", "median", "q3")))), arms)
cx <- coxph(Surv(AVAL, 1 - CNSR) ~ TRT01A, data = tt, ties = "efron")
sc <- summary(cx)
out$tte <- list(n = as.list(setNames(fit$n, arms)), events = as.list(setNames(summary(fit)$table[, "events"], arms)),
  quantile = nm(qq$quantile), lower = nm(qq$lower), upper = nm(qq$upper),
  hr = as.list(setNames(unname(sc$conf.int[, "exp(coef)"]), arms[-1])),
  hr_low = as.list(setNames(unname(sc$conf.int[, "lower .95"]), arms[-1])),
  hr_high = as.list(setNames(unname(sc$conf.int[, "upper .95"]), arms[-1])),
  hr_p = as.list(setNames(unname(sc$coefficients[, "Pr(>|z|)"]), arms[-1])))
sm <- summary(fit, times = c(0, 50, 100, 150))
out$tte$at_risk <- list(strata = sub("TRT01A=", "", as.character(sm$strata)), time = sm$time, n_risk = sm$n.risk)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", na = "null", pretty = TRUE),
           "tests/reference/tlg/tlg_reference.json")
