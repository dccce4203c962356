"""The ``trends`` command line: the same words as the Python API.

Exit status:

- 0 done;
- 1 an internal error (a bug: one line; ``--debug`` shows the traceback);
- 2 bad input or usage (one line naming the file, row and column where known), an
  output that would overwrite an input or cannot be written;
- 3 and 4 from ``trends reproduce`` (differs; cannot be tested).

Bad input is a :class:`trends.errors.TrendsError` (every ``trends`` error, a
ValueError) or an :class:`OSError` on a file; any other exception, a bare
ValueError from deep inside a library included, is a bug (status 1).

Modules: :mod:`.commands` holds the subcommands (one :data:`~.commands.COMMANDS`
entry each; :mod:`.reports` those that write pages or fetch files), :mod:`.options`
the options they share (input, column map, coverage, filters, grouping, outputs),
:mod:`.console` the progress bars, ``--quiet`` and the one-line warnings. Nothing
heavy is imported before ``SOURCE_DATE_EPOCH`` is checked (numpy reads it on import).
"""

from __future__ import annotations

import logging
import os
import sys

__all__ = ["main", "EXIT_OK", "EXIT_INTERNAL", "EXIT_BAD_INPUT"]

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT = 0, 1, 2


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _epoch_problem() -> str | None:
    """What is wrong with ``$SOURCE_DATE_EPOCH``, if anything (reproducible-builds.org:
    a whole number of seconds since 1970-01-01 UTC; a malformed value is an error)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None or epoch.strip().isdigit():
        return None
    return (
        f"SOURCE_DATE_EPOCH={epoch!r} is not a whole number of seconds since "
        "1970-01-01 UTC; set it to one (e.g. 1700000000) or unset it"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    problem = _epoch_problem()  # numpy and scipy read it on import: check it first
    if problem:
        sys.stderr.write(f"trends: {problem}\n")
        return EXIT_BAD_INPUT
    try:
        from .commands import parser

        args = parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (already said)
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    if args.debug:
        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")
    try:
        return _run(args)
    except KeyboardInterrupt:
        sys.stderr.write("trends: interrupted\n")
        return 130
    except Exception as exc:  # noqa: BLE001 - sorted into bad input and bugs below
        if debug:
            raise
        status, message = _classify(exc)
        sys.stderr.write(f"trends: {message}\n")
        return status


def _run(args) -> int:
    from .console import console

    with console(quiet=args.quiet, debug=args.debug):
        return int(args.run(args) or EXIT_OK)


def _classify(exc: BaseException) -> tuple[int, str]:
    """Exit status and one-line message of an exception."""
    from ..errors import TrendsError

    if isinstance(exc, TrendsError):
        return EXIT_BAD_INPUT, _one_line(exc)
    if isinstance(exc, OSError):
        what = exc.strerror or _one_line(exc)
        where = f"{exc.filename}: " if exc.filename else ""
        return EXIT_BAD_INPUT, f"{where}{what}"
    return EXIT_INTERNAL, (
        f"internal error: {type(exc).__name__}: {_one_line(exc)} "
        "(a bug in trends; rerun with --debug for the traceback)"
    )


def _joinpoint_options(args) -> dict[str, int]:
    from .options import joinpoint_options

    return joinpoint_options(args)


if __name__ == "__main__":
    raise SystemExit(main())
