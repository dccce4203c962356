"""Array kernels behind the statistical steps of ``trends``.

Modules here take and return numpy arrays (or small tidy frames built from them),
read no cell tables and say no verdicts; the step modules call them.

* :mod:`trends.stats.dispersion` - empirical Bayes moderation of per-region
  dispersions (limma's ``fitFDist`` / ``squeezeVar``, edgeR's quasi-likelihood
  squeezing).
* :mod:`trends.stats.rarefaction` - expected number of distinct outlets among ``n``
  events under the baseline mix (Hurlbert 1971), its variance and a one-sided test.
"""
