"""``python -m trends``: the same as the ``trends`` command."""

from .cli import main

raise SystemExit(main())
