"""The customer_health orchestrator: validate raw data, build, validate, publish.

Run `python -m scripts.orchestrator --help` from the repository root.
"""
