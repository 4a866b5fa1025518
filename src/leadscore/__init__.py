"""Explainable lead scoring: the Python side of the pipeline, by concern.

Plain code (no Dagster import), called by the Dagster layer and by the command lines:
    settings      where the landing folder, the warehouse and the outputs are (environment)
    warehouse     the DuckDB connection every step opens
    ingest        landing files to raw.* tables, with the load ledger and quarantine
    scoring       the rulebook checker (the scores themselves are dbt models)
    feedback      the predictive score and the backtests, written to feedback.*
    export        the CRM sync delta file
    publish       the BI copy (DuckDB and Parquet) of the marts
    report        the HTML report
    alerts        the SLA alert outbox
    checks        data-quality checks between the stages
    build_state, nothing_new, faults   what a run must rebuild, and the kill points tests use

    orchestration the Dagster definitions (assets, checks, schedules, sensors) and `run`, the
                  headless command line; the only package that imports Dagster
    demo          the demo data generator and its ground truth
    tools         developer and operator tools: the benchmark, the SQL portability lint, the
                  warehouse rotation

Imports flow one way: orchestration imports the plain packages, never the reverse.
"""
