"""`python -m exportintel` is the `exportintel` command."""

from exportintel.cli import main

raise SystemExit(main())
