# Independent treatment-by-subgroup interaction P values (studies.valor.efficacy.ard_interactions):
# lm + anova F test of the EARLY x subgroup terms (observed week-52 ALSFRS-R change), and the
# likelihood-ratio test of the same terms in survival::coxph (Efron ties).
# Run from the repo root after python tests/reference/valor/export_interaction.py:
#   Rscript tests/reference/valor/interaction.R   -> tests/reference/valor/interaction.json
suppressPackageStartupMessages({ library(survival); library(jsonlite) })
d <- read.csv("tests/reference/valor/interaction_seed5.csv", stringsAsFactors = FALSE)
out <- list(R = R.version.string, survival = as.character(packageVersion("survival")))
for (v in c("PROGGR1", "SEX", "AGEGR1", "NFLTERT", "REGION")) {
  d$SUB <- factor(d[[v]])
  a <- d[!is.na(d$CHG), ]
  p_f <- anova(lm(CHG ~ EARLY + SUB + BLALSFRS, a), lm(CHG ~ EARLY * SUB + BLALSFRS, a))[2, "Pr(>F)"]
  t <- d[!is.na(d$AVAL), ]
  f1 <- coxph(Surv(AVAL, EVENT) ~ EARLY * SUB, t, ties = "efron")
  f0 <- coxph(Surv(AVAL, EVENT) ~ EARLY + SUB, t, ties = "efron")
  lr <- 2 * (f1$loglik[2] - f0$loglik[2])
  out[[v]] <- list(p.alsfrs = p_f, p.hr = pchisq(lr, nlevels(d$SUB) - 1, lower.tail = FALSE))
}
write_json(out, "tests/reference/valor/interaction.json", digits = NA, auto_unbox = TRUE, pretty = TRUE)
