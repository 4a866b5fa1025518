"""Python asset code: plain functions that Dagster assets in `orchestration/` wrap."""
