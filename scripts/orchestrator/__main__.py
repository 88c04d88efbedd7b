"""`python -m scripts.orchestrator ...` (run from the repository root)."""

from scripts.orchestrator.cli import main

raise SystemExit(main())
