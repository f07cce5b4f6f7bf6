# Reference values for trialsupp's MMRM on the CDISC pilot ADAS-Cog (ACTOT) data.
# Run from the repository root:  Rscript tests/reference/mmrm/adas_mmrm_reference.R
# Needs nlme, emmeans, lme4, pbkrtest, haven, jsonlite.  Output: adas_mmrm_reference.json
suppressPackageStartupMessages({
  library(nlme); library(emmeans); library(lme4); library(pbkrtest); library(haven); library(jsonlite)
})
d <- as.data.frame(read_xpt("data/cdiscpilot01/adadas.xpt"))
a <- subset(d, PARAMCD == "ACTOT" & EFFFL == "Y" & ITTFL == "Y" & AVISITN %in% c(8, 16, 24) &
              DTYPE == "" & ANL01FL == "Y" & !is.na(CHG))
a$AVISIT <- factor(a$AVISIT, levels = c("Week 8", "Week 16", "Week 24"))
a$TRTP <- factor(a$TRTP, levels = c("Placebo", "Xanomeline High Dose", "Xanomeline Low Dose"))
a$SITEGR1 <- factor(a$SITEGR1)
a$USUBJID <- factor(a$USUBJID)
a$VIS <- as.integer(a$AVISIT)
a <- a[order(a$USUBJID, a$VIS), ]
form <- CHG ~ TRTP * AVISIT + SITEGR1 + BASE * AVISIT
X <- model.matrix(form, a)
logdetXtX <- as.numeric(determinant(crossprod(X))$modulus)

coefs <- function(fit) {
  s <- summary(fit)$tTable
  list(term = rownames(s), estimate = unname(s[, 1]), std.error = unname(s[, 2]))
}
emm_list <- function(fit, ...) {
  e <- emmeans(fit, ~ TRTP | AVISIT, ...)
  s <- as.data.frame(summary(e))
  dd <- as.data.frame(summary(contrast(e, "trt.vs.ctrl", ref = 1, adjust = "none"), infer = c(TRUE, TRUE), adjust = "none"))
  list(lsmeans = list(visit = as.character(s$AVISIT), arm = as.character(s$TRTP),
                      estimate = s$emmean, std.error = s$SE, df = s$df,
                      conf.low = s$lower.CL, conf.high = s$upper.CL),
       diffs = list(visit = as.character(dd$AVISIT), contrast = as.character(dd$contrast),
                    estimate = dd$estimate, std.error = dd$SE, df = dd$df,
                    conf.low = dd$lower.CL, conf.high = dd$upper.CL,
                    statistic = dd$t.ratio, p.value = dd$p.value))
}
out <- list(n_obs = nrow(a), n_subjects = nlevels(droplevels(a$USUBJID)), logdetXtX = logdetXtX,
            versions = list(R = R.version.string, nlme = as.character(packageVersion("nlme")),
                            emmeans = as.character(packageVersion("emmeans")),
                            lme4 = as.character(packageVersion("lme4")),
                            pbkrtest = as.character(packageVersion("pbkrtest"))))
ctl <- glsControl(tolerance = 1e-10, msTol = 1e-10, maxIter = 500, msMaxIter = 500)

# Unstructured: general correlation + visit-specific variances, REML
us <- gls(form, data = a, correlation = corSymm(form = ~ VIS | USUBJID),
          weights = varIdent(form = ~ 1 | AVISIT), method = "REML", control = ctl)
out$us <- c(coefs(us), list(logLik = as.numeric(logLik(us)),
            sigma = matrix(as.numeric(unclass(getVarCov(us, individual = levels(a$USUBJID)[which(table(a$USUBJID) == 3)[1]]))), 3, 3),
            emm_satterthwaite = emm_list(us, mode = "satterthwaite"),
            emm_dferror = emm_list(us, mode = "df.error")))
# ML unstructured
usml <- update(us, method = "ML")
out$us_ml <- c(coefs(usml), list(logLik = as.numeric(logLik(usml))))
# AR(1), homogeneous
ar1 <- gls(form, data = a, correlation = corAR1(form = ~ VIS | USUBJID), method = "REML", control = ctl)
out$ar1 <- c(coefs(ar1), list(logLik = as.numeric(logLik(ar1)),
             rho = unname(coef(ar1$modelStruct$corStruct, unconstrained = FALSE)), sigma2 = ar1$sigma^2))
# Homogeneous Toeplitz = stationary ARMA(2, 0) correlation for 3 visits
toep <- gls(form, data = a, correlation = corARMA(form = ~ VIS | USUBJID, p = 2), method = "REML", control = ctl)
out$toep <- c(coefs(toep), list(logLik = as.numeric(logLik(toep)),
              sigma = matrix(as.numeric(unclass(getVarCov(toep, individual = levels(a$USUBJID)[which(table(a$USUBJID) == 3)[1]]))), 3, 3)))
# Compound symmetry
cs <- gls(form, data = a, correlation = corCompSymm(form = ~ VIS | USUBJID), method = "REML", control = ctl)
out$cs <- c(coefs(cs), list(logLik = as.numeric(logLik(cs))))
# Compound symmetry as random intercept (lme4) with Kenward-Roger via pbkrtest
lm4 <- lmer(CHG ~ TRTP * AVISIT + SITEGR1 + BASE * AVISIT + (1 | USUBJID), data = a, REML = TRUE,
            control = lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5)))
Vkr <- as.matrix(vcovAdj(lm4))
out$cs_lmer <- list(term = names(fixef(lm4)), estimate = unname(fixef(lm4)),
                    std.error = sqrt(diag(as.matrix(vcov(lm4)))), std.error.kr = sqrt(diag(Vkr)),
                    vc = as.data.frame(VarCorr(lm4))$vcov, m2reml = -2 * as.numeric(logLik(lm4)),
                    emm_kr = emm_list(lm4, lmer.df = "kenward-roger"))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/mmrm/adas_mmrm_reference.json")
cat("written\n")
