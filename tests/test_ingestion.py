"""Ingestion of landing files: every line ends in its raw table or in quarantine with a reason,
files load once, and the ledger reconciles."""

from __future__ import annotations

import gzip
import json
import shutil

import duckdb
import pytest

from leadscore.ingest.checks import quarantine_rate, reconciliation
from leadscore.ingest.mapping import MappingError, load_mapping
from leadscore.ingest.sources import RAW_TABLES, crm_mapping, ingest_source
from tests.conftest import shared_file, write

GOOD_HIT = (
    '203.0.113.7 - - [30/Jun/2026:14:02:11 +0200] "GET /pricing?utm_source=mail HTTP/1.1" 200 5120 '
    '"https://www.google.com/" "Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0" "v-8f3a2c1d9e"'
)
GOOD_HIT_NO_COOKIE = (
    '198.51.100.2 - - [30/Jun/2026:12:00:00 +0000] "POST /forms/demo-request HTTP/1.1" 302 - "-" "curl/8.1"'
)


def manifest(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "select source_file, rows_read, rows_loaded, rows_quarantined, status "
        "from raw.load_manifest order by source_file"
    ).fetchall()


def quarantined(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute(
        "select source_file, source_line, reason from raw.quarantine order by source_file, source_line"
    ).fetchall()


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    names = [r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = 'raw'").fetchall()]
    return {name: con.execute(f"select count(*) from raw.{name}").fetchone()[0] for name in names}


def test_web_log_lines_are_parsed_or_quarantined_with_reason_and_line(con, landing):
    lines = [
        GOOD_HIT.encode(),
        GOOD_HIT_NO_COOKIE.encode(),
        b'203.0.113.9 - - [30/Jun/2026:14:02:11 +0200] "GET /truncated HTTP/1.1" 200 12 "-" "Mozilla/5.0 (compat',
        b'203.0.113.9 - - [31/Foo/2026:99:02:11 +0200] "GET / HTTP/1.1" 200 12 "-" "Mozilla/5.0"',
        b'203.0.113.9 - - [30/Jun/2026:14:02:11 +0200] "GET /caf\xe9 HTTP/1.1" 200 12 "-" "Mozilla/5.0"',
        b"",
        GOOD_HIT.replace("/pricing", "/after-bad-lines").encode(),
    ]
    write(landing / "weblogs" / "access-2026-06-30.log", b"\n".join(lines) + b"\n")

    ingest_source(con, landing, "weblogs")

    assert manifest(con) == [("weblogs/access-2026-06-30.log", 7, 3, 4, "loaded")]
    assert quarantined(con) == [
        ("weblogs/access-2026-06-30.log", 3, "malformed line: not in combined log format"),
        ("weblogs/access-2026-06-30.log", 4, "unparseable timestamp: 31/Foo/2026:99:02:11 +0200"),
        ("weblogs/access-2026-06-30.log", 5, "bad encoding: not valid UTF-8"),
        ("weblogs/access-2026-06-30.log", 6, "malformed line: empty"),
    ]
    rows = con.execute(
        "select _source_line, client_ip, request_time, http_method, request_path, status, response_bytes, "
        "referrer, user_agent, visitor_id from raw.weblog_hits order by _source_line"
    ).fetchall()
    assert rows == [
        (1, "203.0.113.7", "30/Jun/2026:14:02:11 +0200", "GET", "/pricing?utm_source=mail", "200", "5120",
         "https://www.google.com/", "Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0", "v-8f3a2c1d9e"),
        (2, "198.51.100.2", "30/Jun/2026:12:00:00 +0000", "POST", "/forms/demo-request", "302", "-",
         "-", "curl/8.1", None),
        # Line numbers stay true after lines the CSV reader itself rejected (bad encoding).
        (7, "203.0.113.7", "30/Jun/2026:14:02:11 +0200", "GET", "/after-bad-lines?utm_source=mail", "200", "5120",
         "https://www.google.com/", "Mozilla/5.0 (X11; Linux x86_64) Firefox/126.0", "v-8f3a2c1d9e"),
    ]
    raw_content = con.execute("select raw_content from raw.quarantine where source_line = 4").fetchone()[0]
    assert raw_content.startswith("203.0.113.9 - - [31/Foo/2026")


def test_rerun_loads_nothing_and_a_renamed_copy_is_recorded_once_as_duplicate(con, landing):
    original = write(landing / "weblogs" / "access-2026-06-30.log", GOOD_HIT + "\n" + GOOD_HIT_NO_COOKIE + "\n")
    ingest_source(con, landing, "weblogs")
    before = table_counts(con)

    ingest_source(con, landing, "weblogs")
    assert table_counts(con) == before

    shutil.copy(original, landing / "weblogs" / "access-2026-06-30 (1).log")
    ingest_source(con, landing, "weblogs")
    ingest_source(con, landing, "weblogs")
    assert con.execute("select count(*) from raw.weblog_hits").fetchone()[0] == 2
    assert manifest(con) == [
        ("weblogs/access-2026-06-30 (1).log", 0, 0, 0, "duplicate"),
        ("weblogs/access-2026-06-30.log", 2, 2, 0, "loaded"),
    ]
    duplicate_of = con.execute(
        "select duplicate_of from raw.load_manifest where status = 'duplicate'").fetchone()[0]
    assert duplicate_of == "weblogs/access-2026-06-30.log"


def test_empty_files_are_recorded_as_empty_not_as_copies_of_each_other(con, landing):
    write(landing / "email" / "email-events-2026-06-29.jsonl", b"")
    write(landing / "email" / "email-events-2026-06-30.jsonl", b"")
    write(landing / "email" / "email-events-2026-07-01.jsonl.gz", gzip.compress(b""))

    ingest_source(con, landing, "email")
    ingest_source(con, landing, "email")

    assert [row[1:] for row in manifest(con)] == [(0, 0, 0, "empty")] * 3


def test_gzip_is_detected_by_content_and_unfinished_files_are_left_alone(con, landing):
    write(landing / "weblogs" / "server1" / "access-2026-06-30", gzip.compress((GOOD_HIT + "\n").encode()))
    write(landing / "weblogs" / "access-2026-07-01.log.part", GOOD_HIT + "\n")
    write(landing / "weblogs" / ".access-2026-07-01.log", GOOD_HIT + "\n")

    ingest_source(con, landing, "weblogs")

    assert manifest(con) == [("weblogs/server1/access-2026-06-30", 1, 1, 0, "loaded")]


LEAD_HEADER = "Id,FirstName,LastName,Email,Company,AnnualRevenue,Country,CreatedDate,IsConverted,Purchase_Timeline__c"


def test_crm_records_are_typed_checked_and_custom_fields_kept(con, landing):
    rows = [
        LEAD_HEADER,
        '00Q000000000001AAA,Ana,"Lopez, Jr",ana@acme.com,Acme,5000000,USA,2026-01-23T02:21:49.000+0000,1,< 3 months',
        ",No,Id,noid@acme.com,Acme,,US,2026-01-23T02:21:49.000+0000,,",
        "00Q000000000003AAA,Bad,Date,bad@acme.com,Acme,,US,yesterday,,",
        "00Q000000000004AAA,Bad,Revenue,rev@acme.com,Acme,lots,US,2026-01-23T02:21:49.000+0000,,",
        "00Q000000000005AAA,Too,Many,x@acme.com,Acme,,US,2026-01-23T02:21:49.000+0000,,,extra",
        "00Q000000000006AAA,Bea,Ng,bea@acme.com,Acme,,FR,2026-02-01T10:00:00.000+0000,,",
    ]
    write(landing / "crm" / "2026-06-30" / "Lead.csv", "\ufeff" + "\r\n".join(rows) + "\r\n")

    ingest_source(con, landing, "crm")

    assert manifest(con) == [("crm/2026-06-30/Lead.csv", 6, 2, 4, "loaded")]
    assert quarantined(con) == [
        ("crm/2026-06-30/Lead.csv", 3, "missing key: Id"),
        ("crm/2026-06-30/Lead.csv", 4, "bad type: CreatedDate is not a timestamp"),
        ("crm/2026-06-30/Lead.csv", 5, "bad type: AnnualRevenue is not a number"),
        ("crm/2026-06-30/Lead.csv", 6, "malformed record: more columns than the header"),
    ]
    leads = con.execute(
        "select lead_id, last_name, annual_revenue, country, created_at, is_converted, custom_fields, _source_line "
        "from raw.crm_leads order by lead_id"
    ).fetchall()
    assert [row[:6] for row in leads] == [
        ("00Q000000000001AAA", "Lopez, Jr", "5000000", "USA", "2026-01-23T02:21:49.000+0000", "1"),
        ("00Q000000000006AAA", "Ng", None, "FR", "2026-02-01T10:00:00.000+0000", None),
    ]
    assert json.loads(leads[0][6]) == {"Purchase_Timeline__c": "< 3 months"}
    assert [row[7] for row in leads] == [2, 7]
    bad_revenue = con.execute("select raw_content from raw.quarantine where source_line = 5").fetchone()[0]
    assert json.loads(bad_revenue)["AnnualRevenue"] == "lots"


def test_crm_files_the_mapping_cannot_place_are_quarantined_whole(con, landing):
    write(landing / "crm" / "Case.csv", "Id,Subject\n500A,Broken printer\n500B,Refund\n")
    write(landing / "crm" / "Contact.csv", "FirstName,LastName,CreatedDate\nAna,Lopez,2026-01-01\n")

    ingest_source(con, landing, "crm")

    assert manifest(con) == [
        ("crm/Case.csv", 2, 0, 2, "rejected"),
        ("crm/Contact.csv", 1, 0, 1, "rejected"),
    ]
    reasons = {row[0]: row[2] for row in quarantined(con)}
    assert reasons["crm/Case.csv"].startswith("unknown object: no entry in mapping salesforce")
    assert reasons["crm/Contact.csv"] == "missing column(s) Id required by mapping salesforce object Contact"
    # Every raw CRM table exists even when no file fed it: staging reads them all.
    assert {t.identifier for t in RAW_TABLES["crm"]} <= set(table_counts(con))


def test_score_adjustments_fill_exactly_one_of_points_and_score(con, landing):
    rows = [
        "adjustment_id,crm_id,rulebook_id,points,score,reason,author,adjusted_at",
        "a1,00Q1,,10,,Met at the trade show,jane,2026-06-01T10:00:00Z",
        "a2,00Q2,guide_v1,,80,Confirmed budget on a call,omar,2026-06-02T10:00:00Z",
        "a3,00Q3,,5,70,Both filled,jane,2026-06-03T10:00:00Z",
        "a4,00Q4,,,,Neither filled,jane,2026-06-03T10:00:00Z",
        "a5,00Q5,,ten,,Not a number,jane,2026-06-03T10:00:00Z",
        "a6,00Q6,,3,,,jane,2026-06-03T10:00:00Z",
    ]
    write(landing / "adjustments" / "adjustments-2026-06-03.csv", "\n".join(rows) + "\n")

    ingest_source(con, landing, "adjustments")

    assert manifest(con) == [("adjustments/adjustments-2026-06-03.csv", 6, 2, 4, "loaded")]
    assert [row[1:] for row in quarantined(con)] == [
        (4, "exactly one of points, score is required"),
        (5, "exactly one of points, score is required"),
        (6, "bad type: points is not a number"),
        (7, "missing required value: reason"),
    ]
    assert con.execute("select adjustment_id, points, score from raw.score_adjustments order by 1").fetchall() == [
        ("a1", "10", None), ("a2", None, "80"),
    ]


def test_email_event_lines_are_checked(con, landing):
    good = {"event_id": "e1", "event_type": "click", "occurred_at": "2026-06-30T10:00:00+02:00",
            "email": "ana@acme.com", "campaign_id": "701A", "url": "https://example.com/pricing", "extra": 1}
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps({**good, "event_id": None}),
        json.dumps({**good, "event_id": "e4", "occurred_at": "last tuesday"}),
        "[1, 2]",
    ]
    write(landing / "email" / "email-events-2026-06-30.jsonl.gz", gzip.compress("\n".join(lines).encode()))

    ingest_source(con, landing, "email")

    assert manifest(con) == [("email/email-events-2026-06-30.jsonl.gz", 5, 1, 4, "loaded")]
    assert [row[1:] for row in quarantined(con)] == [
        (2, "malformed line: not a JSON object"),
        (3, "missing key: event_id"),
        (4, "unparseable timestamp: last tuesday"),
        (5, "malformed line: not a JSON object"),
    ]
    row = con.execute("select event_id, event_type, occurred_at, email, event_json ->> 'extra' "
                      "from raw.email_events").fetchone()
    assert row == ("e1", "click", "2026-06-30T10:00:00+02:00", "ana@acme.com", "1")


def test_checks_reconcile_and_block_on_a_high_quarantine_rate(con, landing):
    write(landing / "weblogs" / "good.log", (GOOD_HIT + "\n") * 9)
    write(landing / "weblogs" / "bad.log", "garbage\n" * 3 + GOOD_HIT + "\n")
    ingest_source(con, landing, "weblogs")
    (hits,) = RAW_TABLES["weblogs"]

    assert reconciliation(con, hits).passed
    outcome = quarantine_rate(con, "weblogs", max_rate=0.05)
    assert not outcome.passed
    assert "weblogs/bad.log (3/4 rows)" in outcome.message
    assert quarantine_rate(con, "weblogs", max_rate=0.5).passed

    # Still blocked when a later run finds nothing new; a clean delivery clears it.
    ingest_source(con, landing, "weblogs")
    assert not quarantine_rate(con, "weblogs", max_rate=0.05).passed
    write(landing / "weblogs" / "next.log", GOOD_HIT + "\n")
    ingest_source(con, landing, "weblogs")
    assert quarantine_rate(con, "weblogs", max_rate=0.05).passed

    # Rows deleted behind the ledger's back are caught.
    con.execute("delete from raw.weblog_hits where _source_file = 'weblogs/good.log' and _source_line = 1")
    broken = reconciliation(con, hits)
    assert not broken.passed and "weblogs/good.log: manifest says 9 rows loaded" in broken.message


def test_mapping_errors_name_the_file_and_the_entry(tmp_path):
    bad = write(tmp_path / "my_crm.yml", "objects:\n  Lead:\n    table: crm_leads\n    key: lead_id\n"
                "    columns:\n      lead_id: {source: Id, type: uuid}\n")
    with pytest.raises(MappingError, match=r"my_crm.yml: object Lead: column lead_id: unknown type 'uuid'"):
        load_mapping(str(bad))
    elsewhere = write(tmp_path / "other.yml", "objects:\n  Thing:\n    table: things\n    key: thing_id\n"
                      "    columns:\n      thing_id: Id\n")
    with pytest.raises(MappingError, match="things are not raw CRM tables"):
        crm_mapping(str(elsewhere))
    with pytest.raises(MappingError, match="no bundled mapping named 'pipedrive'"):
        load_mapping("pipedrive")


def test_real_apache_log_every_line_parsed_or_quarantined(con, landing):
    source = shared_file("apache_logs_elastic/apache_logs")
    shutil.copy(source, write(landing / "weblogs" / "apache_logs", b""))

    ingest_source(con, landing, "weblogs")

    assert manifest(con) == [("weblogs/apache_logs", 10_000, 9_999, 1, "loaded")]
    # The one line whose user-agent quote never closes.
    line, reason, content = con.execute("select source_line, reason, raw_content from raw.quarantine").fetchone()
    assert reason == "malformed line: not in combined log format" and "Googlebot" in content
    assert line == 8899
    assert con.execute("select count(*) from raw.weblog_hits where response_bytes = '-'").fetchone()[0] == 669


def test_real_attack_log_is_fully_parsed(con, landing):
    source = shared_file("hackers_access_log_basjes/hackers-access.log")
    shutil.copy(source, write(landing / "weblogs" / "hackers-access.log", b""))

    ingest_source(con, landing, "weblogs")

    assert manifest(con) == [("weblogs/hackers-access.log", 3456, 3456, 0, "loaded")]


def test_real_salesforce_export_loads_or_is_quarantined_with_reason(con, landing):
    export = shared_file("salesforce_sample_export_sfdc_assets")
    for csv_file in export.glob("*.csv"):
        shutil.copy(csv_file, write(landing / "crm" / "sample" / csv_file.name, b""))

    ingest_source(con, landing, "crm")

    loaded = {row[0].split("/")[-1]: row[1:] for row in manifest(con)}
    assert loaded["Lead.csv"] == (60, 60, 0, "loaded")
    assert loaded["Contact.csv"] == (102, 102, 0, "loaded")
    assert loaded["Account.csv"] == (22, 22, 0, "loaded")
    assert loaded["Opportunity.csv"] == (50, 50, 0, "loaded")
    assert loaded["Campaign.csv"] == (8, 8, 0, "loaded")
    assert loaded["CampaignMember.csv"] == (68, 68, 0, "loaded")
    assert loaded["Task.csv"] == (75, 75, 0, "loaded")
    # Objects scoring does not use are kept in quarantine, whole, with the reason.
    for name in ("Case.csv", "AccountContactRelation.csv", "Branch__c.csv"):
        assert loaded[name][0] == loaded[name][2] > 0 and loaded[name][3] == "rejected"
    assert con.execute("select count(*) from raw.quarantine where reason is null or reason = ''").fetchone()[0] == 0
    # Custom fields such as Product__c stay available for scoring rules.
    product = con.execute(
        "select count(*) from raw.crm_opportunities where custom_fields ->> 'Product__c' is not null").fetchone()[0]
    assert product > 0


def test_real_hubspot_fixtures_load_with_the_hubspot_mapping(con, landing):
    fixtures = shared_file("hubspot_fivetran_fixtures")
    for name in ("contact_data.csv", "company_data.csv", "deal_data.csv", "owner_data.csv", "deal_contact_data.csv"):
        shutil.copy(fixtures / name, write(landing / "crm" / name, b""))

    ingest_source(con, landing, "crm", "hubspot")

    assert [row[1:] for row in manifest(con)] == [
        (24, 24, 0, "loaded"), (22, 22, 0, "loaded"), (11, 11, 0, "loaded"), (44, 44, 0, "loaded"),
        (100, 100, 0, "loaded"),
    ]
    assert con.execute("select count(distinct opportunity_contact_role_id) from raw.crm_opportunity_contact_roles"
                       ).fetchone()[0] == 11
