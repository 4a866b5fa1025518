"""The HTML report after each run, and the same charts as asset metadata in the Dagster UI."""

from __future__ import annotations

import base64
from pathlib import Path

import dagster as dg

from assets.report.html_report import write_report
from orchestration.ingestion import WAREHOUSE_POOL
from orchestration.resources import WarehouseResource

REPORT_INPUTS = [
    ["marts", "fct_lead_scores"],
    ["marts", "rpt_score_distribution"],
    ["marts", "rpt_funnel"],
    ["marts", "fct_lead_sla"],
    ["marts", "rpt_campaign_conversion"],
    ["marts", "rpt_rule_effectiveness"],
    ["marts", "rpt_won_lost_review"],
    ["marts", "rpt_roi"],
    ["feedback", "rpt_backtest"],
    ["feedback", "rpt_backtest_bands"],
    ["feedback", "predictive_coefficients"],
    ["feedback", "predictive_calibration"],
]


class ReportConfigResource(dg.ConfigurableResource):
    path: str


@dg.asset(
    key=["reports", "lead_scoring_report"],
    deps=[dg.AssetKey(key) for key in REPORT_INPUTS],
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
