# Breakpoints of R's segmented (Muggeo 2003, 2008) on the monthly Iraq series, for
# comparison with trends.joinpoints (benchmarks/joinpoints_vs_segmented.py runs both).
# Usage: Rscript joinpoints_vs_segmented.R SERIES.csv OUT.csv
# Model: Poisson GLM count ~ t (t = months since 2004-01, from 0), log link; for each
# k = 1..3 breakpoints, segmented(..., npsi = k) with its default bootstrap restarts
# (seed 1); selgmented(type = "bic", Kmax = 3) chooses k by BIC.
suppressPackageStartupMessages(library(segmented))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE, encoding = "UTF-8")
d <- d[d$month >= "2004-01" & d$month <= "2018-12", ]
out <- list()
for (r in unique(d$region)) {
  g <- d[d$region == r, ]
  g$t <- seq_len(nrow(g)) - 1
  fit0 <- glm(count ~ t, family = poisson, data = g)
  for (k in 1:3) {
    set.seed(1)
    s <- tryCatch(segmented(fit0, seg.Z = ~t, npsi = k,
                            control = seg.control(n.boot = 20)),
                  error = function(e) NULL)
    psi <- if (is.null(s) || is.null(s$psi)) NA else paste(round(sort(s$psi[, "Est."]), 2), collapse = ";")
    dev <- if (is.null(s) || is.null(s$psi)) NA else deviance(s)
    out[[length(out) + 1]] <- data.frame(region = r, k = k, psi = psi, deviance = dev)
  }
  set.seed(1)
  sel <- tryCatch(selgmented(fit0, seg.Z = ~t, Kmax = 3, type = "bic", msg = FALSE),
                  error = function(e) NULL)
  kbic <- if (is.null(sel)) NA else if (is.null(sel$psi)) 0 else nrow(sel$psi)
  psi <- if (is.null(sel) || is.null(sel$psi)) "" else paste(round(sort(sel$psi[, "Est."]), 2), collapse = ";")
  out[[length(out) + 1]] <- data.frame(region = r, k = -kbic - 1, psi = psi, deviance = NA)
}
res <- do.call(rbind, out)
write.csv(res, args[2], row.names = FALSE, fileEncoding = "UTF-8")
