"""The HTML report after each run, and the same charts as asset metadata in the Dagster UI."""

from __future__ import annotations

import base64
from pathlib import Path

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from assets.report.html_report import write_report
from orchestration.dbt import dbt_models
from orchestration.feedback import BACKTEST, BACKTEST_BANDS, PREDICTIVE_CALIBRATION, PREDICTIVE_COEFFICIENTS
from orchestration.ingestion import WAREHOUSE_POOL
from orchestration.resources import WarehouseResource

# The dbt models the report reads (its sections, and the scores' as_of under its title; the
# exposure lead_scoring_report lists them).
REPORT_MODELS = [
    "fct_lead_scores", "rpt_score_distribution", "rpt_score_anomalies", "rpt_funnel_stages", "rpt_sla_status",
    "rpt_campaign_conversion", "rpt_rule_effectiveness", "rpt_won_lost_review", "rpt_roi",
]
REPORT_INPUTS = [
    *(get_asset_key_for_model([dbt_models], name) for name in REPORT_MODELS),
    BACKTEST, BACKTEST_BANDS, PREDICTIVE_COEFFICIENTS, PREDICTIVE_CALIBRATION,
]


class ReportConfigResource(dg.ConfigurableResource):
    path: str


@dg.asset(
    key=["reports", "lead_scoring_report"],
    deps=REPORT_INPUTS,
    pool=WAREHOUSE_POOL,
    description="One self-contained HTML file (data/reports/lead_scoring_report.html) with the charts "
    "and numbers of the scoring, lifecycle and feedback reports; it opens offline.",
)
def lead_scoring_report(warehouse: WarehouseResource, report_file: ReportConfigResource) -> dg.MaterializeResult:
    path = Path(report_file.path)
    with warehouse.connection() as con:
        report = write_report(con, path)
    metadata: dict[str, dg.RawMetadataValue] = {"file": dg.MetadataValue.path(str(path)), "as_of": report.as_of}
    for section in report.sections:
        if section.png:
            image = base64.b64encode(section.png).decode()
            metadata[section.title] = dg.MetadataValue.md(f"![{section.title}](data:image/png;base64,{image})")
    missing = sorted({table for section in report.sections for table in section.missing})
    if missing:
        metadata["missing tables"] = ", ".join(missing)
    return dg.MaterializeResult(metadata=metadata)
