# farringtonFlexible with the options the shared references leave at one value: the
# "muan" threshold, powertrans "1/2" and "none", no reweighting, no trend. Monthly
# series from 2004-01 as in ../shared/reference/r_reference.R, whose presets these vary.
# usage: Rscript r_farrington_variants.R SERIES_CSV OUT_CSV REGION [REGION ...]
suppressMessages(library(surveillance))
a <- commandArgs(trailingOnly = TRUE)
d <- read.csv(a[1], stringsAsFactors = FALSE)
d <- d[d$month >= "2004-01" & d$region %in% a[-(1:2)], ]
freq <- 12L; w <- 2L
farr <- list(b = 3, w = w, reweight = TRUE, weightsThreshold = 1, trend = TRUE,
             pThresholdTrend = 0.05, alpha = 0.05, noPeriods = 1, powertrans = "2/3",
             pastWeeksNotIncluded = w, thresholdMethod = "delta", limit54 = c(5, 4))
nouf <- list(b = 3, w = w, reweight = TRUE, weightsThreshold = 2.58, trend = TRUE,
             pThresholdTrend = 1, alpha = 0.05, noPeriods = 10, powertrans = "2/3",
             pastWeeksNotIncluded = 6L, thresholdMethod = "nbPlugin", limit54 = c(5, 4))
variants <- list(
  "farrington powertrans=1/2" = modifyList(farr, list(powertrans = "1/2")),
  "farrington powertrans=none" = modifyList(farr, list(powertrans = "none")),
  "farrington reweight=FALSE" = modifyList(farr, list(reweight = FALSE)),
  "noufaily thresholdMethod=muan" = modifyList(nouf, list(thresholdMethod = "muan")),
  "noufaily trend=FALSE" = modifyList(nouf, list(trend = FALSE)))
rows <- list()
for (reg in unique(d$region)) {
  s <- d[d$region == reg, ]
  n <- nrow(s)
  sts <- new("sts", observed = matrix(s$count, ncol = 1), start = c(2004, 1), freq = freq)
  rng <- (3 * freq + 3):n
  for (v in names(variants)) {
    r <- farringtonFlexible(sts, control = c(variants[[v]], list(range = rng)))
    rows[[length(rows) + 1]] <- data.frame(region = reg, period = s$month[rng],
      observed = s$count[rng], variant = v, expected = r@control$expected,
      upperbound = as.numeric(upperbound(r)), alarm = as.integer(alarms(r)),
      pvalue = r@control$pvalue)
  }
}
write.csv(do.call(rbind, rows), a[2], row.names = FALSE)
cat("R", as.character(getRversion()), "surveillance", as.character(packageVersion("surveillance")), "->", a[2], "\n")
