"""`python -m scripts.benchmark ...` (run from the repository root)."""

from scripts.benchmark.cli import main

raise SystemExit(main())
