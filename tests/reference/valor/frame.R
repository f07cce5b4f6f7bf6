# Independent reference for the VALOR time-to-event frame (seed 48, final data):
# Kaplan-Meier medians (log-log CI), numbers at risk, Cox HR (Efron, Wald CI) and
# RMST difference (survival:::survmean variance) per population and end point.
# Data: valor_tte_seed48.csv (export_frame_data.py). Output: frame_reference.json.
# Run from the project root: Rscript tests/reference/valor/frame.R
suppressPackageStartupMessages({library(survival); library(jsonlite)})
here <- "tests/reference/valor"
d <- read.csv(file.path(here, "valor_tte_seed48.csv"), stringsAsFactors = FALSE)
d$weeks <- d$AVAL / 7
d$event <- 1 - d$CNSR
d$grp <- factor(d$STARTGR, levels = c("Delayed start", "Early start"))
pops <- list(itt = function(x) x, faster = function(x) x[x$PROGGR1 == "Faster progression", ])
ends <- c("DTHPV", "DTH")
step <- 12        # OLE visit interval (weeks): tau is rounded down to a multiple of it
risk_step <- 48

# tau: shortest of the groups' longest follow-up over every analysed data set
maxes <- c()
for (p in names(pops)) for (e in ends) {
  x <- pops[[p]](d[d$PARAMCD == e, ])
  maxes <- c(maxes, tapply(x$weeks, x$grp, max))
}
tau <- floor(min(maxes) / step) * step

out <- list(tau = tau, survival_version = as.character(packageVersion("survival")), results = list())
for (p in names(pops)) for (e in ends) {
  x <- pops[[p]](d[d$PARAMCD == e, ])
  fit <- survfit(Surv(weeks, event) ~ grp, data = x, conf.type = "log-log")
  q <- quantile(fit, probs = 0.5)
  times <- seq(0, max(x$weeks), by = risk_step)
  s <- summary(fit, times = times, extend = TRUE)
  cx <- coxph(Surv(weeks, event) ~ grp, data = x, ties = "efron")
  ci <- exp(confint(cx))
  tab <- summary(fit, rmean = tau)$table
  rm <- tab[, "rmean"]; se <- tab[, "se(rmean)"]
  diff <- unname(rm[2] - rm[1]); sed <- sqrt(sum(se^2))
  key <- paste0(tolower(e), "-", p)
  grp_names <- c("Delayed start", "Early start")
  out$results[[key]] <- list(
    n = setNames(as.list(as.integer(fit$n)), grp_names),
    n_event = setNames(as.list(as.integer(tapply(x$event, x$grp, sum))), grp_names),
    median = setNames(lapply(1:2, function(i) unname(c(q$quantile[i], q$lower[i], q$upper[i]))), grp_names),
    at_risk = list(times = times,
                   delayed = s$n.risk[s$strata == "grp=Delayed start"],
                   early = s$n.risk[s$strata == "grp=Early start"]),
    hr = unname(c(exp(coef(cx)), ci[1], ci[2])),
    rmst = setNames(lapply(1:2, function(i) unname(c(rm[i], se[i]))), grp_names),
    rmst_diff = c(diff, diff - qnorm(0.975) * sed, diff + qnorm(0.975) * sed))
}
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null", pretty = TRUE),
           file.path(here, "frame_reference.json"))
cat("wrote", file.path(here, "frame_reference.json"), "tau =", tau, "\n")
