# Independent reference for trialsupp.stats.jointrank (Finkelstein-Schoenfeld joint rank test)
# and trialsupp.stats.mi (Rubin's rules). A plain double loop over pairs; coin gives the
# permutation-variance Z as a second, independent check.
# Run: cd tests/reference/survival && Rscript make_jointrank_reference.R
suppressPackageStartupMessages({library(coin); library(jsonlite)})
set.seed(20240601)
N <- 108
arm <- rep(c("Active", "Placebo"), c(72, 36))
base <- round(rnorm(N, 36, 6))
age <- round(rnorm(N, 50, 12))
# fatal event (death or permanent ventilation) within 196 days; drop-outs censor earlier
haz <- ifelse(arm == "Active", 1 / 900, 1 / 600)
tdeath <- round(rexp(N, haz))
tdrop <- ifelse(runif(N) < 0.12, round(runif(N, 30, 190)), 196)
time <- pmin(tdeath, tdrop, 196)
fatal <- as.integer(tdeath <= pmin(tdrop, 196))
# ALSFRS-R change at week 28 (integer, ties); missing when dead or dropped out before week 28
chg <- round(-8 + ifelse(arm == "Active", 2.5, 0) + 0.15 * (base - 36) + rnorm(N, 0, 5))
chg_obs <- ifelse(time < 196, NA, chg)
chg_full <- chg  # complete version (no missing) for the single-data tests
d <- data.frame(id = sprintf("S%03d", 1:N), arm = arm, base = base, age = age, time = time,
                fatal = fatal, chg = chg_obs, chg_full = chg_full)
write.csv(d, "jointrank_data.csv", row.names = FALSE, na = "")

fs_scores <- function(time, fatal, y) {
  n <- length(time); u <- numeric(n)
  for (i in 1:n) for (j in 1:n) {
    if (i == j) next
    s <- min(time[i], time[j])
    ei <- fatal[i] == 1 && time[i] <= s
    ej <- fatal[j] == 1 && time[j] <= s
    r <- 0
    if (ei && ej) {
      if (time[i] < time[j]) r <- -1 else if (time[i] > time[j]) r <- 1
    } else if (ei) r <- -1 else if (ej) r <- 1
    if (r == 0 && !(ei && ej && time[i] != time[j])) {
      if (!is.na(y[i]) && !is.na(y[j])) r <- sign(y[i] - y[j])
    }
    u[i] <- u[i] + r
  }
  u
}
fs_test <- function(u, trt) {
  N <- length(u); m <- sum(trt); n <- N - m
  T <- sum(u[trt]); V <- m * n / (N * (N - 1)) * sum(u^2)
  list(T = T, var = V, z = T / sqrt(V), p = 2 * pnorm(-abs(T / sqrt(V))))
}
trt <- d$arm == "Active"
u <- fs_scores(d$time, d$fatal, d$chg_full)
res <- fs_test(u, trt)
it <- independence_test(u ~ factor(arm, levels = c("Active", "Placebo")), data = d,
                        distribution = "asymptotic", teststat = "scalar")
res$coin_z <- as.numeric(statistic(it, "standardized"))
res$coin_p <- as.numeric(pvalue(it))
res$scores <- u

# Stokes-Koch nonparametric (rank) ANCOVA: residuals of the scores regressed on the
# ranks of the covariates (no treatment term), then the permutation (CMH-type) test.
rk <- lm(u ~ rank(base) + rank(age), data = d)
r <- residuals(rk)
ra <- fs_test(r, trt)
it2 <- independence_test(r ~ factor(arm, levels = c("Active", "Placebo")), distribution = "asymptotic",
                         teststat = "scalar")
ra$coin_z <- as.numeric(statistic(it2, "standardized"))
# same with covariates on the original scale
rl <- residuals(lm(u ~ base + age, data = d))
rb <- fs_test(rl, trt)

# hand-checkable tiny example (5 subjects)
tiny <- data.frame(time = c(100, 50, 196, 196, 80), fatal = c(1, 1, 0, 0, 0),
                   y = c(NA, NA, -3, 2, -1), arm = c("A", "B", "A", "B", "A"))
ut <- fs_scores(tiny$time, tiny$fatal, tiny$y)
write.csv(tiny, "jointrank_tiny.csv", row.names = FALSE, na = "")

# ---- Rubin's rules (formulas of Rubin 1987; Barnard & Rubin 1999; Li, Raghunathan & Rubin 1991)
rubin <- function(q, u, dfcom = Inf) {
  m <- length(q); qbar <- mean(q); ubar <- mean(u); b <- var(q)
  t <- ubar + (1 + 1 / m) * b; r <- (1 + 1 / m) * b / ubar; lambda <- (1 + 1 / m) * b / t
  df_old <- (m - 1) / lambda^2
  df_obs <- if (is.finite(dfcom)) (dfcom + 1) / (dfcom + 3) * dfcom * (1 - lambda) else Inf
  df <- if (is.finite(dfcom)) 1 / (1 / df_old + 1 / df_obs) else df_old
  fmi <- (r + 2 / (df + 3)) / (r + 1)
  se <- sqrt(t); tq <- qt(0.975, df)
  list(qbar = qbar, ubar = ubar, b = b, t = t, se = se, riv = r, lambda = lambda, df = df,
       fmi = fmi, low = qbar - tq * se, high = qbar + tq * se,
       p = 2 * pt(-abs(qbar / se), df))
}
q <- c(1.72, 1.35, 1.91, 1.48, 1.60)
se <- c(0.41, 0.44, 0.39, 0.43, 0.40)
d2 <- function(dm, k) {
  m <- length(dm); r2 <- (1 + 1 / m) * var(sqrt(dm))
  D2 <- (mean(dm) / k - (m + 1) / (m - 1) * r2) / (1 + r2)
  df2 <- k^(-3 / m) * (m - 1) * (1 + 1 / r2)^2
  list(D2 = D2, df1 = k, df2 = df2, p = pf(D2, k, df2, lower.tail = FALSE), r2 = r2)
}
chis <- c(4.1, 2.9, 5.3, 3.6, 4.4)
out <- list(fs = res, koch = ra, ancova_raw = rb, tiny_scores = ut,
            rubin = list(q = q, se = se, large = rubin(q, se^2), small = rubin(q, se^2, dfcom = 40)),
            d2 = list(chisq = chis, k = 1, res = d2(chis, 1)),
            rubin_z = list(z = c(2.1, 1.7, 2.4, 1.9), res = rubin(c(2.1, 1.7, 2.4, 1.9), rep(1, 4))))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), "jointrank_reference.json")
