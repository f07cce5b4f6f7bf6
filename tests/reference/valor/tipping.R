# Independent check of the tipping-point sensitivity analysis (studies.valor.sensitivity):
# per completed data set an lm() ANCOVA, then Rubin's rules with the Barnard-Rubin df written
# out here from Rubin (1987) and Barnard & Rubin (1999), not by the Python code.
# Run from the repo root after python tests/reference/valor/export_tipping.py:
#   Rscript tests/reference/valor/tipping.R   -> tests/reference/valor/tipping.json
suppressPackageStartupMessages(library(jsonlite))
d <- read.csv("tests/reference/valor/tipping_completed.csv")
d$EARLY <- as.numeric(d$STARTGR == "Early start")
out <- list(R = R.version.string)
for (key in unique(d$KEY)) {
  k <- d[d$KEY == key, ]
  fits <- lapply(split(k, k$IMP), function(x) lm(Y ~ EARLY + BLALSFRS + factor(PROGGR1), data = x))
  q <- sapply(fits, function(f) coef(f)[["EARLY"]])
  u <- sapply(fits, function(f) vcov(f)["EARLY", "EARLY"])
  m <- length(q); qbar <- mean(q); ubar <- mean(u); b <- var(q)
  t <- ubar + (1 + 1 / m) * b
  lam <- (1 + 1 / m) * b / t
  dfcom <- fits[[1]]$df.residual
  dfold <- (m - 1) / lam^2
  dfobs <- (dfcom + 1) / (dfcom + 3) * dfcom * (1 - lam)
  df <- 1 / (1 / dfold + 1 / dfobs)
  se <- sqrt(t)
  out[[key]] <- list(estimate = qbar, std.error = se, df = df,
                     conf.low = qbar - qt(0.975, df) * se, conf.high = qbar + qt(0.975, df) * se,
                     p.value = 2 * pt(abs(qbar / se), df, lower.tail = FALSE))
}
write_json(out, "tests/reference/valor/tipping.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
