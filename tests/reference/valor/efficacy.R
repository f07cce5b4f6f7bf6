# Independent reference values for the simulated VALOR efficacy analyses (seed 48, 12-month cut).
# Run from the repo root after python tests/reference/valor/export_data.py:
#   Rscript tests/reference/valor/efficacy.R   -> tests/reference/valor/efficacy.json
suppressPackageStartupMessages({ library(nlme); library(emmeans); library(jsonlite) })
a <- read.csv("tests/reference/valor/alsfrs_w52.csv")
a$AVISIT <- factor(a$AVISIT, levels = c("Week 16", "Week 28", "Week 40", "Week 52"))
a$STARTGR <- factor(a$STARTGR, levels = c("Delayed start", "Early start"))
a$PROGGR1 <- factor(a$PROGGR1)
a$VIS <- as.integer(a$AVISIT)
a <- a[order(a$USUBJID, a$VIS), ]
ctl <- glsControl(tolerance = 1e-10, msTol = 1e-10, maxIter = 500, msMaxIter = 500)
fit <- gls(CHG ~ STARTGR * AVISIT + BASE + PROGGR1, data = a, correlation = corSymm(form = ~ VIS | USUBJID),
           weights = varIdent(form = ~ 1 | AVISIT), method = "REML", control = ctl)
e <- emmeans(fit, ~ STARTGR | AVISIT, mode = "satterthwaite")
s <- as.data.frame(summary(e))
d <- as.data.frame(summary(contrast(e, "revpairwise"), infer = c(TRUE, TRUE)))
w52 <- s[s$AVISIT == "Week 52", ]
dd <- d[d$AVISIT == "Week 52", ]
n <- read.csv("tests/reference/valor/nfl_w28.csv")
n$TRT01P <- factor(n$TRT01P, levels = c("Placebo", "Tofersen 100 mg"))
lf <- lm(log(R2BASE) ~ TRT01P + BASEL, data = n)
en <- as.data.frame(summary(emmeans(lf, ~ TRT01P), type = "response"))
out <- list(
  versions = list(R = R.version.string, nlme = as.character(packageVersion("nlme")),
                  emmeans = as.character(packageVersion("emmeans"))),
  w52_lsmeans = list(group = as.character(w52$STARTGR), estimate = w52$emmean, std.error = w52$SE),
  w52_diff = list(estimate = dd$estimate, std.error = dd$SE),
  nfl_w28_geomean = list(arm = as.character(en$TRT01P), geomean = en$response),
  nfl_w28_ratio = exp(unname(coef(lf)["TRT01PTofersen 100 mg"])))
write_json(out, "tests/reference/valor/efficacy.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
