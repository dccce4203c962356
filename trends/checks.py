"""Checks of keyword options, with one wording for every function.

Each check returns the value in the type the caller works with, or raises
:class:`~trends.errors.OptionError` repeating the bad value and saying what is valid
(as scipy.stats and statsmodels.stats.rates word it)::

    level = check_fraction("level", level)        # level=1.5 must lie strictly between 0 and 1
    method = check_choice("method", method, METHODS)  # method='x' is not one of 'a', 'b'
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

from .errors import OptionError

__all__ = [
    "check_choice",
    "check_fraction",
    "check_positive",
    "check_count",
    "check_bool",
]


def _listed(valid: Iterable[Any]) -> str:
    return ", ".join(map(repr, valid))


def check_choice(name: str, value: Any, valid: Iterable[str]) -> str:
    """``value`` if it is one of ``valid`` (strings), else an OptionError listing them."""
    valid = tuple(valid)
    if not isinstance(value, str) or value not in valid:
        raise OptionError(f"{name}={value!r} is not one of {_listed(valid)}")
    return value


def _real(value: Any) -> float:
    """``value`` as a float when it is a real number (not a bool), else NaN."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return math.nan
    return float(value)


def check_fraction(name: str, value: Any) -> float:
    """A number strictly between 0 and 1 (a level, an alpha, a share)."""
    x = _real(value)
    if not 0 < x < 1:
        raise OptionError(f"{name}={value!r} must lie strictly between 0 and 1")
    return x


def check_positive(name: str, value: Any, *, allow_zero: bool = False) -> float:
    """A finite positive number (or non-negative with ``allow_zero``)."""
    x = _real(value)
    ok = math.isfinite(x) and (x >= 0 if allow_zero else x > 0)
    if not ok:
        what = "a finite non-negative number" if allow_zero else "a finite positive number"
        raise OptionError(f"{name}={value!r} must be {what}")
    return x


def check_count(name: str, value: Any, *, minimum: int = 0) -> int:
    """A whole number at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise OptionError(f"{name}={value!r} must be a whole number of at least {minimum}")
    return int(value)


def check_bool(name: str, value: Any) -> bool:
    """True or False (not a truthy stand-in such as 1 or "yes")."""
    if not isinstance(value, bool):
        raise OptionError(f"{name}={value!r} must be True or False")
    return value
