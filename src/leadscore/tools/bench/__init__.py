"""The performance benchmark (`make bench`, `python -m leadscore.tools.bench`): a cold, an incremental and a no-op
run of the whole pipeline on generated demo data, measured against DuckDB alone reading the same
landing files (the floor)."""
