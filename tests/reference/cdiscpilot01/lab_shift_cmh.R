# Independent checks of CMH P values in the lab shift tables, from the published counts of the
# Atorus outputs (which match the project's counts). R stats::mantelhaen.test / chisq.test.
# Rows: Placebo, Xan. Low, Xan. High; columns: shift to Normal, High; strata: baseline Normal, High.

# 14-6.06 Transaminase 1.5 x ULN (outputs/14-6.06.rtf)
x <- array(c(79, 77, 77, 3, 1, 3,
             0, 1, 0, 2, 1, 0), dim = c(3, 2, 2))
print(mantelhaen.test(x)$p.value)   # 0.4046841 (the published table prints 0.015)

# 14-6.05 Bilirubin (outputs/14-6.05.rtf): the baseline-High stratum holds one subject, so
# mantelhaen.test stops ("sample size in each stratum must be > 1") and Atorus prints no P value.
# That stratum carries no information (zero variance); the CMH general association statistic of
# the remaining stratum is (N - 1) / N times Pearson's chi-square (2 df).
b <- array(c(83, 79, 77, 1, 0, 2,
             0, 0, 0, 0, 0, 1), dim = c(3, 2, 2))
print(inherits(try(mantelhaen.test(b), silent = TRUE), "try-error"))   # TRUE
t <- b[, , 1]
s <- suppressWarnings(chisq.test(t, correct = FALSE)$statistic)
print(unname(pchisq(s * (sum(t) - 1) / sum(t), 2, lower.tail = FALSE)))   # 0.3566829

# 14-6.05 Glucose: the same situation (baseline-High stratum: one Placebo subject)
g <- array(c(83, 79, 78, 0, 1, 2,
             1, 0, 0, 0, 0, 0), dim = c(3, 2, 2))
print(inherits(try(mantelhaen.test(g), silent = TRUE), "try-error"))   # TRUE
t <- g[, , 1]
s <- suppressWarnings(chisq.test(t, correct = FALSE)$statistic)
print(unname(pchisq(s * (sum(t) - 1) / sum(t), 2, lower.tail = FALSE)))   # 0.3535099

# 14-6.05 Eosinophils: the same situation (baseline-High stratum: one Xan. Low subject)
e <- array(c(83, 73, 72, 0, 5, 6,
             0, 1, 0, 0, 0, 0), dim = c(3, 2, 2))
print(inherits(try(mantelhaen.test(e), silent = TRUE), "try-error"))   # TRUE
t <- e[, , 1]
s <- suppressWarnings(chisq.test(t, correct = FALSE)$statistic)
print(unname(pchisq(s * (sum(t) - 1) / sum(t), 2, lower.tail = FALSE)))   # 0.04383508

# 14-6.05 Lymphocytes: no subject is high at baseline, so there is a single stratum and
# mantelhaen.test stops ("each dimension in table must be >= 2"); Atorus prints no P value
l <- array(c(82, 79, 78, 1, 0, 0), dim = c(3, 2, 1))
print(inherits(try(mantelhaen.test(l), silent = TRUE), "try-error"))   # TRUE
t <- l[, , 1]
s <- suppressWarnings(chisq.test(t, correct = FALSE)$statistic)
print(unname(pchisq(s * (sum(t) - 1) / sum(t), 2, lower.tail = FALSE)))   # 0.3883753
