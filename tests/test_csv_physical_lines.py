"""CSV records and physical lines: a quote that is never closed costs its own line only, a quoted
newline keeps its record whole, headers as real exports write them (a comma ending every line, a
byte-order mark, quoted or padded names) load, and the ledger reconciles on lines as well as on
records. The quarantine rate is judged per raw table."""

from __future__ import annotations

import duckdb
import pytest

from leadscore.ingest.checks import quarantine_rate, reconciliation
from leadscore.ingest.ledger import ensure_ledger
from leadscore.ingest.sources import RAW_TABLES, crm_mapping, ingest_source
from tests.conftest import write

FORM_HEADER = ("submission_id,submitted_at,form_name,page_url,visitor_id,email,first_name,last_name,company,"
               "job_title,country,phone")
FORMS_TABLE = RAW_TABLES["forms"][0]
LEAD_HEADER = "Id,FirstName,LastName,Email,Company,CreatedDate"


def form_row(number: int, company: str = "Acme") -> str:
    return (f"s{number},2026-06-30T10:00:00Z,demo,/pricing,v{number},p{number}@acme.com,Ana,Lopez,{company},"
            f"CTO,US,555")


def lead_row(number: int, company: str = "Acme") -> str:
    return f"00Q{number:03d},Ana,Lopez,p{number}@acme.com,{company},2026-01-23T02:21:49.000+0000"


def manifest(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """(file, rows read/loaded/quarantined, lines read/loaded/quarantined/empty, status, message)."""
    return con.execute(
        "select source_file, rows_read, rows_loaded, rows_quarantined, lines_read, lines_loaded, "
        "lines_quarantined, lines_empty, status, message from raw.load_manifest order by source_file"
    ).fetchall()


def quarantined(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute("select source_line, reason, raw_content from raw.quarantine order by source_line").fetchall()


def loaded_lines(con: duckdb.DuckDBPyConnection, table: str) -> list[int]:
    return [line for (line,) in con.execute(f"select _source_line from raw.{table} order by 1").fetchall()]


def test_an_unclosed_quote_costs_its_own_line_and_the_lines_below_it_load(con, landing):
    rows = [form_row(number) for number in range(1, 32)]
    rows[10] = form_row(11, '"Acme, Inc')  # line 12: the quote never closes
    write(landing / "forms" / "forms-2026-06-30.csv", FORM_HEADER + "\n" + "\n".join(rows) + "\n")

    ingest_source(con, landing, "forms")

    assert manifest(con) == [("forms/forms-2026-06-30.csv", 31, 30, 1, 31, 30, 1, 0, "loaded", None)]
    ((line, reason, content),) = quarantined(con)
    assert line == 12 and reason.startswith("malformed record: the quote opened on line 12 is not closed")
    assert content == form_row(11, '"Acme, Inc')
    assert loaded_lines(con, "form_submissions") == [n for n in range(2, 33) if n != 12]
    assert reconciliation(con, FORMS_TABLE).passed


def test_a_quoted_newline_keeps_its_record_whole_and_later_lines_keep_their_numbers(con, landing):
    rows = [form_row(1), form_row(2, '"Acme\nWest, Inc"'), "", form_row(3), form_row(4, '"Acme ""Labs"""')]
    write(landing / "forms" / "forms.csv", (FORM_HEADER + "\n" + "\n".join(rows) + "\n").replace("\n", "\r\n"))

    ingest_source(con, landing, "forms")

    # 6 physical lines: 4 records, one over two lines, and an empty line between records.
    assert manifest(con) == [("forms/forms.csv", 4, 4, 0, 6, 5, 0, 1, "loaded", None)]
    assert con.execute("select _source_line, company from raw.form_submissions order by 1").fetchall() == [
        (2, "Acme"), (3, "Acme\r\nWest, Inc"), (6, "Acme"), (7, 'Acme "Labs"'),
    ]
    assert reconciliation(con, FORMS_TABLE).passed


def test_a_quote_open_at_the_end_of_the_file_and_a_quoted_newline_before_it(con, landing):
    rows = [form_row(1, '"two\nlines"'), form_row(2), form_row(3, '"never closed'), form_row(4)]
    write(landing / "forms" / "forms.csv", FORM_HEADER + "\n" + "\n".join(rows))  # no final newline

    ingest_source(con, landing, "forms")

    assert manifest(con) == [("forms/forms.csv", 4, 3, 1, 5, 4, 1, 0, "loaded", None)]
    assert [(line, reason.split(" (")[0]) for line, reason, _ in quarantined(con)] == [
        (5, "malformed record: the quote opened on line 5 is not closed")]
    assert loaded_lines(con, "form_submissions") == [2, 4, 6]


def test_a_broken_quote_inside_a_file_with_many_quotes_is_found_again_after_each_failure(con, landing):
    # Every field quoted (Salesforce style); two lines lose a closing quote.
    quoted = [",".join(f'"{value}"' for value in lead_row(number).split(",")) for number in range(1, 9)]
    quoted[2] = quoted[2].replace('"Acme"', '"Acme', 1)
    quoted[5] = quoted[5].replace('"Lopez"', '"Lo"pez"', 1)
    write(landing / "crm" / "Lead.csv", LEAD_HEADER + "\n" + "\n".join(quoted) + "\n")

    ingest_source(con, landing, "crm")

    ((_, read, loaded, rejected, lines, *_),) = manifest(con)
    assert (read, loaded, rejected, lines) == (8, 6, 2, 8)
    assert [line for line, _, _ in quarantined(con)] == [4, 7]
    assert loaded_lines(con, "crm_leads") == [2, 3, 5, 6, 8, 9]
    assert reconciliation(con, RAW_TABLES["crm"][0]).passed


def test_a_comma_ending_every_line_is_an_empty_column_dropped_with_a_note(con, landing):
    rows = [LEAD_HEADER + ",,", *(lead_row(number) + ",," for number in range(1, 4)), lead_row(4) + ",,oops"]
    write(landing / "crm" / "Lead.csv", "\n".join(rows) + "\n")

    ingest_source(con, landing, "crm")

    ((_, read, loaded, rejected, *_, status, message),) = manifest(con)
    assert (read, loaded, rejected, status) == (4, 3, 1, "loaded")
    assert message == ("dropped 2 empty column(s) at the end of the header (column 7-8: no name); "
                       "1 row(s) with a value there quarantined")
    assert [(line, reason) for line, reason, _ in quarantined(con)] == [
        (5, "a value in column 8, which has no name in the header")]
    header = con.execute("select header from raw.load_manifest").fetchone()[0]
    assert header == LEAD_HEADER.split(",")
    assert con.execute("select custom_fields from raw.crm_leads").fetchall() == [(None,)] * 3


def test_a_bom_quoted_names_and_padded_names_are_read_as_the_names(con, landing):
    header = '\ufeff"Id", FirstName ,"LastName ",Email,Company,CreatedDate,  Purchase_Timeline__c'
    write(landing / "crm" / "Lead.csv", header + "\n" + lead_row(1) + ",soon\n")

    ingest_source(con, landing, "crm")

    assert con.execute("select lead_id, first_name, last_name, custom_fields from raw.crm_leads").fetchall() == [
        ("00Q001", "Ana", "Lopez", '{"Purchase_Timeline__c":"soon"}')]
    recorded = con.execute("select header from raw.load_manifest").fetchone()[0]
    assert recorded == ["Id", "FirstName", "LastName", "Email", "Company", "CreatedDate", "Purchase_Timeline__c"]


@pytest.mark.parametrize("second", ["Email", " Email", "EMAIL"])
def test_a_duplicated_header_name_rejects_the_file_naming_file_and_name(con, landing, second):
    write(landing / "crm" / "Lead.csv", f"{LEAD_HEADER},{second}\n{lead_row(1)},x\n{lead_row(2)},y\n")

    ingest_source(con, landing, "crm")

    ((_, read, loaded, rejected, lines, *_, status, message),) = manifest(con)
    assert (read, loaded, rejected, lines, status) == (2, 0, 2, 2, "rejected")
    assert message == "duplicated column(s) in header of crm/Lead.csv: Email (columns 4, 7)"
    assert reconciliation(con, RAW_TABLES["crm"][0]).passed


def test_reconciliation_fails_when_lines_do_not_add_up(con, landing):
    write(landing / "forms" / "forms.csv", FORM_HEADER + "\n" + form_row(1) + "\n")
    ingest_source(con, landing, "forms")
    assert reconciliation(con, FORMS_TABLE).passed

    # What the broken loader recorded: 28 records for 31 lines, rows balanced.
    con.execute("update raw.load_manifest set lines_read = 31, lines_loaded = 28")
    failed = reconciliation(con, FORMS_TABLE)
    assert not failed.passed
    assert "forms/forms.csv: 31 lines read but 28 in loaded records, 0 in quarantined ones and 0 empty" \
        in failed.message


def test_a_warehouse_from_before_line_counts_gets_the_columns_and_its_old_loads_still_reconcile(con, landing):
    con.execute("create schema raw")
    con.execute(
        "create table raw.load_manifest (load_id varchar primary key, source varchar not null, object_name varchar, "
        "target_table varchar, source_file varchar not null, file_checksum varchar not null, size_bytes bigint, "
        "modified_ns bigint, rows_read bigint not null, rows_loaded bigint not null, "
        "rows_quarantined bigint not null, status varchar not null, duplicate_of varchar, message varchar, "
        "loaded_at timestamptz not null, header varchar[])"
    )
    con.execute("insert into raw.load_manifest values ('old', 'forms', 'form_submissions', 'raw.form_submissions', "
                "'forms/old.csv', 'x', 1, 1, 0, 0, 0, 'loaded', null, null, now(), null)")
    ensure_ledger(con)
    ensure_ledger(con)
    write(landing / "forms" / "forms.csv", FORM_HEADER + "\n" + form_row(1) + "\n")

    ingest_source(con, landing, "forms")

    assert [row[4:8] for row in manifest(con)] == [(1, 1, 0, 0), (None, None, None, None)]
    assert reconciliation(con, FORMS_TABLE).passed


def test_the_quarantine_rate_fails_only_the_table_whose_file_is_bad(con, landing):
    contact_header = "Id,FirstName,LastName,Email,AccountId,CreatedDate"
    write(landing / "crm" / "2026-06-30" / "Lead.csv",
          LEAD_HEADER + "\n" + lead_row(1) + "\n" + "\n".join(lead_row(n, '"Acme') for n in range(2, 5)) + "\n")
    write(landing / "crm" / "2026-06-30" / "Contact.csv",
          contact_header + "\n003A,Bea,Ng,bea@acme.com,001A,2026-02-01T10:00:00Z\n")
    write(landing / "crm" / "2026-06-30" / "Case.csv", "Id,Subject\n500A,Broken printer\n")
    ingest_source(con, landing, "crm")
    mapping = crm_mapping("salesforce")
    tables = {table.identifier: table for table in RAW_TABLES["crm"]}

    outcomes = {name: quarantine_rate(con, "crm", 0.05, table, mapping) for name, table in tables.items()}

    assert [name for name, outcome in outcomes.items() if not outcome.passed] == ["crm_leads"]
    leads = outcomes["crm_leads"].message
    assert leads.startswith("raw.crm_leads: 75.00% of rows quarantined (limit 5.00%)")
    assert "crm/2026-06-30/Lead.csv (3/4 rows)" in leads and "Contact" not in leads and "Case" not in leads
    assert outcomes["crm_contacts"].message == "raw.crm_contacts: 0.00% of rows quarantined"
    assert outcomes["crm_accounts"].message == \
        "raw.crm_accounts: nothing delivered for this table in the latest crm delivery"
    # The whole family's rate, as before, when no table is named.
    assert not quarantine_rate(con, "crm", 0.05).passed
    # A later delivery without a lead file: the leads table has nothing new to judge.
    write(landing / "crm" / "2026-07-01" / "Contact.csv", contact_header + "\n003B,Cy,Ho,cy@acme.com,001A,"
          "2026-02-02T10:00:00Z\n")
    ingest_source(con, landing, "crm")
    assert quarantine_rate(con, "crm", 0.05, tables["crm_leads"], mapping).passed


def test_an_unreadable_crm_file_fails_the_table_its_name_belongs_to(con, landing):
    write(landing / "crm" / "Lead.csv.gz", b"\x1f\x8b broken")
    write(landing / "crm" / "Contact.csv", "Id,LastName,CreatedDate\n003A,Ng,2026-02-01T10:00:00Z\n")
    ingest_source(con, landing, "crm")
    mapping = crm_mapping("salesforce")
    tables = {table.identifier: table for table in RAW_TABLES["crm"]}

    assert not quarantine_rate(con, "crm", 0.05, tables["crm_leads"], mapping).passed
    assert quarantine_rate(con, "crm", 0.05, tables["crm_contacts"], mapping).passed
    # Without the mapping to place it by name, it counts for every table rather than for none.
    assert not quarantine_rate(con, "crm", 0.05, tables["crm_contacts"]).passed
    assert quarantined(con)[0][1].startswith("unreadable file: ")
