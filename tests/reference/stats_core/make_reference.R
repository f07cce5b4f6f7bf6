# Reference values for trialsupp.stats core modules (descriptive, tests, cmh, ancova).
# Run from the repository root:  Rscript tests/reference/stats_core/make_reference.R
# Writes tests/reference/stats_core/reference.json (tests read it; CI never runs R).
suppressPackageStartupMessages({
  library(haven); library(jsonlite); library(emmeans); library(coin); library(survival)
})
dat <- "data/cdiscpilot01"
out <- list()
out$R_version <- R.version.string
out$packages <- list(emmeans = as.character(packageVersion("emmeans")),
                     coin = as.character(packageVersion("coin")))

# ---- quantiles: SAS QNTLDEF=5 == R type 2 -------------------------------------------------
qv <- list(a = 1:10, b = c(2.5, 7.1, 3.3, 9.0, 4.4, 4.4, 1.2), c = c(5), d = c(3, 1, 2, 8))
out$quantile <- lapply(qv, function(x) list(
  x = x, q1 = unname(quantile(x, .25, type = 2)), median = unname(quantile(x, .5, type = 2)),
  q3 = unname(quantile(x, .75, type = 2)), q1_type7 = unname(quantile(x, .25, type = 7))))

# ---- ADSL demographics (Table 14-2.01), ITT = safety = all 254 --------------------------
adsl <- read_xpt(file.path(dat, "adsl.xpt"))
adsl <- adsl[adsl$ITTFL == "Y", ]
adsl$TRT01P <- factor(adsl$TRT01P, levels = c("Placebo", "Xanomeline Low Dose", "Xanomeline High Dose"))
summ <- function(x) list(N = sum(!is.na(x)), mean = mean(x, na.rm = TRUE), sd = sd(x, na.rm = TRUE),
                         median = unname(quantile(x, .5, type = 2, na.rm = TRUE)),
                         q1 = unname(quantile(x, .25, type = 2, na.rm = TRUE)),
                         q3 = unname(quantile(x, .75, type = 2, na.rm = TRUE)),
                         min = min(x, na.rm = TRUE), max = max(x, na.rm = TRUE))
out$summary_age <- lapply(split(adsl$AGE, adsl$TRT01P), summ)
out$summary_bmi <- lapply(split(adsl$BMIBL, adsl$TRT01P), summ)
a <- anova(lm(AGE ~ TRT01P, data = adsl))
out$anova_age <- list(statistic = a$`F value`[1], df_num = a$Df[1], df_den = a$Df[2], p = a$`Pr(>F)`[1])
a <- anova(lm(BMIBL ~ TRT01P, data = adsl))
out$anova_bmi <- list(statistic = a$`F value`[1], df_num = a$Df[1], df_den = a$Df[2], p = a$`Pr(>F)`[1])
chi <- function(v) {
  t <- suppressWarnings(chisq.test(table(adsl[[v]], adsl$TRT01P), correct = FALSE))
  list(statistic = unname(t$statistic), df = unname(t$parameter), p = t$p.value,
       min_expected = min(t$expected))
}
out$chisq <- list(AGEGR1 = chi("AGEGR1"), SEX = chi("SEX"), RACE = chi("RACE"), ETHNIC = chi("ETHNIC"))
out$tab_race <- lapply(split(adsl$RACE, adsl$TRT01P), function(x) as.list(table(factor(x, levels = sort(unique(adsl$RACE))))))

# ---- Fisher exact ------------------------------------------------------------------------
ftabs <- list(
  t2x2 = matrix(c(10, 3, 2, 15), 2),
  t3x3 = matrix(c(3, 1, 0, 1, 4, 2, 2, 2, 5), 3),
  t3x3b = matrix(c(20, 12, 5, 15, 25, 9, 10, 30, 16), 3),
  t2x5 = matrix(c(5, 0, 3, 2, 1, 6, 0, 4, 2, 2), 2),
  t4x3 = matrix(c(2, 0, 1, 5, 3, 2, 0, 1, 1, 4, 2, 3), 4),
  race = unclass(table(adsl$RACE, adsl$TRT01P)))
out$fisher <- lapply(ftabs, function(m) list(table = unname(lapply(seq_len(nrow(m)), function(i) unname(m[i, ]))),
                                            p = fisher.test(m, workspace = 2e8)$p.value))

# ---- rank tests -------------------------------------------------------------------------
two <- droplevels(adsl[adsl$TRT01P %in% c("Placebo", "Xanomeline High Dose"), ])
w <- wilcox.test(AGE ~ TRT01P, data = two, exact = FALSE, correct = TRUE)
out$wilcox_age <- list(statistic = unname(w$statistic), p = w$p.value)
small <- data.frame(y = c(1.1, 2.3, 0.4, 5.6, 3.2, 4.8, 6.1, 7.7), g = rep(c("A", "B"), each = 4))
w <- wilcox.test(y ~ g, data = small)
out$wilcox_small <- list(y = small$y, g = small$g, statistic = unname(w$statistic), p = w$p.value)
k <- kruskal.test(AGE ~ TRT01P, data = adsl)
out$kruskal_age <- list(statistic = unname(k$statistic), df = unname(k$parameter), p = k$p.value)

# ---- CMH ---------------------------------------------------------------------------------
# Hand-coded Landis-Heyman-Koch statistics (independent of the Python code), scores given per stratum
lhk <- function(tab, rs, cs, type = "table") {
  K <- dim(tab)[3]; R <- dim(tab)[1]; C <- dim(tab)[2]
  sc <- function(margin, table_scores) {
    if (type == "table") return(table_scores)
    rk <- cumsum(margin) - margin + (margin + 1) / 2
    n <- sum(margin)
    switch(type, rank = rk, ridit = rk / n, modridit = rk / (n + 1))
  }
  res <- list()
  for (h in c("general", "rmeans", "corr")) {
    G <- 0; V <- 0
    for (k in seq_len(K)) {
      n <- tab[, , k]; N <- sum(n)
      if (N < 2) next
      pr <- rowSums(n) / N; pc <- colSums(n) / N
      # vec in row-major order: as.vector(t(n))
      dev <- as.vector(t(n)) - N * kronecker(pr, pc)
      Vk <- N^2 / (N - 1) * kronecker(diag(pr, R) - pr %o% pr, diag(pc, C) - pc %o% pc)
      a <- sc(colSums(n), cs); cc <- sc(rowSums(n), rs)
      A <- switch(h,
        general = kronecker(cbind(diag(R - 1), 0), cbind(diag(C - 1), 0)),
        rmeans = kronecker(cbind(diag(R - 1), 0), t(a)),
        corr = kronecker(t(cc), t(a)))
      G <- G + A %*% dev; V <- V + A %*% Vk %*% t(A)
    }
    q <- as.numeric(t(G) %*% solve(V) %*% G); df <- nrow(V)
    res[[h]] <- list(statistic = q, df = df, p = pchisq(q, df, lower.tail = FALSE))
  }
  res
}
adsl$SEXF <- factor(adsl$SEX)
tab1 <- table(adsl$TRT01PN, adsl$AGEGR1N, adsl$SEXF)
mh <- mantelhaen.test(tab1)
out$cmh_agegr <- list(
  tables = lapply(seq_len(dim(tab1)[3]), function(k) unname(lapply(seq_len(nrow(tab1)), function(i) unname(as.vector(tab1[i, , k]))))),
  mantelhaen = list(statistic = unname(mh$statistic), df = unname(mh$parameter), p = mh$p.value),
  table = lhk(tab1, c(0, 54, 81), c(1, 2, 3), "table"),
  modridit = lhk(tab1, c(0, 54, 81), c(1, 2, 3), "modridit"),
  rank = lhk(tab1, c(0, 54, 81), c(1, 2, 3), "rank"))
# coin cross-checks (asymptotic, permutation variance == hypergeometric variance)
adsl$TRTF <- factor(adsl$TRT01PN); adsl$AGEF <- factor(adsl$AGEGR1N)
ct <- cmh_test(AGEF ~ TRTF | SEXF, data = adsl)
out$cmh_agegr$coin_general <- unname(statistic(ct))
adsl$AGEO <- ordered(adsl$AGEGR1N)
ct2 <- cmh_test(AGEO ~ TRTF | SEXF, data = adsl, scores = list(AGEO = c(1, 2, 3)))
out$cmh_agegr$coin_rmeans <- unname(statistic(ct2))
adsl$TRTO <- ordered(adsl$TRT01PN)
lb <- lbl_test(AGEO ~ TRTO | SEXF, data = adsl, scores = list(AGEO = c(1, 2, 3), TRTO = c(0, 54, 81)))
out$cmh_agegr$coin_corr <- unname(statistic(lb))^2

adcibc <- read_xpt(file.path(dat, "adcibc.xpt"))
cib <- adcibc[which(adcibc$EFFFL == "Y" & adcibc$ITTFL == "Y" & adcibc$AVISITN == 24 & adcibc$ANL01FL == "Y"), ]
tab2 <- table(factor(cib$TRTPN), factor(cib$AVAL, levels = sort(unique(cib$AVAL))), factor(cib$SITEGR1))
mh2 <- mantelhaen.test(tab2)
lev <- as.numeric(dimnames(tab2)[[2]])
out$cmh_cibic <- list(
  n = nrow(cib),
  mantelhaen = list(statistic = unname(mh2$statistic), df = unname(mh2$parameter), p = mh2$p.value),
  table = lhk(tab2, c(0, 54, 81), lev, "table"),
  modridit = lhk(tab2, c(0, 54, 81), lev, "modridit"),
  ridit = lhk(tab2, c(0, 54, 81), lev, "ridit"))

# 2x2xK: classic Mantel-Haenszel without continuity correction (hand-checkable)
t22 <- array(c(12, 8, 5, 15,   7, 3, 6, 9,   4, 6, 2, 10), dim = c(2, 2, 3))
mh3 <- mantelhaen.test(t22, correct = FALSE)
out$cmh_2x2xk <- list(
  tables = lapply(1:3, function(k) unname(lapply(1:2, function(i) unname(as.vector(t22[i, , k]))))),
  statistic = unname(mh3$statistic), p = mh3$p.value)

# ---- ANCOVA: CDISC pilot Table 14-3.01 (as RConsortium submissions-pilot1 eff_models.R) --
op <- options(contrasts = c("contr.sum", "contr.poly"))
adas <- read_xpt(file.path(dat, "adadas.xpt"))
adas <- adas[which(adas$EFFFL == "Y" & adas$ITTFL == "Y" & adas$PARAMCD == "ACTOT" & adas$ANL01FL == "Y" &
             adas$AVISITN == 24), ]
adas$TRTF <- factor(adas$TRTP, levels = c("Placebo", "Xanomeline Low Dose", "Xanomeline High Dose"))
m1 <- lm(CHG ~ TRTPN + SITEGR1 + BASE, data = adas)
d1 <- drop1(m1, . ~ ., test = "F")
m2 <- lm(CHG ~ TRTF + SITEGR1 + BASE, data = adas)
d2 <- drop1(m2, . ~ ., test = "F")
em_p <- emmeans(m2, ~TRTF, weights = "proportional")
em_e <- emmeans(m2, ~TRTF)
df_em <- function(e) { s <- summary(e); lapply(split(s, s$TRTF), function(r) list(
  estimate = r$emmean, std.error = r$SE, df = r$df, conf.low = r$lower.CL, conf.high = r$upper.CL)) }
ctr <- function(e) {
  s <- summary(contrast(e, method = "pairwise", adjust = "none"), infer = c(TRUE, TRUE))
  lapply(split(s, s$contrast), function(r) list(estimate = r$estimate, std.error = r$SE, df = r$df,
    statistic = r$t.ratio, p = r$p.value, conf.low = r$lower.CL, conf.high = r$upper.CL))
}
out$ancova_adas <- list(
  n = nrow(adas),
  dose = list(statistic = d1["TRTPN", "F value"], p = d1["TRTPN", "Pr(>F)"],
              estimate = unname(coef(m1)["TRTPN"]), std.error = unname(sqrt(vcov(m1)["TRTPN", "TRTPN"]))),
  type3 = lapply(c(TRTF = "TRTF", SITEGR1 = "SITEGR1", BASE = "BASE"), function(t)
    list(statistic = d2[t, "F value"], df = d2[t, "Df"], p = d2[t, "Pr(>F)"], ss = d2[t, "Sum of Sq"])),
  sigma = summary(m2)$sigma,
  lsmeans_proportional = df_em(em_p), lsmeans_equal = df_em(em_e),
  diffs = ctr(em_p))

# log-scale ANCOVA: ALT at week 24 (ADLBC), log(AVAL) ~ TRTP + log(BASE)
adlb <- read_xpt(file.path(dat, "adlbc.xpt"))
alt <- adlb[which(adlb$PARAMCD == "ALT" & adlb$AVISITN == 24 & adlb$SAFFL == "Y" & !is.na(adlb$AVAL) &
            !is.na(adlb$BASE) & adlb$AVAL > 0 & adlb$BASE > 0), ]  # which(): NA conditions drop the row
alt <- alt[!duplicated(alt$USUBJID), ]
alt$TRTF <- factor(alt$TRTP, levels = c("Placebo", "Xanomeline Low Dose", "Xanomeline High Dose"))
alt$LBASE <- log(alt$BASE)
m3 <- lm(log(AVAL) ~ TRTF + LBASE, data = alt)
e3 <- emmeans(m3, ~TRTF)
c3 <- summary(contrast(e3, method = "trt.vs.ctrl", adjust = "none"), infer = c(TRUE, TRUE))
out$ancova_alt_log <- list(
  usubjid = alt$USUBJID, n = nrow(alt),
  lsmeans = df_em(e3),
  ratios = lapply(split(c3, c3$contrast), function(r) list(
    ratio = exp(r$estimate), conf.low = exp(r$lower.CL), conf.high = exp(r$upper.CL), p = r$p.value)))
# geometric mean of baseline ALT by arm (t-based CI on the log scale)
gm <- function(x) { l <- log(x); n <- length(l); h <- qt(.975, n - 1) * sd(l) / sqrt(n)
  list(N = n, geomean = exp(mean(l)), conf.low = exp(mean(l) - h), conf.high = exp(mean(l) + h)) }
out$geomean_alt_base <- lapply(split(alt$BASE, alt$TRTF), gm)
options(op)

writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           "tests/reference/stats_core/reference.json")
cat("wrote tests/reference/stats_core/reference.json\n")
