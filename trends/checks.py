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
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import OptionError

__all__ = [
    "check_choice",
    "check_fraction",
    "check_positive",
    "check_count",
    "check_bool",
    "check_number",
    "check_known",
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


def check_number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite number within the bounds (each open or closed), as ``alpha=1.5 must be a
    finite number in (0, 1)``."""
    x = _real(value)
    ok = math.isfinite(x)
    if ok and low is not None:
        ok = x > low if low_open else x >= low
    if ok and high is not None:
        ok = x < high if high_open else x <= high
    if not ok:
        lo = "(-inf" if low is None else f"{'(' if low_open else '['}{low:g}"
        hi = "inf)" if high is None else f"{high:g}{')' if high_open else ']'}"
        raise OptionError(f"{name}={value!r} must be a finite number in {lo}, {hi}")
    return x


def check_known(options: Mapping[str, Any], valid: Iterable[str], owner: str) -> None:
    """Every key of ``options`` is one of ``valid``, else an OptionError naming the
    unknown ones and listing the options ``owner`` (a method) takes."""
    valid = tuple(valid)
    bad = [k for k in options if k not in valid]
    if bad:
        raise OptionError(
            f"method {owner!r} has no option(s) {_listed(bad)}; "
            f"its options are {_listed(valid) or 'none'}"
        )
