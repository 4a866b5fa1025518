"""The HTML report after each run (with its full tables as CSV files beside it), and the same
charts as asset metadata in the Dagster UI."""

from __future__ import annotations

import base64
from pathlib import Path

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from leadscore.orchestration.dbt import DBT_PROJECT, dbt_models
from leadscore.orchestration.feedback import BACKTEST, BACKTEST_BANDS, PREDICTIVE_CALIBRATION, PREDICTIVE_COEFFICIENTS
from leadscore.orchestration.ingestion import WAREHOUSE_POOL
from leadscore.orchestration.publish import PublishConfigResource
from leadscore.orchestration.resources import WarehouseResource
from leadscore.publish.bi_copy import personal_columns_from_manifest
from leadscore.report.html_report import PERSONAL_COLUMNS, Privacy, write_report

# The dbt models the report reads (its sections, and the scores' as_of under its title; the
# exposure lead_scoring_report lists them).
REPORT_MODELS = [
    "fct_lead_scores", "rpt_score_distribution", "rpt_score_anomalies", "rpt_funnel_stages", "rpt_sla_status",
    "rpt_campaign_conversion", "rpt_rule_effectiveness", "rpt_won_lost_review", "rpt_roi", "rpt_call_list",
    "rpt_score_movers", "rpt_score_changes", "rpt_rule_changes", "rpt_account_opportunities",
    "fct_account_repurchase_scores",
]
REPORT_INPUTS = [
    *(get_asset_key_for_model([dbt_models], name) for name in REPORT_MODELS),
    BACKTEST, BACKTEST_BANDS, PREDICTIVE_COEFFICIENTS, PREDICTIVE_CALIBRATION,
]


class ReportConfigResource(dg.ConfigurableResource):
    path: str


def report_privacy(personal_data_policy: str) -> Privacy:
    """The report shows names and emails only when the published copy keeps them
    (LEADSCORE_PUBLISH_PERSONAL_DATA): it is read by the same people, so it must not hold what
    the copy hashes or drops. Hidden: the columns the dbt docs tag personal_data, and the usual
    names in case a mart was left untagged."""
    tagged = personal_columns_from_manifest(Path(DBT_PROJECT.manifest_path))
    columns = PERSONAL_COLUMNS.union(*tagged.values())
    return Privacy(show_personal_data=personal_data_policy == "keep", personal_columns=frozenset(columns))


@dg.asset(
    key=["reports", "lead_scoring_report"],
    deps=REPORT_INPUTS,
    pool=WAREHOUSE_POOL,
    group_name="reporting",
    description="One self-contained HTML file (reports/lead_scoring_report.html) that opens offline: the sales "
    "view (today's call list, new MQLs, score movers, late SLAs), then the charts and numbers of the scoring, "
    "lifecycle and feedback reports; the full tables are CSV files beside it.",
)
def lead_scoring_report(warehouse: WarehouseResource, report_file: ReportConfigResource,
                        publishing: PublishConfigResource) -> dg.MaterializeResult:
    path = Path(report_file.path)
    with warehouse.connection() as con:
        report = write_report(con, path, report_privacy(publishing.personal_data))
    metadata: dict[str, dg.RawMetadataValue] = {
        "file": dg.MetadataValue.path(str(path)), "as_of": report.as_of,
        "tables": dg.MetadataValue.json(sorted(report.csv_files())),
    }
    for section in report.sections:
        if section.png:
            image = base64.b64encode(section.png).decode()
            metadata[section.title] = dg.MetadataValue.md(f"![{section.title}](data:image/png;base64,{image})")
    missing = sorted({table for section in report.sections for table in section.missing})
    if missing:
        metadata["missing tables"] = ", ".join(missing)
    return dg.MaterializeResult(metadata=metadata)
