# Independent R reference values for the CDISCPILOT01 efficacy outputs (trialsupp
# analyses.cdiscpilot01.efficacy). Run from the project root:
#   Rscript tests/reference/cdiscpilot01/efficacy.R
# Needs haven, arrow (for adnpix.parquet; skipped if absent), emmeans, nlme, coin, survival, jsonlite.
# Writes tests/reference/cdiscpilot01/efficacy_reference.json (read by the tests; CI has no R).
suppressPackageStartupMessages({
  library(haven); library(emmeans); library(nlme); library(coin); library(survival); library(jsonlite)
})
dd <- "data/cdiscpilot01"
rd <- function(x) as.data.frame(read_xpt(file.path(dd, paste0(x, ".xpt"))))
adsl <- rd("adsl"); adas <- rd("adadas"); cibc <- rd("adcibc"); lb <- rd("adlbc"); tte <- rd("adtte")
ARMS <- c("Placebo", "Xanomeline Low Dose", "Xanomeline High Dose")
eff_ids <- adsl$USUBJID[adsl$EFFFL == "Y"]
sel <- function(d, p) d[d$PARAMCD == p & d$ANL01FL == "Y" & d$ITTFL == "Y" & d$USUBJID %in% eff_ids, ]

desc <- function(d, var) {
  out <- list()
  for (a in ARMS) {
    x <- d[d$TRTP == a, var]; x <- x[!is.na(x)]
    out[[a]] <- list(N = length(x), mean = mean(x), sd = sd(x), median = median(x), min = min(x), max = max(x))
  }
  out
}
ancova <- function(d, y, base) {
  op <- options(contrasts = c("contr.sum", "contr.poly")); on.exit(options(op))
  d$TRT <- factor(d$TRTP, levels = ARMS); d$SITEGR1 <- factor(d$SITEGR1)
  f1 <- if (base) as.formula(paste(y, "~ TRTPN + SITEGR1 + BASE")) else as.formula(paste(y, "~ TRTPN + SITEGR1"))
  f2 <- if (base) as.formula(paste(y, "~ TRT + SITEGR1 + BASE")) else as.formula(paste(y, "~ TRT + SITEGR1"))
  m1 <- lm(f1, d); m2 <- lm(f2, d)
  dose <- drop1(m1, . ~ ., test = "F")["TRTPN", "Pr(>F)"]
  lsm <- emmeans(m2, ~ TRT, weights = "proportional")
  pr <- as.data.frame(summary(contrast(lsm, method = "revpairwise", adjust = "none"),
                              infer = c(TRUE, TRUE)))
  ls <- as.data.frame(lsm)
  list(dose_p = dose,
       lsmeans = list(arm = as.character(ls$TRT), estimate = ls$emmean, std.error = ls$SE,
                      conf.low = ls$lower.CL, conf.high = ls$upper.CL),
       diffs = list(contrast = as.character(pr$contrast), estimate = pr$estimate, std.error = pr$SE,
                    df = pr$df, conf.low = pr$lower.CL, conf.high = pr$upper.CL, p.value = pr$p.value))
}
anc_table <- function(d, wk, base) {
  w <- d[d$AVISITN == wk, ]
  if (base) {
    list(baseline = desc(d[d$AVISITN == 0, ], "AVAL"), week = desc(w, "AVAL"), chg = desc(w, "CHG"),
         model = ancova(w, "CHG", TRUE), header_n = as.list(table(factor(unique(d[, c("USUBJID", "TRTP")])$TRTP, ARMS))))
  } else {
    list(week = desc(w, "AVAL"), model = ancova(w, "AVAL", FALSE),
         header_n = as.list(table(factor(unique(d[, c("USUBJID", "TRTP")])$TRTP, ARMS))))
  }
}
A <- sel(adas, "ACTOT"); C <- sel(cibc, "CIBICVAL")
out <- list(R = R.version.string,
            versions = list(emmeans = as.character(packageVersion("emmeans")),
                            nlme = as.character(packageVersion("nlme")),
                            coin = as.character(packageVersion("coin")),
                            survival = as.character(packageVersion("survival"))))
out[["14-3.01"]] <- anc_table(A, 24, TRUE)
out[["14-3.02"]] <- anc_table(C, 24, FALSE)
out[["14-3.03"]] <- anc_table(A, 8, TRUE)
out[["14-3.04"]] <- anc_table(C, 8, FALSE)
out[["14-3.05"]] <- anc_table(A, 16, TRUE)
out[["14-3.06"]] <- anc_table(C, 16, FALSE)
out[["14-3.07"]] <- anc_table(A[A$COMP24FL == "Y" & A$DTYPE != "LOCF", ], 24, TRUE)
out[["14-3.08"]] <- anc_table(A[A$SEX == "M", ], 24, TRUE)
out[["14-3.09"]] <- anc_table(A[A$SEX == "F", ], 24, TRUE)

# 14-3.10: by visit, windowed (observed) and LOCF
t10 <- list()
for (v in c(8, 16, 24)) {
  win <- A[A$AVISITN == v & A$DTYPE != "LOCF", ]; locf <- A[A$AVISITN == v, ]
  t10[[paste0("Week ", v, " (Windowed)")]] <- list(AVAL = desc(win, "AVAL"), BASE = desc(win, "BASE"), CHG = desc(win, "CHG"))
  t10[[paste0("Week ", v, " LOCF")]] <- list(AVAL = desc(locf, "AVAL"), BASE = desc(locf, "BASE"), CHG = desc(locf, "CHG"))
}
t10[["Baseline"]] <- list(AVAL = desc(A[A$AVISITN == 0, ], "AVAL"))
out[["14-3.10"]] <- t10

# 14-3.11: MMRM, unstructured, REML by nlme::gls (estimates and model-based SEs; no KR in nlme)
M <- A[A$DTYPE != "LOCF" & A$AVISITN > 0 & !is.na(A$CHG), ]
M$AVISIT <- factor(M$AVISIT, levels = c("Week 8", "Week 16", "Week 24"))
M$TRT <- factor(M$TRTP, levels = ARMS); M$SITEGR1 <- factor(M$SITEGR1); M$USUBJID <- factor(M$USUBJID)
M$VIS <- as.integer(M$AVISIT); M <- M[order(M$USUBJID, M$VIS), ]
g <- gls(CHG ~ TRT * AVISIT + SITEGR1 + BASE * AVISIT, data = M,
         correlation = corSymm(form = ~ VIS | USUBJID), weights = varIdent(form = ~ 1 | AVISIT),
         method = "REML", control = glsControl(tolerance = 1e-10, msTol = 1e-10, maxIter = 500, msMaxIter = 500))
e <- emmeans(g, ~ TRT | AVISIT, mode = "satterthwaite", at = list(AVISIT = "Week 24"))
es <- as.data.frame(summary(e))
cs <- as.data.frame(summary(contrast(e, method = "revpairwise", adjust = "none"), infer = c(TRUE, TRUE)))
out[["14-3.11"]] <- list(n_obs = nrow(M), logLik = as.numeric(logLik(g)),
  lsmeans = list(arm = as.character(es$TRT), estimate = es$emmean, std.error = es$SE),
  diffs = list(contrast = as.character(cs$contrast), estimate = cs$estimate, std.error = cs$SE))

# 14-3.12 NPI-X (adnpix.parquet, if arrow is installed)
if (requireNamespace("arrow", quietly = TRUE) && file.exists(file.path(dd, "adnpix.parquet"))) {
  N <- as.data.frame(arrow::read_parquet(file.path(dd, "adnpix.parquet")))
  N <- N[N$PARAMCD == "NPTOTMN" & N$ANL01FL %in% "Y" & N$ITTFL == "Y" & N$USUBJID %in% eff_ids, ]
  N$CHG <- N$AVAL - N$BASE
  w <- N[N$AVISITN == 98, ]
  out[["14-3.12"]] <- list(baseline = desc(N[N$AVISITN == 0, ], "AVAL"), week = desc(w, "AVAL"),
                           model = ancova(w, "CHG", TRUE))
}

# 14-3.13: counts and CMH row mean scores (coin, table scores), stratified by SITEGR1
t13 <- list()
for (v in c(8, 16, 24)) {
  w <- C[C$AVISITN == v, ]
  w$TRT <- factor(w$TRTP, levels = ARMS); w$SITEGR1 <- factor(w$SITEGR1)
  lv <- sort(unique(w$AVAL)); w$Y <- factor(w$AVAL, levels = lv, ordered = TRUE)
  ct <- cmh_test(Y ~ TRT | SITEGR1, data = w, scores = list(Y = lv))
  tab <- table(factor(w$TRTP, ARMS), factor(w$AVAL, levels = 1:7))
  t13[[paste0("Week ", v)]] <- list(p.value = as.numeric(pvalue(ct)), statistic = as.numeric(statistic(ct)),
                                   counts = lapply(setNames(ARMS, ARMS), function(a) as.integer(tab[a, ])),
                                   n = lapply(setNames(ARMS, ARMS), function(a) sum(tab[a, ])))
}
out[["14-3.13"]] <- t13

# Pilot 1 glucose (tlf-efficacy.Rmd)
itt <- adsl[adsl$ITTFL == "Y", c("STUDYID", "USUBJID")]
G <- merge(lb, itt, by = c("STUDYID", "USUBJID"), all.y = TRUE)
G <- G[G$TRTPN %in% c(0, 81) & G$PARAMCD %in% "GLUC" & !is.na(G$AVISITN), ]
G$TRTPN <- ifelse(G$TRTPN == 0, 99, G$TRTPN)
fit <- lm(CHG ~ BASE + TRTPN, data = G[G$AVISITN == 20, ])
t12 <- as.data.frame(emmeans(fit, "TRTPN"))
pw <- as.data.frame(pairs(emmeans(fit, "TRTPN")))
b0 <- G[G$AVISITN == 0, ]; w20 <- G[G$AVISITN == 20 & !is.na(G$CHG) & !is.na(G$BASE), ]
gs <- function(d, v) lapply(split(d[[v]], d$TRTP), function(x) list(N = length(x), mean = mean(x), sd = sd(x)))
out[["pilot1-glucose"]] <- list(
  baseline = gs(b0, "BASE"), week20 = gs(w20, "AVAL"), chg = gs(w20, "CHG"),
  lsmeans = list(TRTPN = t12$TRTPN, estimate = t12$emmean, conf.low = t12$lower.CL, conf.high = t12$upper.CL),
  diff = list(estimate = pw$estimate, std.error = pw$SE, p.value = pw$p.value,
              lower196 = pw$estimate - 1.96 * pw$SE, upper196 = pw$estimate + 1.96 * pw$SE),
  rmse = sqrt(mean(fit$residuals^2)))

# Figure 14-1: KM, log CI (survfit default, as visR::estimate_KM), safety population, by TRT01A
K <- merge(adsl[adsl$SAFFL == "Y", c("STUDYID", "USUBJID", "TRT01A")],
           tte[tte$PARAMCD == "TTDE", c("STUDYID", "USUBJID", "AVAL", "CNSR")], by = c("STUDYID", "USUBJID"))
K$TRT01A <- factor(K$TRT01A, levels = ARMS)
sf <- survfit(Surv(AVAL, 1 - CNSR) ~ TRT01A, data = K)
sr <- summary(sf, times = seq(0, 200, 20), extend = TRUE)
st <- summary(sf, censored = TRUE)
out[["14-1"]] <- list(
  at_risk = list(strata = sub("TRT01A=", "", as.character(sr$strata)), time = sr$time, n_risk = sr$n.risk),
  curve = list(strata = sub("TRT01A=", "", as.character(st$strata)), time = st$time, surv = st$surv,
               lower = st$lower, upper = st$upper, n_censor = st$n.censor),
  median = list(strata = sub("TRT01A=", "", rownames(summary(sf)$table)), median = unname(summary(sf)$table[, "median"])))

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null"),
           "tests/reference/cdiscpilot01/efficacy_reference.json")
cat("written\n")
