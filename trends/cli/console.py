"""What the command line shows while it works: progress, one-line warnings, ``--quiet``.

- Progress bars (tqdm, on stderr) show only when stderr is a terminal; the library's
  own bars (the joinpoint regions, the report's steps) follow the same rule, and
  ``--quiet`` hides them all by presenting stderr as no terminal.
- Warnings of ``trends`` (:class:`~trends.errors.TrendsWarning`) print as one line
  each (``trends: warning: ...``), once; numerical warnings of numpy, pandas, scipy
  and statsmodels (RuntimeWarning, ConvergenceWarning...) are logged at debug level
  and never reach the terminal raw (``--debug`` shows them).
- The first run compiles the joinpoint kernels with numba (15-20 s, then cached on
  disk): :func:`prepare_kernels` says so, with a bar of the kernels compiled.
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from typing import Any, TextIO

__all__ = ["console", "info", "prepare_kernels", "is_quiet"]

logger = logging.getLogger(__name__)

_STATE = {"quiet": False, "debug": False}


class _NoTerminal(io.TextIOBase):
    """stderr that says it is no terminal: tqdm's bars then stay silent."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        return self._stream.write(text)

    def flush(self) -> None:
        self._stream.flush()

    def fileno(self) -> int:
        return self._stream.fileno()


def is_quiet() -> bool:
    return _STATE["quiet"]


def info(message: str) -> None:
    """A line on stdout (what was written, the windows compared), unless ``--quiet``."""
    if not _STATE["quiet"]:
        print(message, flush=True)


@contextlib.contextmanager
def console(*, quiet: bool = False, debug: bool = False) -> Iterator[None]:
    """Route warnings and progress as the module docstring says, for one command."""
    from ..errors import TrendsWarning

    seen: set[str] = set()
    real_stderr = sys.stderr
    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        if issubclass(category, TrendsWarning):
            text = " ".join(str(message).split())
            if not quiet and text not in seen:
                seen.add(text)
                real_stderr.write(f"trends: warning: {text}\n")
        elif debug:
            shown(message, category, filename, lineno, file, line)
        else:
            logger.debug("%s: %s (%s:%s)", category.__name__, message, filename, lineno)

    _STATE.update(quiet=quiet, debug=debug)
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = show
        if quiet:
            sys.stderr = _NoTerminal(real_stderr)  # type: ignore[assignment]
        try:
            yield
        finally:
            sys.stderr = real_stderr
            _STATE.update(quiet=False, debug=False)


def _kernels() -> list[Any]:
    from .. import joinpoint

    if not getattr(joinpoint, "HAVE_NUMBA", False):
        return []
    names = [n for n in dir(joinpoint) if not n.startswith("__")]
    return [k for k in (getattr(joinpoint, n) for n in names) if hasattr(k, "signatures")]


def _cold(kernels: list[Any]) -> bool:
    """True when numba's on-disk cache lacks most kernels: a first run (one or two
    kernels a run never needs stay uncompiled). Reads numba internals: when they
    change, the answer is False and the compilation simply runs without a bar."""
    from pathlib import Path

    try:
        missing = sum(not Path(k._cache._cache_file._index_path).exists() for k in kernels)
    except AttributeError:
        return False
    return 2 * missing >= len(kernels)


def prepare_kernels() -> None:
    """Compile the joinpoint kernels before the real work, with a bar, when they are
    not yet in numba's cache and stderr is a terminal (a no-op otherwise)."""
    if _STATE["quiet"] or not sys.stderr.isatty():
        return
    kernels = _kernels()
    if not kernels or not _cold(kernels):
        return
    import numpy as np
    import pandas as pd
    from tqdm.auto import tqdm

    from ..joinpoint import joinpoints

    months = pd.period_range("2000-01", periods=36, freq="M").astype(str)
    counts = np.rint(5 + 3 * np.sin(np.arange(36) / 3) + np.arange(36) / 4)
    cells = pd.DataFrame({"region": "warm-up", "period": months, "count": counts, "exposure": 30.0})
    done = threading.Event()
    # no total: some kernels are compiled inside others and never counted on their own
    bar = tqdm(
        total=None,
        desc="compiling the joinpoint kernels (numba, first run only)",
        unit="kernel",
        file=sys.stderr,
        leave=False,
    )

    def watch() -> None:
        while not done.wait(0.25):
            bar.n = sum(1 for k in kernels if k.signatures)
            bar.refresh()

    watcher = threading.Thread(target=watch, daemon=True)
    t0 = time.perf_counter()
    watcher.start()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            joinpoints(cells, max_joinpoints=3, n_permutations=19, n_bootstrap=20, progress=False)
    finally:
        done.set()
        watcher.join()
        bar.close()
    sys.stderr.write(
        f"trends: compiled the joinpoint kernels in {time.perf_counter() - t0:.0f} s "
        "(cached for later runs)\n"
    )
