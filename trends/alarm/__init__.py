"""Alarms: is this period unusual? (The package is ``trends.alarm``; its function,
``trends.alarms``, is named apart so that neither shadows the other.) Outbreak-detection
methods for conflict incident counts.

``alarms(cells, method=...)`` judges every region x period against the region's own
past, with one of the methods in :data:`METHODS` (each entry: name, function, one-line
description, citation; see :mod:`trends.alarm.registry`):

=================  ==========================================================
``farrington``     Farrington et al. (1996), as ``surveillance::farringtonFlexible``
``noufaily``       Noufaily et al. (2013), the same function's improved preset
``ears-c1/c2/c3``  CDC EARS (Hutwagner et al. 2003), as ``surveillance::earsC``
``glr-poisson``    GLR detector (Höhle and Paul 2008), as ``surveillance::glrnb``
``glr-nb``         the same with a negative binomial in-control model
``bayes``          RKI's Bayes system, as ``surveillance::algo.bayes``
``surge``          ACLED's Surge Tracker
``threat``         ACLED's Threat Tracker
``trendfinder``    ACLED Trendfinder's change levels
=================  ==========================================================

The numbers match R's surveillance 1.20.3 (see ``tests/test_alarms_reference.py``). The
kernels are vectorised over regions and periods: Farrington's thousands of small GLMs
run as one batch of iteratively reweighted least squares. :func:`default_method` is the
method a report uses when none is named (Farrington where it can judge a period, else
Bayes).
"""

from __future__ import annotations

from .api import DIRECTIONS, VERDICTS, alarms
from .registry import ALIASES, METHODS, AlarmMethod, bound_is_count, default_method

__all__ = [
    "alarms",
    "METHODS",
    "ALIASES",
    "AlarmMethod",
    "DIRECTIONS",
    "VERDICTS",
    "default_method",
    "bound_is_count",
]
