"""The BI copy: complete tables swapped in whole while a reader holds the old file open, personal
data kept, hashed (salted) or dropped, Parquet files equal to the tables, clear failures, and the
dbt descriptions carried as comments, Parquet metadata and a data dictionary."""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from leadscore.publish.bi_copy import PublishError, TableDocs, personal_columns_from_manifest, publish, read_manifest
from leadscore.warehouse import connect, grouped_rows_digests, rows_hashes
from tests.conftest import REPO_ROOT
from tests.headless import held_open_elsewhere

PERSONAL = {("marts", "dim_people"): {"email", "first_name"}}


def make_warehouse(path: Path, people: int = 3) -> None:
    with connect(path) as con:
        con.execute("create schema if not exists marts")
        con.execute("create schema if not exists feedback")
        con.execute("create schema if not exists raw")
        con.execute(f"""create or replace table marts.dim_people as
            select 'P' || i as crm_id, ' Ann' || i || '@Example.com ' as email, 'Ann' as first_name, 10.5 * i as score
            from range({people}) t(i)""")
        con.execute("create or replace table feedback.rpt_backtest as select 'guide_v2' as scorer, 0.83 as auc")
        con.execute("create or replace table raw.crm_leads as select 'secret' as email")


def read_people(database: Path) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute("select * from marts.dim_people order by crm_id").fetchall()


def test_marts_and_feedback_are_published_not_raw_data(tmp_path):
    make_warehouse(tmp_path / "w.duckdb")
    publication = publish(tmp_path / "w.duckdb", tmp_path / "published", PERSONAL)
    assert [(t.schema, t.table, t.rows) for t in publication.tables] == [
        ("feedback", "rpt_backtest", 1), ("marts", "dim_people", 3),
    ]
    assert read_people(publication.database)[0] == ("P0", " Ann0@Example.com ", "Ann", 0.0)
    parquet = publication.parquet_dir / "marts" / "dim_people.parquet"
    with duckdb.connect() as con:  # its own connection: the module-level default one is shared state
        assert con.execute(f"select * from '{parquet}' order by crm_id").fetchall() == read_people(publication.database)
    assert sorted(p.name for p in publication.parquet_dir.rglob("*") if p.is_file()) == [
        "dim_people.parquet", "rpt_backtest.parquet",
    ]


def test_personal_data_is_hashed_with_the_salt_or_dropped(tmp_path):
    make_warehouse(tmp_path / "w.duckdb")
    hashed = publish(tmp_path / "w.duckdb", tmp_path / "hashed", PERSONAL, policy="hash", salt="pepper")
    expected = hashlib.sha256(b"pepperann0@example.com").hexdigest()  # trimmed, lower case, salted
    assert read_people(hashed.database)[0][:2] == ("P0", expected)
    assert dict((t.table, t.personal_columns) for t in hashed.tables)["dim_people"] == ("email", "first_name")

    dropped = publish(tmp_path / "w.duckdb", tmp_path / "dropped", PERSONAL, policy="drop")
    with duckdb.connect(str(dropped.database), read_only=True) as con:
        columns = [row[0] for row in con.execute("describe marts.dim_people").fetchall()]
    assert columns == ["crm_id", "score"]

    with pytest.raises(PublishError, match="LEADSCORE_PUBLISH_HASH_SALT"):
        publish(tmp_path / "w.duckdb", tmp_path / "nosalt", PERSONAL, policy="hash")
    with pytest.raises(PublishError, match="'mask' is not one of keep, hash, drop"):
        publish(tmp_path / "w.duckdb", tmp_path / "bad", PERSONAL, policy="mask")


READER = textwrap.dedent("""
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    count = lambda: con.execute("select count(*) from marts.dim_people").fetchone()[0]
    print(count(), flush=True)
    sys.stdin.readline()  # hold the file open until the pipeline has published again
    print(count(), flush=True)
""")


def test_a_reader_holding_the_published_file_keeps_its_complete_version(tmp_path):
    warehouse, target = tmp_path / "w.duckdb", tmp_path / "published"
    make_warehouse(warehouse, people=3)
    publication = publish(warehouse, target, PERSONAL)
    reader = subprocess.Popen([sys.executable, "-c", READER, str(publication.database)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "3"
        make_warehouse(warehouse, people=5)
        publish(warehouse, target, PERSONAL)  # succeeds while the reader holds the old file
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == "3"  # the previous complete version
    finally:
        reader.stdin.close()
        reader.wait(timeout=30)
    assert len(read_people(publication.database)) == 5  # a new session sees the new version


def test_a_locked_warehouse_or_leftovers_of_a_killed_run(tmp_path):
    warehouse, target = tmp_path / "w.duckdb", tmp_path / "published"
    make_warehouse(warehouse)
    (target / "parquet" / "marts").mkdir(parents=True)
    (target / "leadscore.duckdb.partial").write_bytes(b"torn")
    (target / "parquet" / "marts" / "dim_people.parquet.partial").write_bytes(b"torn")
    publication = publish(warehouse, target, PERSONAL)
    assert len(read_people(publication.database)) == 3
    assert not list(target.rglob("*.partial"))

    with held_open_elsewhere(warehouse):
        with pytest.raises(PublishError, match="previous copy is unchanged") as error:
            publish(warehouse, target, PERSONAL)
        assert "lock" in str(error.value).lower()
    assert len(read_people(publication.database)) == 3


def test_personal_columns_are_read_from_the_dbt_models_yml():
    personal = personal_columns_from_manifest(REPO_ROOT / "dbt_project" / "target" / "manifest.json")
    assert personal[("marts", "dim_people")] == {"first_name", "last_name", "person_name", "email", "phone"}


def test_the_pipeline_publishes_every_mart_but_the_feature_rows(first_run, demo_settings):
    assert first_run.success
    published = demo_settings.publish_dir / "leadscore.duckdb"
    with connect(demo_settings.warehouse, read_only=True) as con:
        expected = {
            (schema, table): con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
            for schema, table in con.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_schema in ('marts', 'feedback')").fetchall()
        }
    with duckdb.connect(str(published), read_only=True) as con:
        got = {(schema, table): con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
               for schema, table in con.execute(
                   "select table_schema, table_name from information_schema.tables").fetchall()}
    # Every table but those the predictive fit alone reads (meta publish: false): the feature rows
    # and the custom fields, which may hold personal data the mapping did not name.
    assert expected.pop(("marts", "fct_person_features")) > 0
    assert expected.pop(("marts", "dim_person_custom_fields")) > 0
    assert ("marts", "dim_people") in got and got == expected


DOCS = {
    ("marts", "dim_people"): TableDocs(
        "One row per person.", {"crm_id": "The person's key.", "email": "Email address.", "score": "The score."},
        dbt_model="dim_people"),
}


def comments(database: Path) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """Table comments by schema.table, column comments by (schema.table, column)."""
    with duckdb.connect(str(database), read_only=True) as con:
        tables = dict(con.execute("select schema_name || '.' || table_name, comment from duckdb_tables() "
                                  "where database_name = current_database()").fetchall())
        columns = {(f"{schema}.{table}", column): comment for schema, table, column, comment in con.execute(
            "select schema_name, table_name, column_name, comment from duckdb_columns() "
            "where database_name = current_database() and not internal").fetchall()}
    return tables, columns


def dictionary_rows(publication) -> list[dict[str, str]]:
    with publication.dictionary.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def parquet_metadata(path: Path) -> dict[str, str]:
    with duckdb.connect() as con:
        return {key.decode(): value.decode() for key, value in con.execute(
            "select key, value from parquet_kv_metadata(?)", [str(path)]).fetchall()}


def test_descriptions_become_comments_parquet_metadata_and_a_dictionary(tmp_path):
    make_warehouse(tmp_path / "w.duckdb")
    hashed = publish(tmp_path / "w.duckdb", tmp_path / "hashed", PERSONAL, "hash", "pepper", docs=DOCS)
    tables, columns = comments(hashed.database)
    assert tables["marts.dim_people"] == "One row per person."
    # Without a description anywhere, the table still says so rather than nothing.
    assert "no description" in tables["feedback.rpt_backtest"]
    assert columns[("marts.dim_people", "crm_id")] == "The person's key."
    assert columns[("marts.dim_people", "email")].startswith("Email address. Personal data, published as a salted")
    assert "salted SHA-256" in columns[("marts.dim_people", "first_name")]  # personal, no description of its own

    rows = dictionary_rows(hashed)
    assert [(r["schema"], r["table"], r["column"]) for r in rows] == [
        ("feedback", "rpt_backtest", "scorer"), ("feedback", "rpt_backtest", "auc"),
        ("marts", "dim_people", "crm_id"), ("marts", "dim_people", "email"),
        ("marts", "dim_people", "first_name"), ("marts", "dim_people", "score"),
    ]
    email = next(r for r in rows if r["column"] == "email")
    assert (email["type"], email["personal_data"]) == ("VARCHAR", "hashed")
    assert email["description"] == columns[("marts.dim_people", "email")]

    metadata = parquet_metadata(hashed.parquet_dir / "marts" / "dim_people.parquet")
    assert metadata["table"] == "marts.dim_people" and metadata["dbt_model"] == "dim_people"
    assert metadata["description"] == "One row per person."
    assert json.loads(metadata["column_descriptions"])["crm_id"] == "The person's key."

    dropped = publish(tmp_path / "w.duckdb", tmp_path / "dropped", PERSONAL, "drop", docs=DOCS)
    tables, _ = comments(dropped.database)
    assert tables["marts.dim_people"] == "One row per person. Personal data left out of this copy: email, first_name."
    assert [r["column"] for r in dictionary_rows(dropped) if r["table"] == "dim_people"] == ["crm_id", "score"]
    assert "email" not in json.loads(parquet_metadata(dropped.parquet_dir / "marts" / "dim_people.parquet")
                                     ["column_descriptions"])


def test_the_published_copy_carries_every_dbt_description(first_run, demo_settings):
    assert first_run.success
    catalog = read_manifest(REPO_ROOT / "dbt_project" / "target" / "manifest.json")
    publish_dir = demo_settings.publish_dir
    tables, columns = comments(publish_dir / "leadscore.duckdb")
    assert tables and all(tables.values()), [name for name, comment in tables.items() if not comment]
    missing = []
    for (name, column), comment in columns.items():
        docs = catalog.docs.get(tuple(name.split(".")))
        description = docs.columns.get(column) if docs else None
        # A personal column's comment adds how it was published.
        if description and not (comment or "").startswith(description):
            missing.append(f"{name}.{column}")
    assert not missing, missing
    assert columns[("marts.fct_lead_scores", "total_score")]  # described in the dbt yml
    # The Python-written feedback tables are described by their Dagster assets.
    assert tables["feedback.predictive_scores"].startswith("Probability of a first opportunity")

    with (publish_dir / "data_dictionary.csv").open(newline="", encoding="utf-8") as handle:
        listed = {(f"{row['schema']}.{row['table']}", row["column"]): row for row in csv.DictReader(handle)}
    assert set(listed) == set(columns)
    assert all(row["description"] == (columns[key] or "") for key, row in listed.items())
    assert listed[("marts.dim_people", "email")]["personal_data"] == "kept"

    for name in tables:
        schema, table = name.split(".")
        metadata = parquet_metadata(publish_dir / "parquet" / schema / f"{table}.parquet")
        assert metadata["table"] == name and metadata["description"] == tables[name]
    assert parquet_metadata(publish_dir / "parquet" / "marts" / "dim_people.parquet")["dbt_model"] == "dim_people"


def files_by_inode(parquet_dir: Path) -> dict[str, tuple[int, int]]:
    """Each Parquet file's inode and modification time: the same pair means the file was kept."""
    return {path.name: (path.stat().st_ino, path.stat().st_mtime_ns) for path in parquet_dir.rglob("*.parquet")}


def test_a_publication_rewrites_only_the_tables_whose_rows_changed(tmp_path):
    warehouse, target = tmp_path / "w.duckdb", tmp_path / "published"
    make_warehouse(warehouse, people=3)
    first = publish(warehouse, target, PERSONAL, docs=DOCS)
    assert all(t.rewritten for t in first.tables)
    files = files_by_inode(first.parquet_dir)

    # Nothing changed (dim_people rebuilt with the same rows): nothing is written again.
    make_warehouse(warehouse, people=3)
    again = publish(warehouse, target, PERSONAL, docs=DOCS)
    assert [(t.table, t.rewritten, t.rows) for t in again.tables] == [
        ("rpt_backtest", False, 1), ("dim_people", False, 3)]
    assert files_by_inode(again.parquet_dir) == files
    assert len(read_people(again.database)) == 3

    # One value of one row changes, the count does not: that table alone is written again.
    with connect(warehouse) as con:
        con.execute("update marts.dim_people set score = 99 where crm_id = 'P1'")
    changed = publish(warehouse, target, PERSONAL, docs=DOCS)
    assert [(t.table, t.rewritten) for t in changed.tables] == [("rpt_backtest", False), ("dim_people", True)]
    now = files_by_inode(changed.parquet_dir)
    assert now["rpt_backtest.parquet"] == files["rpt_backtest.parquet"]
    assert now["dim_people.parquet"] != files["dim_people.parquet"]
    assert read_people(changed.database)[1] == ("P1", " Ann1@Example.com ", "Ann", 99)
    with duckdb.connect() as con:
        assert con.execute(f"select score from '{changed.parquet_dir / 'marts' / 'dim_people.parquet'}' "
                           "where crm_id = 'P1'").fetchone() == (99,)
        assert con.execute(f"select * from '{changed.parquet_dir / 'feedback' / 'rpt_backtest.parquet'}'"
                           ).fetchall() == [("guide_v2", Decimal("0.83"))]
    with duckdb.connect(str(changed.database), read_only=True) as con:
        assert con.execute("select * from feedback.rpt_backtest").fetchall() == [("guide_v2", Decimal("0.83"))]


def test_a_new_type_policy_description_or_missing_table_is_published_again(tmp_path):
    warehouse, target = tmp_path / "w.duckdb", tmp_path / "published"
    make_warehouse(warehouse)
    publish(warehouse, target, PERSONAL, docs=DOCS)

    # The same values in another type.
    with connect(warehouse) as con:
        con.execute("create or replace table feedback.rpt_backtest as select 'guide_v2' as scorer, 0.83::double as auc")
    retyped = publish(warehouse, target, PERSONAL, docs=DOCS)
    assert {t.table: t.rewritten for t in retyped.tables} == {"rpt_backtest": True, "dim_people": False}
    with duckdb.connect(str(retyped.database), read_only=True) as con:
        assert con.execute("select typeof(auc) from feedback.rpt_backtest").fetchone() == ("DOUBLE",)

    # Another personal data policy: the people's emails are now hashed in both copies.
    hashed = publish(warehouse, target, PERSONAL, policy="hash", salt="pepper", docs=DOCS)
    assert {t.table: t.rewritten for t in hashed.tables} == {"rpt_backtest": False, "dim_people": True}
    expected = hashlib.sha256(b"pepperann0@example.com").hexdigest()
    assert read_people(hashed.database)[0][1] == expected
    with duckdb.connect() as con:
        assert con.execute(f"select email from '{hashed.parquet_dir / 'marts' / 'dim_people.parquet'}' "
                           "where crm_id = 'P0'").fetchone() == (expected,)
    # Another salt gives other hashes: published again.
    resalted = publish(warehouse, target, PERSONAL, policy="hash", salt="other", docs=DOCS)
    assert {t.table: t.rewritten for t in resalted.tables}["dim_people"] is True

    # A new description, same rows: the table is kept, its comments and Parquet metadata follow.
    redescribed = {("marts", "dim_people"): TableDocs("People, one row each.", {}, dbt_model="dim_people")}
    described = publish(warehouse, target, PERSONAL, policy="hash", salt="other", docs=redescribed)
    assert not any(t.rewritten for t in described.tables)
    tables, columns = comments(described.database)
    assert tables["marts.dim_people"] == "People, one row each."
    # crm_id lost its description: its comment is gone too; email keeps the policy's note.
    assert columns[("marts.dim_people", "crm_id")] is None
    assert columns[("marts.dim_people", "email")].startswith("Personal data, published as a salted")
    assert parquet_metadata(described.parquet_dir / "marts" / "dim_people.parquet")["description"] == \
        "People, one row each."

    # A table gone from the warehouse is gone from the copy, its Parquet file too.
    with connect(warehouse) as con:
        con.execute("drop table feedback.rpt_backtest")
    removed = publish(warehouse, target, PERSONAL, policy="hash", salt="other", docs=redescribed)
    assert [t.table for t in removed.tables] == ["dim_people"]
    with duckdb.connect(str(removed.database), read_only=True) as con:
        assert con.execute("select table_name from information_schema.tables").fetchall() == [("dim_people",)]
        assert con.execute("select schema_name from duckdb_schemas() where database_name = current_database() "
                           "and not internal").fetchall() == [("marts",)]
    assert [p.name for p in removed.parquet_dir.rglob("*.parquet")] == ["dim_people.parquet"]


def test_updating_the_previous_copy_keeps_its_file_from_growing(tmp_path):
    warehouse, target = tmp_path / "w.duckdb", tmp_path / "published"
    with connect(warehouse) as con:
        con.execute("create schema marts")
        con.execute("create table marts.kept as select range as id, md5(range::varchar) as text from range(200000)")
    sizes = []
    for version in range(6):
        with connect(warehouse) as con:
            con.execute(f"create or replace table marts.changing as "
                        f"select range as id, md5((range + {version})::varchar) as text from range(200000)")
        publication = publish(warehouse, target, {})
        assert {t.table: t.rewritten for t in publication.tables} == {"changing": True, "kept": version == 0}
        sizes.append(publication.database.stat().st_size)
        with duckdb.connect(str(publication.database), read_only=True) as con:
            assert con.execute("select count(*), min(id), max(id), bool_and(text = md5(id::varchar)) "
                               "from marts.kept").fetchone() == (200000, 0, 199999, True)
            assert con.execute("select text from marts.changing where id = 7").fetchone() == (
                con.execute(f"select md5('{7 + version}')").fetchone())
    assert max(sizes) <= 2 * sizes[0], sizes


def test_a_big_table_is_patched_where_people_changed_and_equals_the_warehouse(tmp_path):
    warehouse, target = tmp_path / "w.duckdb", tmp_path / "published"
    with connect(warehouse) as con:
        con.execute("create schema marts")
        # 50,000 people with three rows each, two of them identical (a multiset, not a set).
        con.execute("""create table marts.fct_daily as
            select 'P' || (i // 3) as person_id, (i // 3) % 7 as score, i % 3 = 2 as is_latest
            from range(150000) t(i)""")
    first = publish(warehouse, target, {})
    assert first.tables[0].patched_rows is None
    # Digested per group of people, the same rows are kept as they are.
    same = publish(warehouse, target, {})
    assert not same.tables[0].rewritten and same.tables[0].patched_rows is None

    with connect(warehouse) as con:
        # Two people change, one gains a row, one leaves, one arrives.
        con.execute("update marts.fct_daily set score = 99 where person_id in ('P10', 'P20000')")
        con.execute("insert into marts.fct_daily values ('P30', 5, false), ('P-new', 1, true)")
        con.execute("delete from marts.fct_daily where person_id = 'P40'")
    patched = publish(warehouse, target, {})
    (table,) = patched.tables
    assert table.rewritten and table.rows == 150000 + 2 - 3
    # The groups of the five people hold a few rows each: far fewer than the table's.
    assert table.patched_rows is not None and 10 <= table.patched_rows < 1000
    expected = "select person_id, score, is_latest, count(*) from {} group by all order by all"
    with connect(warehouse, read_only=True) as con:
        rows = con.execute(expected.format("marts.fct_daily")).fetchall()
    with duckdb.connect(str(patched.database), read_only=True) as con:
        assert con.execute(expected.format("marts.fct_daily")).fetchall() == rows
    with duckdb.connect() as con:
        parquet = f"'{patched.parquet_dir / 'marts' / 'fct_daily.parquet'}'"
        assert con.execute(expected.format(parquet)).fetchall() == rows

    # Most people change: the table is written whole.
    with connect(warehouse) as con:
        con.execute("update marts.fct_daily set score = score + 1")
    rewritten = publish(warehouse, target, {})
    assert rewritten.tables[0].rewritten and rewritten.tables[0].patched_rows is None
    with duckdb.connect(str(rewritten.database), read_only=True) as con:
        assert con.execute("select sum(score) from marts.fct_daily").fetchone() == (
            sum(score + 1 for _, score, _, count in rows for _ in range(count)),)


def test_the_next_publication_reads_the_previous_digests_unless_the_copy_changed_since(tmp_path, monkeypatch):
    """Each publication keeps its tables' digests beside the copy, so the next one digests only
    the warehouse. A copy edited since (another file, or the same rewritten) is digested again:
    its edited table is published again; a torn digests file is ignored."""
    import leadscore.publish.bi_copy as bi_copy

    warehouse, target = tmp_path / "w.duckdb", tmp_path / "published"
    with connect(warehouse) as con:
        con.execute("create schema marts")
        con.execute("""create table marts.fct_daily as
            select 'P' || (i // 3) as person_id, (i // 3) % 7 as score from range(150000) t(i)""")
        con.execute("create table marts.rpt_small as select 1 as id")
    publish(warehouse, target, {})
    assert (target / bi_copy.DIGESTS_NAME).exists()

    digested = []
    monkeypatch.setattr(bi_copy, "grouped_rows_digests", lambda con, select, group: digested.append(select) or
                        grouped_rows_digests(con, select, group))
    monkeypatch.setattr(bi_copy, "rows_hashes", lambda con, select: digested.append(select) or rows_hashes(con, select))
    with connect(warehouse) as con:
        con.execute("update marts.fct_daily set score = 99 where person_id = 'P10'")
    patched = publish(warehouse, target, {})
    assert {t.table: (t.rewritten, t.patched_rows is not None) for t in patched.tables} == {
        "fct_daily": (True, True), "rpt_small": (False, False)}
    assert digested and not [select for select in digested if "previous." in select]

    # The copy edited behind the publication's back: its digests are read from it again, and the
    # edited table is published again from the warehouse.
    with duckdb.connect(str(target / "leadscore.duckdb")) as con:
        con.execute("update marts.rpt_small set id = 2")
        con.execute("update marts.fct_daily set score = -1 where person_id = 'P20'")
    digested.clear()
    repaired = publish(warehouse, target, {})
    assert {t.table for t in repaired.tables if t.rewritten} == {"fct_daily", "rpt_small"}
    assert [select for select in digested if "previous." in select]
    query = "select person_id, score, count(*) from marts.fct_daily group by all order by all"
    with duckdb.connect(str(repaired.database), read_only=True) as published, \
            connect(warehouse, read_only=True) as source:
        assert published.execute(query).fetchall() == source.execute(query).fetchall()
        assert published.execute("select id from marts.rpt_small").fetchall() == [(1,)]

    # A torn digests file: ignored, the copy is digested.
    (target / bi_copy.DIGESTS_NAME).write_bytes(b"torn")
    again = publish(warehouse, target, {})
    assert not any(t.rewritten for t in again.tables)

