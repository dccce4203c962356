# Reference values for tests/test_dispersion_moderation.py: edgeR's quasi-likelihood
# pipeline on a simulated region x month count matrix (two windows of six months).
# Poisson GLM per row (dispersion = 0: the quasi-Poisson model of trends.compare),
# then glmQLFit's squeezing (robust = FALSE and TRUE) of the QL dispersions deviance / df.residual.zeros with
# the AveLogCPM trend (abundance.trend = TRUE) and without, and glmQLFTest.
# The Pearson dispersions of the same fits are squeezed by limma::squeezeVar with the
# same covariate, the step glmQLFit performs, on Pearson instead of deviance.
# Run from the repository root:
#   Rscript tests/reference/make_edger_reference.R tests/reference
# Produced with R 4.2.2, edgeR 3.40.2, limma 3.54.1.
suppressPackageStartupMessages({library(limma); library(edgeR)})
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[1] else "tests/reference"
set.seed(31337)
n <- 240
mu <- exp(runif(n, log(0.5), log(60)))          # mean events per month
size <- ifelse(runif(n) < 0.5, Inf, mu / 2)       # half Poisson, half NB with variance 3 mu
shape <- ifelse(runif(n) < 0.3, 5, Inf)           # some NB with fixed shape (phi rising with mu)
counts <- t(sapply(seq_len(n), function(i) {
  m <- rep(mu[i], 12) * rep(c(1, ifelse(i %% 7 == 0, 1.6, 1)), each = 6)
  if (is.finite(shape[i])) rnbinom(12, mu = m, size = shape[i])
  else if (is.finite(size[i])) rnbinom(12, mu = m, size = size[i]) else rpois(12, m)
}))
counts[1:3, ] <- 0                                # no events at all
counts[4:6, 1:6] <- 0                             # nothing before
counts[7, 7:12] <- 0                              # nothing after
counts[8, ] <- c(0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0)
colnames(counts) <- sprintf("m%02d", 1:12)
group <- factor(rep(c("before", "after"), each = 6), levels = c("before", "after"))
design <- model.matrix(~group)
lib <- rep(1e6, 12)

fit <- glmQLFit(counts, design, dispersion = 0, lib.size = lib)
qlf <- glmQLFTest(fit, coef = 2, poisson.bound = FALSE)
qlf_bound <- glmQLFTest(fit, coef = 2, poisson.bound = TRUE)
lrt <- glmLRT(fit, coef = 2)
fit_flat <- glmQLFit(counts, design, dispersion = 0, lib.size = lib, abundance.trend = FALSE)
qlf_flat <- glmQLFTest(fit_flat, coef = 2, poisson.bound = FALSE)
fit_rob <- glmQLFit(counts, design, dispersion = 0, lib.size = lib, robust = TRUE)
qlf_rob <- glmQLFTest(fit_rob, coef = 2, poisson.bound = FALSE)

pearson <- rowSums(ifelse(fit$fitted.values > 0, (counts - fit$fitted.values)^2 / fit$fitted.values, 0))
df0 <- fit$df.residual.zeros
s2p <- ifelse(df0 > 0, pearson / df0, 0)
sqp <- squeezeVar(s2p, df0, covariate = fit$AveLogCPM)

f17 <- function(x) sprintf("%.17g", x)
res <- data.frame(counts,
  AveLogCPM = f17(fit$AveLogCPM), deviance = f17(fit$deviance), df_residual = df0,
  LR = f17(lrt$table$LR),
  var_post = f17(fit$var.post), var_prior = f17(fit$var.prior), df_prior = f17(fit$df.prior),
  F = f17(qlf$table$F), df_total = f17(qlf$df.total), PValue = f17(qlf$table$PValue),
  PValue_bound = f17(qlf_bound$table$PValue),
  flat_var_post = f17(fit_flat$var.post), flat_var_prior = f17(fit_flat$var.prior),
  flat_df_prior = f17(fit_flat$df.prior), flat_PValue = f17(qlf_flat$table$PValue),
  robust_var_post = f17(fit_rob$var.post), robust_var_prior = f17(fit_rob$var.prior),
  robust_df_prior = f17(fit_rob$df.prior), robust_df_total = f17(qlf_rob$df.total),
  robust_PValue = f17(qlf_rob$table$PValue),
  pearson = f17(pearson), pearson_var_post = f17(sqp$var.post),
  pearson_var_prior = f17(sqp$var.prior), pearson_df_prior = f17(sqp$df.prior))
write.csv(res, file.path(out, "edger_qlfit.csv"), row.names = FALSE)
cat("wrote", nrow(res), "rows; df.prior", fit$df.prior, "flat", fit_flat$df.prior, "\n")
