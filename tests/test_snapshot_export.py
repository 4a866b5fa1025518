"""A flattened lead export as delivered (one row per lead, a comma ending every line, no dates, a
0/1 Converted column) through the whole pipeline with a mapping file and two dbt vars only:
the outcome is the Converted field and the export is scored in snapshot mode.

Expected figures come from reading the CSV here, and the rulebook the model is compared with is
written here over the same columns, as an analyst would, and scored in plain Python."""

from __future__ import annotations

import csv
from dataclasses import replace

import pytest
from sklearn.metrics import roc_auc_score

from leadscore.warehouse import connect
from tests.conftest import REPO_ROOT, run_pipeline, tmp_settings
from tests.fixtures.crm_exports.flat_leads import write_flat_leads

pytestmark = pytest.mark.slow

MAPPING = REPO_ROOT / "src" / "leadscore" / "ingest" / "mappings" / "examples" / "flat_leads.yml"
DBT_VARS = "{outcome_field: custom_fields.Converted, snapshot_mode: true}"
ROWS = 600


@pytest.fixture(scope="module")
def export_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("snapshot_export")
    settings = replace(tmp_settings(root), crm_mapping=str(MAPPING))
    export = write_flat_leads(settings.landing / "crm" / "2026-06-30" / "leads_export.csv", rows=ROWS)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LEADSCORE_DBT_VARS", DBT_VARS)
        result = run_pipeline(settings)
    with export.open(newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    return settings, result, export, records


def query(settings, sql: str) -> list[tuple]:
    with connect(settings.warehouse, read_only=True) as con:
        return con.execute(sql).fetchall()


def test_the_export_loads_as_delivered_with_every_line_reconciled(export_run):
    settings, result, export, records = export_run
    assert result.success
    physical_lines = export.read_bytes().count(b"\n")
    assert query(settings, "select lines_read, lines_loaded, lines_quarantined from raw.load_manifest "
                           "where source_file like '%leads_export.csv'") == [(physical_lines - 1, ROWS, 0)]
    assert len(records) == ROWS


def test_the_converted_field_is_the_outcome(export_run):
    settings, _, _, records = export_run
    converted = sorted(record["Prospect ID"] for record in records if record["Converted"] == "1")
    conversions = query(settings, "select person_id from marts.fct_conversions order by person_id")
    assert [person_id for (person_id,) in conversions] == converted
    assert query(settings, "select distinct conversion_source, converted_at from marts.fct_conversions") == [
        ("custom_fields.Converted", None)]


def test_a_snapshot_has_no_inactivity_penalties_and_no_backtest_dates(export_run):
    settings, result, _, _ = export_run
    assert query(settings, "select count(*) from marts.fct_score_ledger where source_type = 'inactivity'") == [(0,)]
    assert query(settings, "select count(*) from feedback.rpt_backtest") == [(0,)]
    checks = {(check.asset_key.to_user_string(), check.check_name): check.passed
              for check in result.get_asset_check_evaluations()}
    assert checks[("feedback/rpt_backtest", "enough_positives")]  # no warning: no past dates by design


def test_rule_effectiveness_counts_everyone_in_the_export(export_run):
    settings, _, _, records = export_run
    positives = sum(record["Converted"] == "1" for record in records)
    totals = query(settings, """select distinct people_triggered + people_not_triggered,
                                       converted_triggered + converted_not_triggered
                                from marts.rpt_rule_effectiveness where rule_kind = 'profile'""")
    assert totals == [(ROWS, positives)]


def analyst_rulebook_score(record: dict[str, str]) -> float:
    """Points an analyst would give from the same columns: time on the site in steps, a lead
    form, the last activity, the opt-out and the visits."""
    def number(text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return 0.0

    seconds = number(record["Total Time Spent on Website"])
    return ((20 if seconds >= 1000 else 10 if seconds >= 500 else 0)
            + 25 * (record["Lead Origin"] == "Lead Add Form") + 15 * (record["Last Activity"] == "SMS Sent")
            - 15 * (record["Last Activity"] == "Email Bounced") - 10 * (record["Do Not Email"] == "Yes")
            + 5 * (number(record["TotalVisits"]) >= 5))


def test_the_predictive_score_learns_the_custom_fields_and_beats_a_rulebook_on_them(export_run):
    settings, _, _, records = export_run
    features = {feature for (feature,) in query(settings, "select feature from feedback.predictive_coefficients")}
    assert {"custom_fields.Total Time Spent on Website", "custom_fields.TotalVisits",
            "custom_fields.Last Activity=sms sent", "custom_fields.Lead Origin=lead add form"} <= features
    # Neither the outcome nor the lead number (an identifier) is a feature.
    assert not any(name.startswith(("custom_fields.Converted", "custom_fields.Lead Number")) for name in features)
    ((method, auc, published, reason),) = query(settings, """
        select distinct validation_method, validation_auc, is_published, publish_reason
        from feedback.predictive_calibration""")
    assert method == "5-fold cross-validation at as_of"
    outcome = [record["Converted"] == "1" for record in records]
    rulebook_auc = roc_auc_score(outcome, [analyst_rulebook_score(record) for record in records])
    assert auc > rulebook_auc, (auc, rulebook_auc)
    assert published, reason
    scored = query(settings, "select count(*), count(predictive_score) from feedback.predictive_scores")
    assert scored == [(ROWS, ROWS)]
