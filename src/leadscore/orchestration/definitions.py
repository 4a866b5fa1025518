"""The one Dagster `Definitions` of the project (loaded through workspace.yaml)."""

from __future__ import annotations

import dagster as dg

from leadscore.orchestration.alerts import NotifierResource, sla_alerts
from leadscore.orchestration.automation import JOBS, build_landing_sensor, build_schedules
from leadscore.orchestration.build_log import dbt_build_log
from leadscore.orchestration.checks import STAGE_CHECKS
from leadscore.orchestration.dbt import DBT_HOOK_SOURCES, dbt_models, dbt_resource
from leadscore.orchestration.exports import ExportConfigResource, crm_sync_export
from leadscore.orchestration.feedback import FEEDBACK_ASSETS, FeedbackConfigResource
from leadscore.orchestration.ingestion import INGESTION_ASSETS
from leadscore.orchestration.progress import progress_logger
from leadscore.orchestration.publish import PublishConfigResource, bi_copy
from leadscore.orchestration.report import ReportConfigResource, lead_scoring_report
from leadscore.orchestration.resources import ChecksConfigResource, IngestionConfigResource, WarehouseResource
from leadscore.settings import Settings, load_settings


def build_definitions(settings: Settings) -> dg.Definitions:
    return dg.Definitions(
        assets=[*INGESTION_ASSETS, dbt_models, *DBT_HOOK_SOURCES, crm_sync_export, *FEEDBACK_ASSETS,
                lead_scoring_report, bi_copy, dbt_build_log],
        asset_checks=STAGE_CHECKS,
        jobs=list(JOBS.values()),
        schedules=build_schedules(running=settings.automation),
        sensors=[sla_alerts, build_landing_sensor(running=settings.automation)],
        resources={
            "warehouse": WarehouseResource(path=str(settings.warehouse)),
            "ingestion": IngestionConfigResource(
                landing=str(settings.landing), crm_mapping=settings.crm_mapping,
                quarantine_max_rate=settings.quarantine_max_rate,
            ),
            "checks_config": ChecksConfigResource(
                freshness_max_lag_hours=settings.freshness_max_lag_hours,
                row_count_max_drop=settings.row_count_max_drop, row_count_max_jump=settings.row_count_max_jump,
            ),
            "dbt": dbt_resource(),
            "notifier": NotifierResource(),
            "exports": ExportConfigResource(directory=str(settings.exports_dir)),
            "publishing": PublishConfigResource(
                directory=str(settings.publish_dir), personal_data=settings.publish_personal_data
            ),
            "report_file": ReportConfigResource(path=str(settings.report_path)),
            "feedback": FeedbackConfigResource(),
        },
        # The progress logger prints only in runs whose config names it (the headless run).
        loggers={**dg.default_loggers(), "progress": progress_logger},
        executor=dg.in_process_executor,
    )


defs = build_definitions(load_settings())
