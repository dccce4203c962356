# Reference values for tests/test_dispersion_moderation.py: limma::fitFDist,
# limma::squeezeVar (robust = FALSE and TRUE, i.e. limma:::fitFDistRobustly) on
# simulated residual variances, written at full double precision.
# Run from the repository root:
#   Rscript tests/reference/make_limma_reference.R tests/reference
# Produced with R 4.2.2, limma 3.54.1 (the version is written into the CSV); the robust
# fit needs statmod (Debian: r-cran-statmod).
suppressPackageStartupMessages(library(limma))
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[1] else "tests/reference"
set.seed(20240611)

# s2 ~ sigma2 * chi2(df) / df with 1 / sigma2 ~ chi2(d0) / (d0 * s0^2)
draw <- function(n, df, d0 = 8, s0 = 1.5, trend = 0) {
  sigma2 <- if (is.finite(d0)) s0^2 * d0 / rchisq(n, d0) else rep(s0^2, n)
  sigma2 <- sigma2 * exp(trend)
  sigma2 * rchisq(n, df) / df
}

cases <- list()
add <- function(name, s2, df, covariate = NULL, robust = c(FALSE, TRUE), df_scalar = FALSE) {
  cases[[length(cases) + 1]] <<- list(name = name, s2 = s2, df = df, covariate = covariate,
                                      robust = robust, df_scalar = df_scalar)
}

n <- 120
df <- sample(1:20, n, replace = TRUE)
add("chisq_df1to20", draw(n, df), df)
add("equal_df1", draw(60, 1), 1, df_scalar = TRUE)
add("equal_df4", draw(60, 4, d0 = 3), 4, df_scalar = TRUE)
add("equal_df20", draw(60, 20, d0 = 30), 20, df_scalar = TRUE)
df <- sample(c(0, 1.5, 2.5, 3, 7, 12), 100, replace = TRUE)
s2 <- draw(100, pmax(df, 1), d0 = 4); s2[df == 0] <- NA  # df 0: var set to 0 by squeezeVar
add("mixed_df_with_zero_df", s2, df)
df <- sample(2:12, 80, replace = TRUE)
s2 <- draw(80, df); s2[c(3, 17, 40)] <- 0
add("some_zero_variances", s2, df)
s2 <- draw(40, 6); s2[1:25] <- 0
add("mostly_zero_variances", s2, rep(6, 40), robust = FALSE)
df <- sample(3:10, 120, replace = TRUE)
s2 <- draw(120, df); s2[c(5, 50, 99)] <- s2[c(5, 50, 99)] * c(1e3, 5e3, 1e4)
add("huge_outliers", s2, df)
add("infinite_d0", draw(50, 10, d0 = Inf), 10, df_scalar = TRUE)
set.seed(7); s2 <- 1 + runif(40, -0.01, 0.01)
add("underdispersed_d0_inf", s2, sample(3:9, 40, replace = TRUE))
add("two_units", c(0.7, 2.1), c(4, 9), robust = FALSE)
add("one_unit", 1.3, 5, robust = FALSE)

# covariate: log s0^2 rising with the covariate
for (nn in c(4, 8, 40, 200)) {
  cov <- runif(nn, 0, 6)
  df <- sample(2:15, nn, replace = TRUE)
  add(paste0("covariate_n", nn), draw(nn, df, trend = 0.4 * cov - 0.04 * cov^2), df, covariate = cov,
      robust = if (nn >= 40) c(FALSE, TRUE) else FALSE)
}
cov <- runif(120, -2, 4); df <- sample(c(0, 0, 3, 6, 9), 120, replace = TRUE)
s2 <- draw(120, pmax(df, 1), trend = 0.5 * cov); s2[df == 0] <- 0
cov[which(df == 0)[1:2]] <- c(-5, 8)  # excluded units beyond the range: extrapolation
add("covariate_with_zero_df", s2, df, covariate = cov)
cov <- runif(60, 0, 3); cov[c(2, 9)] <- c(-Inf, Inf); df <- sample(4:8, 60, replace = TRUE)
add("covariate_infinite_values", draw(60, df), df,
    covariate = cov, robust = FALSE)
cov <- runif(50, 0, 3); df <- rep(8, 50)
add("covariate_infinite_d0", draw(50, df, d0 = Inf, trend = 0.3 * cov), df, covariate = cov)
cov <- rep(c(1, 2), 10); df <- sample(3:8, 20, replace = TRUE)
add("covariate_two_values", draw(20, df), df, covariate = cov, robust = FALSE)

f17 <- function(x) ifelse(is.na(x), NA, sprintf("%.17g", x))
rows <- list()
for (k in seq_along(cases)) {
  cs <- cases[[k]]
  nn <- length(cs$s2)
  dfin <- if (cs$df_scalar) cs$df[1] else cs$df
  fit <- suppressWarnings(fitFDist(cs$s2, dfin, covariate = cs$covariate))
  for (rob in cs$robust) {
    sv <- suppressWarnings(squeezeVar(cs$s2, dfin, covariate = cs$covariate, robust = rob))
    rows[[length(rows) + 1]] <- data.frame(
      case = cs$name, robust = rob, i = seq_len(nn), df_scalar = cs$df_scalar,
      s2 = f17(cs$s2), df = f17(rep_len(cs$df, nn)),
      covariate = if (is.null(cs$covariate)) NA else f17(cs$covariate),
      fit_scale = f17(rep_len(fit$scale, nn)), fit_df2 = f17(rep_len(fit$df2, nn)),
      var_post = f17(sv$var.post), var_prior = f17(rep_len(sv$var.prior, nn)),
      df_prior = f17(rep_len(sv$df.prior, nn)))
  }
}
res <- do.call(rbind, rows)
res$limma <- as.character(packageVersion("limma"))
write.csv(res, file.path(out, "limma_squeezevar.csv"), row.names = FALSE)
cat("wrote", nrow(res), "rows\n")
