"""Allow ``python -m viewer``."""

from viewer.commands.cli import main

raise SystemExit(main())
