"""trends: statistical trend analysis of reported incidents.

Reads incident data (UCDP GED, ACLED, GTD, or your own table), counts incidents by
region and period, and tells whether a change is statistically real and whether
the reporting is good enough to say so. See DESIGN.md for the data flow.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

# Public names and the module that defines each. Modules are imported on first use,
# so ``import trends`` stays fast (statsmodels alone takes two seconds to import).
_EXPORTS: dict[str, str] = {
    "Incidents": "trends.incidents",
    "read_ucdp_ged": "trends.readers",
    "read_acled": "trends.readers",
    "read_gtd": "trends.readers",
    "read_gdelt": "trends.readers",
    "read_icews": "trends.readers",
    "read_polecat": "trends.readers",
    "read_incidents": "trends.readers",
    "read": "trends.readers",
    "count": "trends.counting",
    "as_cells": "trends.cells",
    "rates": "trends.estimation",
    "compare": "trends.comparison",
    "trend": "trends.trend_tests",
    "joinpoints": "trends.joinpoint",
    "aapc": "trends.joinpoint",
    "coverage": "trends.coverage_model",
    "alarms": "trends.alarm",
    "report": "trends.reporting",
    "reproduce": "trends.reproduction",
}
_SUBMODULES = ("datasets", "errors", "periods", "plot", "testing")

__all__ = sorted([*_EXPORTS, *_SUBMODULES, "__version__"])


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
    elif name in _SUBMODULES:
        value = import_module(f"trends.{name}")
    else:
        raise AttributeError(f"module 'trends' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
