"""``python -m trends.cli``: the same as the ``trends`` command."""

from . import main

raise SystemExit(main())
