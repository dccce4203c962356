"""Array kernels: the statistics themselves, on numpy arrays, with no tables or words.

Each module computes one kind of thing and cites the paper or R function it matches;
the steps of the data flow (``comparison``, ``trend_tests``, ``joinpoint``, ``alarm``,
``coverage_model``) call them and turn their arrays into tidy tables and verdicts.
"""
