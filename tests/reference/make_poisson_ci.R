# Exact Poisson intervals for the counts and exposures of the shared reference files,
# computed to full precision. epitools::pois.exact finds its bounds with uniroot at R's
# default tolerance (.Machine$double.eps^0.25), so the shared poisson_exact_ci.csv is
# accurate to about 1e-4 of the mean only; here the same equations are solved by
# qgamma (as stats::poisson.test does) and by uniroot with tol = 1e-14.
# Run: Rscript tests/reference/make_poisson_ci.R ../shared/reference tests/reference
args <- commandArgs(trailingOnly = TRUE)
shared <- args[1]; out <- args[2]
for (series in c("iraq", "agona")) {
  ref <- read.csv(file.path(shared, series, "poisson_exact_ci.csv"))
  x <- ref$count; pt <- ref$exposure
  q_lower <- ifelse(x == 0, 0, qgamma(0.025, x)) / pt
  q_upper <- qgamma(0.975, x + 1) / pt
  f1 <- function(mu, x) ppois(x, mu) - 0.025
  f2 <- function(mu, x) 1 - ppois(x, mu) + dpois(x, mu) - 0.025
  u_upper <- sapply(x, function(k) uniroot(f1, c(0, 5 * k + 4), x = k, tol = 1e-14)$root) / pt
  u_lower <- sapply(x, function(k) if (k == 0) 0 else
    uniroot(f2, c(0, 5 * k + 4), x = k, tol = 1e-14)$root) / pt
  write.csv(data.frame(count = x, exposure = pt, lower = q_lower, upper = q_upper,
                       lower_uniroot = u_lower, upper_uniroot = u_upper),
            file.path(out, paste0("poisson_exact_ci_precise_", series, ".csv")), row.names = FALSE)
}
