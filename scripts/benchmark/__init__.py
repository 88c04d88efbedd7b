"""`python -m scripts.benchmark`: how fast and how big the dbt build is at named scales.

Generates data at a scale, times a full `dbt build` and a daily run after appending one day
(per node, total, events/s, peak RSS, DuckDB file size), times two baselines that compute the
same latest-date scores (a hand-written DuckDB script, a plain pandas script), checks that all
give the same scores, and saves the results as JSON under `benchmarks/`.
"""
