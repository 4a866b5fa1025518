"""Data-quality checks between pipeline stages that are not tied to one loader: source
freshness and row-count anomalies against the previous run."""
