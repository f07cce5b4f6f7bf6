# Reference values from R survival (3.5-x) for trialsupp.stats.survival / cox / rmst.
# Run: cd tests/reference/survival && Rscript make_survival_reference.R
# Writes CSV data sets and survival_reference.json (read by tests/stats/*; CI has no R).
suppressPackageStartupMessages({library(survival); library(jsonlite); library(haven)})

out <- list(R = R.version.string, survival = as.character(packageVersion("survival")))

# ---- data sets -------------------------------------------------------------
lung2 <- survival::lung
lung2$event <- as.integer(lung2$status == 2)
write.csv(lung2, "lung.csv", row.names = FALSE, na = "")
vet <- survival::veteran
write.csv(vet, "veteran.csv", row.names = FALSE)
tiny <- list(
  half_mid  = data.frame(time = c(1, 2, 3, 4, 5, 6), event = c(1, 1, 1, 0, 1, 1)),
  half_end  = data.frame(time = c(1, 2, 3, 4), event = c(1, 1, 0, 0)),
  ties      = data.frame(time = c(2, 2, 2, 3, 3, 5, 7, 7, 8, 10, 10, 12, 12, 15),
                         event = c(1, 1, 0, 1, 0, 1, 1, 1, 0, 1, 0, 1, 1, 0)),
  to_zero   = data.frame(time = c(1, 3, 4, 4, 6, 9), event = c(1, 0, 1, 1, 1, 1))
)
for (nm in names(tiny)) write.csv(tiny[[nm]], paste0("tiny_", nm, ".csv"), row.names = FALSE)
adtte <- as.data.frame(haven::read_xpt("../../../data/cdiscpilot01/adtte.xpt"))
adtte <- adtte[adtte$PARAMCD == "TTDE" & adtte$SAFFL == "Y", ]
adtte$event <- 1 - adtte$CNSR

# ---- Kaplan-Meier ----------------------------------------------------------
km_table <- function(fit) {
  s <- if (is.null(fit$strata)) rep("all", length(fit$time)) else
    rep(sub("^[^=]*=", "", names(fit$strata)), fit$strata)
  data.frame(strata = s, time = fit$time, n.risk = fit$n.risk, n.event = fit$n.event,
             n.censor = fit$n.censor, surv = fit$surv, std.err = fit$std.err,
             lower = fit$lower, upper = fit$upper)
}
km_quant <- function(fit) {
  q <- quantile(fit, probs = c(0.25, 0.5, 0.75))
  f <- function(m) { m <- as.matrix(m); if (ncol(m) == 1) m <- t(m); m }
  list(strata = if (is.null(fit$strata)) "all" else sub("^[^=]*=", "", names(fit$strata)),
       quantile = f(q$quantile), lower = f(q$lower), upper = f(q$upper))
}
km <- list()
for (ct in c("log-log", "log", "plain")) {
  fl <- survfit(Surv(time, event) ~ sex, data = lung2, conf.type = ct)
  fv <- survfit(Surv(time, status) ~ trt, data = vet, conf.type = ct)
  fa <- survfit(Surv(AVAL, event) ~ TRTA, data = adtte, conf.type = ct)
  tag <- gsub("-", "", ct)
  write.csv(km_table(fl), paste0("km_lung_", tag, ".csv"), row.names = FALSE, na = "")
  write.csv(km_table(fv), paste0("km_veteran_", tag, ".csv"), row.names = FALSE, na = "")
  write.csv(km_table(fa), paste0("km_adtte_", tag, ".csv"), row.names = FALSE, na = "")
  km[[ct]] <- list(lung = km_quant(fl), veteran = km_quant(fv), adtte = km_quant(fa))
  for (nm in names(tiny)) {
    ft <- survfit(Surv(time, event) ~ 1, data = tiny[[nm]], conf.type = ct)
    write.csv(km_table(ft), paste0("km_tiny_", nm, "_", tag, ".csv"), row.names = FALSE, na = "")
    km[[ct]][[paste0("tiny_", nm)]] <- km_quant(ft)
  }
}
# print() medians and CIs (survmean rule) for comparison with quantile()
pm <- summary(survfit(Surv(time, event) ~ sex, data = lung2, conf.type = "log-log"))$table
km$print_lung <- list(median = unname(pm[, "median"]), lcl = unname(pm[, "0.95LCL"]),
                      ucl = unname(pm[, "0.95UCL"]))
out$km <- km

# at-risk table of the CDISC pilot KM figure (R Submission Pilot 1, figure 14-1)
fa <- survfit(Surv(AVAL, event) ~ TRTA, data = adtte)
sa <- summary(fa, times = seq(0, 200, 20), extend = TRUE)
out$adtte_at_risk <- data.frame(strata = sub("^[^=]*=", "", as.character(sa$strata)),
  time = sa$time, n.risk = sa$n.risk, n.event = sa$n.event, n.censor = sa$n.censor,
  surv = sa$surv, lower = sa$lower, upper = sa$upper)
# cumulative events / censored up to each time (per arm)
cum <- do.call(rbind, lapply(split(adtte, adtte$TRTA), function(d) {
  data.frame(strata = d$TRTA[1], time = seq(0, 200, 20),
             cum.event = sapply(seq(0, 200, 20), function(t) sum(d$AVAL <= t & d$event == 1)),
             cum.censor = sapply(seq(0, 200, 20), function(t) sum(d$AVAL <= t & d$event == 0)),
             n.risk = sapply(seq(0, 200, 20), function(t) sum(d$AVAL >= t)))
}))
out$adtte_cum <- cum
sl <- summary(survfit(Surv(time, event) ~ sex, data = lung2), times = c(0, 100, 365, 500, 1100), extend = TRUE)
out$lung_at_times <- data.frame(strata = sub("^[^=]*=", "", as.character(sl$strata)),
  time = sl$time, n.risk = sl$n.risk, n.event = sl$n.event, n.censor = sl$n.censor,
  surv = sl$surv, std.err = sl$std.err, lower = sl$lower, upper = sl$upper)

# ---- log-rank (survdiff) ---------------------------------------------------
sd_list <- function(s) list(chisq = s$chisq, df = length(s$n) - 1,
  p = pchisq(s$chisq, length(s$n) - 1, lower.tail = FALSE),
  obs = as.numeric(if (is.matrix(s$obs)) rowSums(s$obs) else s$obs),
  exp = as.numeric(if (is.matrix(s$exp)) rowSums(s$exp) else s$exp),
  var = unname(s$var), n = as.numeric(s$n))
out$survdiff <- list(
  lung_sex = sd_list(survdiff(Surv(time, event) ~ sex, data = lung2)),
  lung_sex_rho1 = sd_list(survdiff(Surv(time, event) ~ sex, data = lung2, rho = 1)),
  lung_sex_rho05 = sd_list(survdiff(Surv(time, event) ~ sex, data = lung2, rho = 0.5)),
  vet_trt_strata = sd_list(survdiff(Surv(time, status) ~ trt + strata(celltype), data = vet)),
  vet_trt_strata_rho1 = sd_list(survdiff(Surv(time, status) ~ trt + strata(celltype), data = vet, rho = 1)),
  vet_celltype = sd_list(survdiff(Surv(time, status) ~ celltype, data = vet)),
  adtte_trta = sd_list(survdiff(Surv(AVAL, event) ~ TRTA, data = adtte)))

# ---- Cox ---------------------------------------------------------------------
cox_list <- function(fit) {
  s <- summary(fit)
  list(coef = unname(coef(fit)), se = unname(sqrt(diag(vcov(fit)))), names = names(coef(fit)),
       z = unname(s$coefficients[, "z"]), p = unname(s$coefficients[, "Pr(>|z|)"]),
       hr = unname(exp(coef(fit))), lower = unname(s$conf.int[, "lower .95"]),
       upper = unname(s$conf.int[, "upper .95"]), loglik = unname(fit$loglik),
       score = unname(fit$score), wald = unname(fit$wald.test),
       lrt = unname(2 * diff(fit$loglik)), df = length(coef(fit)),
       n = fit$n, nevent = fit$nevent, iter = fit$iter, vcov = unname(vcov(fit)))
}
lcc <- na.omit(lung2[, c("time", "event", "sex", "age", "ph.ecog")])
write.csv(lcc, "lung_cc.csv", row.names = FALSE)
out$cox <- list(
  lung_efron = cox_list(coxph(Surv(time, event) ~ sex + age + ph.ecog, data = lcc, ties = "efron")),
  lung_breslow = cox_list(coxph(Surv(time, event) ~ sex + age + ph.ecog, data = lcc, ties = "breslow")),
  lung_sex_efron = cox_list(coxph(Surv(time, event) ~ sex, data = lcc, ties = "efron")),
  lung_sex_breslow = cox_list(coxph(Surv(time, event) ~ sex, data = lcc, ties = "breslow")),
  vet_strata_efron = cox_list(coxph(Surv(time, status) ~ trt + karno + strata(celltype), data = vet, ties = "efron")),
  vet_strata_breslow = cox_list(coxph(Surv(time, status) ~ trt + karno + strata(celltype), data = vet, ties = "breslow")),
  adtte_efron = cox_list(coxph(Surv(AVAL, event) ~ factor(TRTA, levels = c("Placebo", "Xanomeline Low Dose", "Xanomeline High Dose")), data = adtte, ties = "efron")))

# ---- RMST (survival:::survmean variance, = survRM2) --------------------------
rmst_list <- function(fit, tau) {
  tb <- summary(fit, rmean = tau)$table
  est <- unname(tb[, "rmean"]); se <- unname(tb[, "se(rmean)"])
  d <- est[2] - est[1]; sed <- sqrt(se[1]^2 + se[2]^2)
  list(strata = sub("^[^=]*=", "", rownames(tb)), rmean = est, se = se, tau = tau,
       diff = d, diff_se = sed, diff_low = d - qnorm(0.975) * sed, diff_high = d + qnorm(0.975) * sed,
       diff_p = 2 * pnorm(-abs(d / sed)))
}
out$rmst <- list(
  lung_365 = rmst_list(survfit(Surv(time, event) ~ sex, data = lung2), 365),
  vet_200 = rmst_list(survfit(Surv(time, status) ~ trt, data = vet), 200),
  adtte_180 = rmst_list(survfit(Surv(AVAL, event) ~ TRTA,
                                data = adtte[adtte$TRTA != "Xanomeline Low Dose", ]), 180))

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null"),
           "survival_reference.json")
