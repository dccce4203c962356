"""Writing outputs safely: never over an input, never half a file, never a formula.

Every file ``trends`` writes (CSV and Parquet tables, HTML pages, figures) goes
through this module:

- :func:`check_not_input` refuses an output path that resolves to an input (the same
  file, a symlink to it or a hard link: same device and inode, as
  :func:`os.path.samefile` compares them);
- :func:`replacing` writes to a temporary file beside the target and renames it into
  place with :func:`os.replace` (atomic on POSIX and Windows), so a failure (a full
  disk, a killed process) leaves the old file or nothing, never a truncated one;
- :func:`neutralise_formulas` applies OWASP's rule against CSV injection to every
  text cell a CSV receives: a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or
  a carriage return is prefixed with ``'`` so that a spreadsheet shows it as text
  (OWASP, "CSV Injection", https://owasp.org/www-community/attacks/CSV_Injection).
  Numeric columns are written as numbers: a negative rate stays ``-0.5``.

Errors name the file: ``cannot write report.html: No space left on device``
(:class:`~trends.errors.OutputError`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import pandas as pd

from .errors import OutputError

__all__ = [
    "FORMULA_PREFIXES",
    "TABLE_FORMATS",
    "check_not_input",
    "neutralise_formulas",
    "replacing",
    "staging",
    "table_format",
    "write_bytes",
    "write_table",
    "write_text",
]

logger = logging.getLogger(__name__)

#: First characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

#: Table formats by file extension.
TABLE_FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}

PathLike = str | os.PathLike[str]


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet): not the same file
        return False


def check_not_input(path: PathLike, inputs: Iterable[PathLike | None] = ()) -> None:
    """Raise :class:`~trends.errors.OutputError` if ``path`` is one of ``inputs``.

    The same file however it is reached: the same path, a symlink to it, or a hard
    link (the same device and inode).
    """
    target = Path(path)
    for source in inputs:
        if source is not None and _same_file(target, Path(source)):
            raise OutputError(
                f"refusing to write {path}: it is the input file {source}; "
                "choose another output path",
                file=str(path),
            )


def _mode_for(target: Path) -> int:
    """Permission bits for the new file: the old file's, else what ``open()`` gives."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


@contextlib.contextmanager
def replacing(
    path: PathLike,
    *,
    binary: bool = False,
    inputs: Iterable[PathLike | None] = (),
    encoding: str = "utf-8",
) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success rename it to ``path``.

    On any failure the temporary file is removed and ``path`` is left as it was (the
    old file, or nothing). Folders are created. An :class:`OSError` becomes an
    :class:`~trends.errors.OutputError` naming ``path``.

    Examples
    --------
    >>> with replacing("table.txt") as handle:  # doctest: +SKIP
    ...     handle.write("text")
    """
    target = Path(path)
    check_not_input(target, inputs)
    tmp: str | None = None
    try:
        if target.is_dir():
            raise IsADirectoryError(21, "Is a directory", str(target))
        target.parent.mkdir(parents=True, exist_ok=True)
        handle_no, tmp = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
        )
        opened = (
            os.fdopen(handle_no, "wb")
            if binary
            else os.fdopen(handle_no, "w", encoding=encoding, newline="\n")
        )
        with opened as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}", file=str(path)) from exc
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    logger.debug("wrote %s", target)


@contextlib.contextmanager
def staging(folder: PathLike, *, inputs: Iterable[PathLike | None] = ()) -> Iterator[Path]:
    """A temporary folder beside ``folder`` for a writer that fills a folder (figures);
    on success each file in it is renamed into ``folder`` (:func:`os.replace`), so
    ``folder`` never holds a half-written file. The temporary folder is removed."""
    target = Path(folder)
    try:
        target.mkdir(parents=True, exist_ok=True)
        temporary = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target))
    except OSError as exc:
        raise OutputError(
            f"cannot write {folder}: {exc.strerror or exc}", file=str(folder)
        ) from exc
    try:
        yield temporary
        for made in sorted(temporary.iterdir()):
            final = target / made.name
            check_not_input(final, inputs)
            try:
                os.replace(made, final)
            except OSError as exc:
                raise OutputError(
                    f"cannot write {final}: {exc.strerror or exc}", file=str(final)
                ) from exc
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


def write_text(path: PathLike, text: str, *, inputs: Iterable[PathLike | None] = ()) -> Path:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` through :func:`replacing`."""
    with replacing(path, inputs=inputs) as handle:
        handle.write(text)
    return Path(path)


def write_bytes(path: PathLike, data: bytes, *, inputs: Iterable[PathLike | None] = ()) -> Path:
    """Write ``data`` to ``path`` through :func:`replacing`."""
    with replacing(path, binary=True, inputs=inputs) as handle:
        handle.write(data)
    return Path(path)


def _neutralise_text(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_formulas(table: pd.DataFrame, *, one_newline: bool = False) -> pd.DataFrame:
    """A copy of ``table`` whose text cells cannot start a spreadsheet formula.

    Text cells (and column names) starting with one of :data:`FORMULA_PREFIXES` are
    prefixed with ``'`` (OWASP's rule). Numeric, boolean and date columns are left
    alone, so negative numbers stay numbers. With ``one_newline``, carriage returns
    inside text cells become ``\n``: Python's CSV writer (3.11) quotes a field holding
    ``\n`` but not one holding a lone ``\r``, which would split the row for a reader.
    """

    def cell(value: object) -> object:
        value = _neutralise_text(value)
        if one_newline and isinstance(value, str) and "\r" in value:
            value = value.replace("\r\n", "\n").replace("\r", "\n")
        return value

    out = table.copy(deep=False)
    out.columns = [cell(c) for c in out.columns]
    for position in range(out.shape[1]):
        column = out.iloc[:, position]
        dtype = column.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            column = column.astype(object)
        elif not (pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype)):
            continue
        text = column.map(cell, na_action="ignore")
        if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
            text = text.astype(dtype)
        out.isetitem(position, text)
    return out


def table_format(path: PathLike) -> str:
    """``csv`` or ``parquet``, told from the file's extension."""
    suffix = Path(path).suffix.lower()
    if suffix not in TABLE_FORMATS:
        raise OutputError(
            f"cannot write {path}: the extension {suffix or '(none)'!r} is not one of "
            f"{', '.join(map(repr, TABLE_FORMATS))} (CSV or Parquet)",
            file=str(path),
        )
    return TABLE_FORMATS[suffix]


def write_table(
    table: pd.DataFrame, path: PathLike, *, inputs: Iterable[PathLike | None] = ()
) -> Path:
    """Write ``table`` as CSV or Parquet (by the extension), safely.

    CSV: no index, ``\\n`` line ends, formulas neutralised and carriage returns inside
    cells made ``\\n`` (:func:`neutralise_formulas`).
    Parquet: no index; the table's ``attrs`` are not stored. The same table gives the
    same bytes.
    """
    kind = table_format(path)
    plain = table.copy(deep=False)
    plain.attrs = {}
    if kind == "csv":
        safe = neutralise_formulas(plain, one_newline=True)
        text = safe.to_csv(index=False, lineterminator="\n")
        return write_text(path, text, inputs=inputs)
    with replacing(path, binary=True, inputs=inputs) as handle:
        plain.to_parquet(handle, index=False)
    return Path(path)
