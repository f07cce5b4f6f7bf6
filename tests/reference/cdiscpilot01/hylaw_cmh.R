# Independent check of the 14-6.06 Transaminase 1.5 x ULN P value (CMH general association of
# arm x post-baseline shift, stratified by baseline status), from the published counts of
# Atorus outputs/14-6.06.rtf (which match the project's counts). R stats::mantelhaen.test.
# Rows: Placebo, Xan. Low, Xan. High; columns: shift to Normal, High; strata: baseline Normal, High.
x <- array(c(79, 77, 77, 3, 1, 3,
             0, 1, 0, 2, 1, 0), dim = c(3, 2, 2))
print(mantelhaen.test(x)$p.value)   # 0.4046841 (the published table prints 0.015)
