"""Exceptions and warnings of ``trends``, all in one place.

Every error subclasses :class:`TrendsError`, itself a :class:`ValueError`, so a
caller can catch bad input with ``except ValueError``. Every warning subclasses
:class:`TrendsWarning`.
"""

from __future__ import annotations

__all__ = [
    "TrendsError",
    "InputError",
    "SchemaError",
    "DateError",
    "DuplicateIdError",
    "ValueRangeError",
    "EmptyInputError",
    "FormatError",
    "CellsError",
    "OptionError",
    "TrendsWarning",
    "ThinCoverageWarning",
    "DispersionWarning",
]


class TrendsError(ValueError):
    """Base class of every error raised by ``trends``."""


class InputError(TrendsError):
    """Bad input data, located by file, row and column where known.

    Parameters
    ----------
    message : str
        What was wrong and what was expected.
    file, row, column : optional
        Where. ``row`` is the 1-based data row number (the header is row 0), as a
        spreadsheet user would count it below the header.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file = file
        self.row = row
        self.column = column
        self.detail = message
        where = []
        if file is not None:
            where.append(str(file))
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class SchemaError(InputError):
    """A required column is missing or has the wrong type."""


class DateError(InputError):
    """A date cannot be parsed, is impossible, or ends before it starts."""


class DuplicateIdError(InputError):
    """``event_id`` repeats; the message lists the repeated ids."""


class ValueRangeError(InputError):
    """A value lies outside its allowed range (e.g. negative fatalities)."""


class EmptyInputError(InputError):
    """The input holds no data rows."""


class FormatError(InputError):
    """The file is not of the format named (or detected)."""


class CellsError(TrendsError):
    """A cell table (region x period) lacks a needed column or holds bad values."""


class OptionError(TrendsError):
    """An option of a statistic is unknown or out of range.

    The message repeats the bad value and lists the valid ones (or the valid range).
    """


class TrendsWarning(UserWarning):
    """Base class of every warning issued by ``trends``."""


class ThinCoverageWarning(TrendsWarning):
    """Some verdicts were withheld because source coverage is too thin."""


class DispersionWarning(TrendsWarning):
    """The dispersion could not be estimated and 1 (Poisson) was used."""
