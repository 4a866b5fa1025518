"""Mapping column features (constant, default, values, format, case) and the example mappings
for a flattened lead export and a deals export, loaded through the real ingestion."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
import yaml

from leadscore.ingest.checks import reconciliation
from leadscore.ingest.landing import discover
from leadscore.ingest.mapping import MAPPINGS_DIR, ColumnSpec, MappingError, column_checks, load_mapping, value_sql
from leadscore.ingest.sources import RawTable, crm_mapping, delivery_time, ingest_source

FIXTURES = Path(__file__).parent / "fixtures" / "crm_exports"
EXAMPLES = MAPPINGS_DIR / "examples"
DELIVERED = datetime(2026, 6, 30, tzinfo=UTC)


def mapping_file(tmp_path: Path, columns: dict) -> Path:
    path = tmp_path / "mine.yml"
    spec = {"objects": {"Lead": {"table": "crm_leads", "key": "lead_id",
                                 "columns": {"lead_id": "Id", **columns}}}}
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def column(tmp_path: Path, spec: object) -> ColumnSpec:
    mapping = load_mapping(str(mapping_file(tmp_path, {"value": spec}))).with_delivery(DELIVERED)
    return mapping.objects[0].columns[1]


def apply(spec: ColumnSpec, header: list[str], rows: list[tuple]) -> list[tuple[str | None, str | None]]:
    """(raw value, quarantine reason) of each row, as the CSV loader computes them."""
    con = duckdb.connect()
    names = ", ".join(f'"{name}"' for name in header)
    values = ", ".join("(" + ", ".join("'" + v.replace("'", "''") + "'" for v in row) + ")" for row in rows)
    con.execute(f"create table records as select * from (values {values}) as v({names})")
    reasons = ", ".join(f"case when {condition} then {reason} end" for condition, reason in column_checks(spec, header))
    reason_sql = f"nullif(concat_ws('; ', {reasons}), '')" if reasons else "null"
    return con.execute(f"select {value_sql(spec, header)}, {reason_sql} from records").fetchall()


def test_a_constant_fills_every_row_without_a_source_column(tmp_path):
    spec = column(tmp_path, {"constant": "New Business"})
    assert spec.sources == ()
    assert apply(spec, ["Id"], [("1",), ("2",)]) == [("New Business", None), ("New Business", None)]


def test_a_default_fills_empty_and_absent_sources(tmp_path):
    spec = column(tmp_path, {"source": "Rating", "default": "Cold"})
    assert apply(spec, ["Id", "Rating"], [("1", "Hot"), ("2", "")]) == [("Hot", None), ("Cold", None)]
    assert apply(spec, ["Id"], [("1",)]) == [("Cold", None)]


def test_default_delivery_is_the_files_delivery_time(tmp_path):
    spec = column(tmp_path, {"source": "CreatedDate", "type": "timestamp", "default": "delivery"})
    rows = apply(spec, ["Id", "CreatedDate"], [("1", "2026-01-23T02:21:49.000+0000"), ("2", "")])
    assert rows == [("2026-01-23T02:21:49.000+0000", None), ("2026-06-30T00:00:00+00:00", None)]
    day = column(tmp_path, {"type": "date", "default": "delivery"})
    assert apply(day, ["Id"], [("1",)]) == [("2026-06-30", None)]


def test_delivery_time_is_the_export_folder_date_else_the_modification_time(tmp_path):
    for relative in ("crm/2026-06-30/Lead.csv", "crm/2026-07-01T0815/Lead.csv", "crm/latest/Lead.csv"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text("Id\n")
    files = {file.relative_path: file for file in discover(tmp_path, "crm")}
    assert delivery_time(files["crm/2026-06-30/Lead.csv"]) == DELIVERED
    assert delivery_time(files["crm/2026-07-01T0815/Lead.csv"]) == datetime(2026, 7, 1, 8, 15, tzinfo=UTC)
    undated = files["crm/latest/Lead.csv"]
    assert delivery_time(undated) == datetime.fromtimestamp(undated.modified_ns / 1e9, tz=UTC)


def test_a_values_map_turns_stage_text_into_booleans_and_quarantines_unmapped_values(tmp_path):
    spec = column(tmp_path, {"source": "deal_stage", "type": "boolean",
                             "values": {"Won": True, "Lost": True, "Engaging": False}})
    rows = apply(spec, ["Id", "deal_stage"], [("1", "Won"), ("2", " Engaging "), ("3", ""), ("4", "Negotiating")])
    assert rows == [
        ("true", None), ("false", None), (None, None),
        (None, 'unmapped value: deal_stage "Negotiating" is not in the values map'),
    ]


def test_values_default_takes_unmapped_values_and_case_folding_matches_any_case(tmp_path):
    spec = column(tmp_path, {"source": "Do Not Email", "type": "boolean", "case": "lower",
                             "values": {"Yes": True, "No": False}, "values_default": False})
    rows = apply(spec, ["Id", "Do Not Email"], [("1", "Yes"), ("2", "NO"), ("3", "maybe")])
    assert rows == [("true", None), ("false", None), ("false", None)]


def test_case_folding_makes_one_category_of_mixed_case_text(tmp_path):
    header, rows = ["Id", "Lead Source"], [("1", "Google"), ("2", "google"), ("3", "GOOGLE"), ("4", "direct traffic")]
    lower = column(tmp_path, {"source": "Lead Source", "case": "lower"})
    assert [value for value, _ in apply(lower, header, rows)] == ["google", "google", "google", "direct traffic"]
    title = column(tmp_path, {"source": "Lead Source", "case": "title"})
    assert [value for value, _ in apply(title, header, rows)] == ["Google", "Google", "Google", "Direct Traffic"]
    upper = column(tmp_path, {"source": "Lead Source", "case": "upper"})
    assert apply(upper, header, rows[:1]) == [("GOOGLE", None)]


def test_a_format_reads_day_first_dates_and_names_values_that_do_not_match(tmp_path):
    spec = column(tmp_path, {"source": "Close", "type": "date", "format": "%d/%m/%Y"})
    rows = apply(spec, ["Id", "Close"], [("1", "25/12/2026"), ("2", ""), ("3", "12/25/2026")])
    assert rows == [("2026-12-25", None), (None, None),
                    (None, 'bad format: Close "12/25/2026" does not match %d/%m/%Y')]
    stamp = column(tmp_path, {"source": "Created", "type": "timestamp", "format": ["%d/%m/%Y %H:%M", "%d/%m/%Y"]})
    assert apply(stamp, ["Id", "Created"], [("1", "02/03/2026 14:05"), ("2", "02/03/2026")]) == [
        ("2026-03-02 14:05:00", None), ("2026-03-02 00:00:00", None)]


def test_plain_columns_keep_their_type_checks_and_reasons(tmp_path):
    spec = column(tmp_path, {"source": "AnnualRevenue", "type": "number"})
    assert apply(spec, ["Id", "AnnualRevenue"], [("1", "12.5"), ("2", "lots")]) == [
        ("12.5", None), ("lots", "bad type: AnnualRevenue is not a number")]


def test_several_raw_columns_may_read_one_source_column(tmp_path):
    path = mapping_file(tmp_path, {
        "stage_name": "deal_stage",
        "is_closed": {"source": "deal_stage", "type": "boolean", "values": {"Won": True, "Lost": True, "Open": False}},
        "is_won": {"source": "deal_stage", "type": "boolean", "values": {"Won": True, "Lost": False, "Open": False}},
    })
    columns = load_mapping(str(path)).objects[0].columns
    assert [apply(c, ["Id", "deal_stage"], [("1", "Lost")])[0][0] for c in columns[1:]] == ["Lost", "true", "false"]


@pytest.mark.parametrize(("spec", "message"), [
    ({"source": "Rating", "valuse": {"a": "b"}}, "column value: unknown key(s) valuse"),
    ({"source": "Rating", "type": "datetime"}, "column value: unknown type 'datetime'"),
    ({"source": "Stage", "values": ["Won", "Lost"]}, "column value: values must be a mapping of source text"),
    ({"source": "Stage", "values": {True: True}}, "values key True must be quoted text"),
    ({"source": "Stage", "values_default": "x"}, "values_default needs a values map"),
    ({"source": "Stage", "type": "boolean", "values": {"Won": "maybe"}}, "values 'maybe' is not a boolean"),
    ({"constant": "x", "source": "Rating"}, "column value: a constant reads no source column; drop source"),
    ({"constant": "soon", "type": "timestamp"}, "constant 'soon' is not a timestamp"),
    ({"source": "Created", "type": "timestamp", "format": "%d/%m/%Q"}, "column value: bad format '%d/%m/%Q'"),
    ({"source": "Created", "type": "timestamp", "format": "day-month-year"}, "is not a strptime format"),
    ({"source": "Rating", "format": "%d/%m/%Y"}, "format is for timestamp or date columns, not text"),
    ({"source": "Rating", "case": "camel"}, "column value: unknown case 'camel'"),
    ({"source": "Created", "type": "timestamp", "required": True, "default": "delivery"},
     "cannot be required as well"),
    ({"source": "Rating", "default": "delivery"}, "default: delivery is for timestamp or date columns"),
    ({"type": "text"}, "expected a source column name"),
])
def test_mapping_errors_name_the_file_and_the_key(tmp_path, spec, message):
    path = mapping_file(tmp_path, {"value": spec})
    with pytest.raises(MappingError) as error:
        load_mapping(str(path))
    assert str(error.value).startswith(f"{path}: object Lead")
    assert message in str(error.value)


def test_bare_yes_no_keys_are_refused_because_yaml_reads_them_as_booleans(tmp_path):
    path = tmp_path / "yes_no.yml"
    path.write_text(
        "objects:\n  Lead:\n    table: crm_leads\n    key: lead_id\n    columns:\n      lead_id: Id\n"
        "      do_not_call: {source: DoNotCall, type: boolean, values: {Yes: true, No: false}}\n",
        encoding="utf-8",
    )
    with pytest.raises(MappingError, match="column do_not_call: values key True must be quoted text"):
        load_mapping(str(path))


def manifest(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "select source_file, rows_read, rows_loaded, rows_quarantined, status from raw.load_manifest"
    ).fetchall()


def physical_lines(path: Path) -> int:
    return len(path.read_bytes().splitlines())


def land(landing: Path, fixture: str) -> Path:
    target = landing / "crm" / "2026-06-30" / fixture
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / fixture, target)
    return target


def load_example(con, landing: Path, fixture: str, mapping: str, table: RawTable, records: int) -> None:
    """Ingest a fixture with an example mapping: every record line (all but the header) is
    loaded, and the reconciliation check agrees."""
    land(landing, fixture)
    ingest_source(con, landing, "crm", str(EXAMPLES / mapping))
    assert manifest(con) == [(f"crm/2026-06-30/{fixture}", records, records, 0, "loaded")]
    assert physical_lines(FIXTURES / fixture) - 1 == records
    assert reconciliation(con, table).passed


def test_deals_export_loads_with_the_example_mapping(con, landing):
    load_example(con, landing, "deals.csv", "deals.yml", RawTable("crm", "opportunities", "crm_opportunities"), 18)
    deals = dict(con.execute(
        "select opportunity_id, (stage_name, is_closed, is_won, created_at, account_id, opportunity_type) "
        "from raw.crm_opportunities").fetchall())
    assert deals["K3M9Q2WA"] == ("Won", "true", "true", "2026-01-05", "Halvorsen Freight", "New Business")
    assert deals["P7R2T8XB"][:3] == ("Lost", "true", "false")
    assert deals["Z1Y4V6NC"][:3] == ("Engaging", "false", "false")
    # A Prospecting deal without engage date nor account loads, created when delivered.
    assert deals["A8B3C5DD"] == ("Prospecting", "false", "false", "2026-06-30T00:00:00+00:00", None, "New Business")
    assert con.execute("select count(*) from raw.crm_opportunities where created_at is null").fetchone()[0] == 0


def test_flat_lead_export_loads_with_the_example_mapping(con, landing):
    load_example(con, landing, "leads_export.csv", "flat_leads.yml", RawTable("crm", "leads", "crm_leads"), 20)
    leads = con.execute(
        "select lead_source, count(*), min(created_at), max(created_at) from raw.crm_leads group by 1"
    ).fetchall()
    by_source = {source: count for source, count, *_ in leads}
    assert by_source["google"] == 7 and "Google" not in by_source
    assert {(low, high) for _, _, low, high in leads} == {("2026-06-30T00:00:00+00:00",) * 2}
    opted_out = con.execute(
        "select has_opted_out_of_email, count(*) from raw.crm_leads group by 1 order by 1").fetchall()
    assert opted_out == [("false", 18), ("true", 2)]
    # The 0/1 outcome stays a custom field for now.
    converted = con.execute(
        "select custom_fields ->> 'Converted', count(*) from raw.crm_leads group by 1 order by 1").fetchall()
    assert converted == [("0", 12), ("1", 8)]


def test_example_mappings_are_valid_crm_mappings():
    for name in ("deals", "flat_leads"):
        mapping = crm_mapping(str(EXAMPLES / f"{name}.yml"))
        assert mapping.name == name
