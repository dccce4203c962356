"""The HTML trend report: :func:`report` writes one self-contained file.

Modules: :mod:`.analysis` runs the statistics once, :mod:`.sections` writes one
section each, :mod:`.html` holds the escaping, tables and page assembly, and
:mod:`.build` ties them together.
"""

from __future__ import annotations

from .build import report

__all__ = ["report"]
