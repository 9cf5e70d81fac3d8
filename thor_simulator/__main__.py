"""Entry point of `python -m thor_simulator`."""

from .cli import main

raise SystemExit(main())
