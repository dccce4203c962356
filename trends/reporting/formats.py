"""Numbers as a reader wants them: thousands separators, no scientific notation.

Every number the report prints passes through here, so one table never shows
``1.14e+03`` beside ``1,140``. Chicago Manual of Style (17th ed.), 9.54-9.56 (commas
in large numbers) and the NCHS presentation standards for rates (significant digits,
not a fixed number of decimals) are the conventions followed.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

__all__ = ["missing", "fmt_num", "fmt_p", "fmt_pct", "fmt_range", "MISSING"]

#: What a missing number prints as.
MISSING = "–"
#: Numbers at least this large print as "more than ..." (never a 40-digit integer).
HUGE = 1e12
#: Smallest magnitude printed with its digits; anything nearer 0 is "< 0.000001".
TINY = 1e-6


def missing(value: Any) -> bool:
    """True for None, NA, NaT and NaN (not for 0 or an empty string)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(isinstance(value, float) and math.isnan(value))
    except TypeError:
        return False


def _minus(text: str) -> str:
    return text.replace("-", "−")


def fmt_num(value: Any, digits: int = 3) -> str:
    """A number for a table or a sentence, never in scientific notation.

    Whole numbers print whole with thousands separators (``12,345``); others with
    ``digits`` significant digits (``0.0523``, ``1.55``, ``13.4``), or rounded to a
    whole number once they have that many digits before the point (``1,141``, not
    ``1.14e+03``). Infinite values print as ``∞``; magnitudes of 10¹² or more as
    "more than 1,000,000,000,000"; nonzero magnitudes below 10⁻⁶ as "< 0.000001".
    """
    if missing(value):
        return MISSING
    x = float(value)
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if abs(x) >= HUGE:
        return f"more than {HUGE:,.0f}" if x > 0 else f"less than −{HUGE:,.0f}"
    if x == int(x) or abs(x) >= 10 ** (digits - 1):
        return _minus(f"{round(x):,}")
    if abs(x) < TINY:
        return f"{'> −' if x < 0 else '< '}{TINY:.6f}"
    decimals = digits - 1 - math.floor(math.log10(abs(x)))
    text = f"{x:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return _minus(text)


def fmt_p(value: Any) -> str:
    """A p- or q-value: 3 decimals, ``< 0.001`` below that."""
    if missing(value):
        return MISSING
    x = float(value)
    if x < 0.001:
        return "< 0.001"
    return f"{x:.3f}".rstrip("0").rstrip(".") if x < 1 else "1"


def fmt_pct(value: Any, *, signed: bool = False) -> str:
    """A percentage already multiplied by 100: ``-12.3`` -> ``−12%``; missing -> ``–``."""
    if missing(value):
        return MISSING
    x = float(value)
    if math.isinf(x):
        return "∞%" if x > 0 else "−∞%"
    text = fmt_num(round(x), 3)
    if signed and round(x) > 0 and abs(x) < HUGE:
        text = "+" + text
    return f"{text}%"


def fmt_range(low: Any, high: Any, digits: int = 3) -> str:
    """An interval ``low–high`` (``–`` when either bound is missing)."""
    if missing(low) or missing(high):
        return MISSING
    return f"{fmt_num(low, digits)} to {fmt_num(high, digits)}"
