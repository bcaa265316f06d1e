"""The command line: ``python -m tradecore run|sweep|runs|import|sample``."""

from tradecore.cli import main

raise SystemExit(main())
