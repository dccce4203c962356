# farringtonFlexible on quarterly series with the quarterly presets of trends.alarms
# (w = 1: the same quarter +- 1; farrington: pastWeeksNotIncluded = w; noufaily:
# noPeriods = 2, pastWeeksNotIncluded = 2, i.e. half a year). Otherwise the control
# lists of ../shared/reference/r_reference.R, whose monthly settings (w = 2,
# noPeriods = 10) do not fit four periods a year.
# usage: Rscript r_farrington_quarterly.R SERIES_CSV OUT_CSV
#   SERIES_CSV: region,quarter,count (one series per region, in time order, labels 2004Q1)
suppressMessages(library(surveillance))
a <- commandArgs(trailingOnly = TRUE)
d <- read.csv(a[1], stringsAsFactors = FALSE)
freq <- 4L; w <- 1L
presets <- list(
  farrington = list(b = 3, w = w, reweight = TRUE, weightsThreshold = 1, trend = TRUE,
                    pThresholdTrend = 0.05, alpha = 0.05, noPeriods = 1, powertrans = "2/3",
                    pastWeeksNotIncluded = w, thresholdMethod = "delta", limit54 = c(5, 4)),
  noufaily = list(b = 3, w = w, reweight = TRUE, weightsThreshold = 2.58, trend = TRUE,
                  pThresholdTrend = 1, alpha = 0.05, noPeriods = 2, powertrans = "2/3",
                  pastWeeksNotIncluded = 2L, thresholdMethod = "nbPlugin", limit54 = c(5, 4)))
rows <- list()
for (reg in unique(d$region)) {
  s <- d[d$region == reg, ]
  n <- nrow(s)
  sts <- new("sts", observed = matrix(s$count, ncol = 1),
             start = c(as.integer(substr(s$quarter[1], 1, 4)), as.integer(substr(s$quarter[1], 6, 6))),
             freq = freq)
  rng <- (3 * freq + w + 1):n
  for (p in names(presets)) {
    r <- farringtonFlexible(sts, control = c(presets[[p]], list(range = rng)))
    rows[[length(rows) + 1]] <- data.frame(region = reg, period = s$quarter[rng],
      observed = s$count[rng], method = p, expected = r@control$expected,
      upperbound = as.numeric(upperbound(r)), alarm = as.integer(alarms(r)),
      pvalue = r@control$pvalue)
  }
}
write.csv(do.call(rbind, rows), a[2], row.names = FALSE)
cat("R", as.character(getRversion()), "surveillance", as.character(packageVersion("surveillance")), "->", a[2], "\n")
