"""The dbt staging layer over real exports and logs: ingestion, then `dbt seed` and `dbt build`
on a warehouse in a temporary folder, then the staged rows checked against what the files say.

Real samples come from ../shared/data (skipped when absent); small form, email and signal
files are written here with the values the assertions expect.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from leadscore.ingest.sources import SOURCES, ingest_source
from leadscore.warehouse import connect
from tests.conftest import SHARED_DATA, write
from tests.dbt_runner import run_dbt

SALESFORCE = "salesforce_sample_export_sfdc_assets"
SALESFORCE_OBJECTS = ("Lead", "Contact", "Account", "Opportunity", "Campaign", "CampaignMember", "Task")
APACHE_LOG = "apache_logs_elastic/apache_logs"
HACKERS_LOG = "hackers_access_log_basjes/hackers-access.log"
HACKERS_LOG_LINES = 3456

# A later CRM export carrying a newer version of one sample lead.
LEAD_DELTA = (
    "Id,LastName,FirstName,Email,Country,Status,CreatedDate,LastModifiedDate\r\n"
    "00QEc00000BBaeXMAT,Lee,William,\" William.LEE @Example.com\",Vereinigte Staaten,Working,"
    "2024-01-22T20:36:47.000+0000,2024-02-01T09:00:00.000+0100\r\n"
)

FORMS = (
    "submission_id,submitted_at,form_name,page_url,visitor_id,email,first_name,last_name,company,"
    "job_title,country,phone\n"
    "fs-1,2026-06-30T14:02:11+02:00,Demo request,https://www.example.com/demo?utm_source=google,"
    "v-8f3a2c1d9e, Jane.Doe@Example.COM ,Jane , Doe,Acme GmbH,  Head of Data ,Deutschland,+49 30 1234\n"
    "fs-2,2026-06-30T09:00:00Z,Newsletter,https://www.example.com/blog,-,bob @example.org,Bob,Smith,,,"
    "États-Unis,\n"
    "fs-3,2026-06-30T10:30:00-05:00,Contact us,https://www.example.com/contact,v-1234,carla@example.net,"
    "Carla,Diaz,Foo SA,CTO,Narnia,\n"
)

EMAIL_EVENTS = [
    {"event_id": "e-1", "event_type": "sent", "occurred_at": "2026-06-30T08:00:00+02:00",
     "email": "Jane.Doe@Example.com", "campaign_id": "701Ec00000GJDl7IAH", "message_id": "m-1"},
    {"event_id": "e-2", "event_type": "OPEN", "occurred_at": "2026-06-30T08:05:00Z",
     "email": "jane.doe@example.com", "campaign_id": "701Ec00000GJDl7IAH", "message_id": "m-1",
     "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15"},
    {"event_id": "e-3", "event_type": "click", "occurred_at": "2026-06-30T03:10:00-05:00",
     "email": "jane.doe@example.com", "campaign_id": "701Ec00000GJDl7IAH", "message_id": "m-1",
     "url": "https://www.Example.com/pricing?utm_source=email"},
    {"event_id": "e-4", "event_type": "SPAMREPORT", "occurred_at": "2026-06-30T12:00:00+0000",
     "email": "bob@example.org", "campaign_id": "701Ec00000GJDl7IAH", "message_id": "m-2"},
    {"event_id": "e-5", "event_type": "Bounce", "occurred_at": "2026-06-30T12:00:00+00:00",
     "email": "nobody@example.net", "campaign_id": "701Ec00000GJDl7IAH", "message_id": "m-3",
     "bounce_reason": "550 mailbox unavailable"},
]
# The same event id delivered again a day later: the first delivery wins.
EMAIL_EVENTS_RETRY = [
    {"event_id": "e-3", "event_type": "open", "occurred_at": "2026-06-30T08:10:00Z",
     "email": "jane.doe@example.com", "campaign_id": "701Ec00000GJDl7IAH", "message_id": "m-1"},
]

SIGNALS = (
    "signal_id,observed_at,company_name,company_domain,signal_type,topic,strength,amount_usd,provider\n"
    "sig-1,2026-06-01T00:00:00Z, Acme GmbH ,https://www.Acme.de/about,funding_round,,90,25000000,crunchbase\n"
    "sig-2,2026-06-15,Example Inc,WWW.EXAMPLE.COM,intent_topic,lead scoring,72.5,,bombora\n"
)


def shared(relative: str) -> Path:
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"real sample {path} is absent (it lives outside the repository)")
    return path


def assemble_landing(root: Path) -> None:
    """A landing folder: the real samples (copied, the repository never holds them) and the
    hand-made files above."""
    salesforce = shared(SALESFORCE)
    for name in SALESFORCE_OBJECTS:
        target = root / "crm" / "2024-01-25" / f"{name}.csv"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(salesforce / f"{name}.csv", target)
    write(root / "crm" / "2024-02-01" / "Lead_delta.csv", LEAD_DELTA)
    (root / "weblogs").mkdir(parents=True)
    shutil.copyfile(shared(APACHE_LOG), root / "weblogs" / "apache-2015-05.log")
    shutil.copyfile(shared(HACKERS_LOG), root / "weblogs" / "hackers-2015-10.log")
    write(root / "forms" / "form-submissions-2026-06-30.csv", FORMS)
    write(root / "email" / "email-events-2026-06-30.jsonl",
          "".join(json.dumps(event) + "\n" for event in EMAIL_EVENTS))
    write(root / "email" / "email-events-2026-07-01.jsonl",
          "".join(json.dumps(event) + "\n" for event in EMAIL_EVENTS_RETRY))
    write(root / "signals" / "signals-2026-06.csv", SIGNALS)


def ingest(landing: Path, warehouse: Path) -> None:
    con = connect(warehouse)
    try:
        for source in SOURCES:
            ingest_source(con, landing, source)
    finally:
        con.close()


def dbt(args: list[str], warehouse: Path, target_path: Path) -> subprocess.CompletedProcess:
    return run_dbt(args, warehouse, target_path)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("staging")
    landing = root / "landing"
    assemble_landing(landing)
    path = root / "warehouse.duckdb"
    ingest(landing, path)
    for args in (["seed"], ["build", "--exclude-resource-type", "unit_test"]):
        result = dbt(args, path, root / "target")
        assert result.returncode == 0, f"dbt {args[0]} failed:\n{result.stdout[-6000:]}{result.stderr[-2000:]}"
    return path


@pytest.fixture(scope="module")
def con(warehouse: Path):
    connection = duckdb.connect(str(warehouse), read_only=True)
    yield connection
    connection.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_unit_tests_pass(warehouse: Path, tmp_path: Path) -> None:
    """Every dbt unit test of the project (staging, intermediate and marts), in one dbt run: they
    need only the relations this module's build made."""
    result = dbt(["test", "--select", "test_type:unit"], warehouse, tmp_path / "target")
    assert result.returncode == 0, result.stdout[-6000:]
    unit_tests = json.loads((tmp_path / "target" / "manifest.json").read_text())["unit_tests"]
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    passed = {r["unique_id"] for r in results if r["unique_id"].startswith("unit_test.") and r["status"] == "pass"}
    assert len(unit_tests) > 70 and passed == set(unit_tests), sorted(set(unit_tests) - passed)


def test_every_hackers_log_line_is_bot_or_attack(con) -> None:
    classes = dict(rows(con, """
        select traffic_class, count(*) from staging.stg_weblogs__hits
        where _source_file = 'weblogs/hackers-2015-10.log' group by traffic_class"""))
    assert sum(classes.values()) == HACKERS_LOG_LINES
    assert set(classes) <= {"bot", "attack"}, classes


def test_apache_log_crawlers_are_bots_and_people_are_human(con) -> None:
    googlebot = dict(rows(con, """
        select traffic_class, count(*) from staging.stg_weblogs__hits
        where _source_file = 'weblogs/apache-2015-05.log' and user_agent ilike '%googlebot%'
        group by traffic_class"""))
    # Googlebot fetching a WordPress login page is an attack request, whoever asks.
    assert googlebot.get("bot", 0) > 500 and set(googlebot) <= {"bot", "attack"}, googlebot
    human_share, bingbot_human = rows(con, """
        select avg(case when traffic_class = 'human' then 1.0 else 0 end),
               count(*) filter (where user_agent ilike '%bingbot%' and traffic_class = 'human')
        from staging.stg_weblogs__hits where _source_file = 'weblogs/apache-2015-05.log'""")[0]
    assert 0.5 < human_share < 0.95
    assert bingbot_human == 0
    chrome = rows(con, """
        select browser_family, os_family, device_type, traffic_class from staging.stg_weblogs__hits
        where user_agent = 'Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) '
                           || 'Chrome/32.0.1700.107 Safari/537.36'
        group by all order by count(*) desc limit 1""")
    assert chrome == [("Chrome", "Windows", "desktop", "human")]


def test_web_hits_are_typed(con) -> None:
    first = rows(con, """
        select requested_at, client_ip, status_code, response_bytes, url_path, referrer_host,
               is_static_asset, visitor_id
        from staging.stg_weblogs__hits
        where _source_file = 'weblogs/apache-2015-05.log' and _source_line = 1""")
    assert [tuple(str(v) for v in first[0])] == [(
        "2015-05-17 10:05:03", "83.149.9.216", "200", "203023",
        "/presentations/logstash-monitorama-2013/images/kibana-search.png", "semicomplete.com", "True", "None",
    )]
    # 25/Oct/2015:04:11:25 +0100 is 03:11:25 UTC.
    assert rows(con, """select requested_at from staging.stg_weblogs__hits
                        where _source_file = 'weblogs/hackers-2015-10.log' and _source_line = 1""")[0][0] \
        .isoformat() == "2015-10-25T03:11:25"
    dashes = rows(con, """select count(*) from staging.stg_weblogs__hits
                          where _source_file = 'weblogs/apache-2015-05.log' and response_bytes is null""")
    assert dashes == [(669,)]


def test_salesforce_sample_counts_and_normalisation(con) -> None:
    counts = {
        model: rows(con, f"select count(*) from staging.{model}")[0][0]
        for model in ("stg_crm__leads", "stg_crm__contacts", "stg_crm__accounts", "stg_crm__opportunities")
    }
    assert counts == {"stg_crm__leads": 60, "stg_crm__contacts": 102, "stg_crm__accounts": 22,
                      "stg_crm__opportunities": 50}
    assert rows(con, "select count(*) from staging.stg_crm__leads where email <> lower(email)") == [(0,)]
    assert rows(con, """select country_raw, country_code, count(*) from staging.stg_crm__contacts
                        group by all""") == [("US", "US", 102)]
    assert rows(con, """select country_raw, country_code, count(*) from staging.stg_crm__accounts
                        where country_raw is not null group by all""") == [("United States", "US", 20)]
    # The later export's version of the lead wins.
    assert rows(con, """select email, email_domain, lead_status, country_raw, country_code, last_modified_at
                        from staging.stg_crm__leads where lead_id = '00QEc00000BBaeXMAT'""")[0][:5] == (
        "william.lee@example.com", "example.com", "Working", "Vereinigte Staaten", "US")
    won = rows(con, """select count(*) filter (where is_won), count(*) filter (where is_closed),
                              sum(amount) > 0
                       from staging.stg_crm__opportunities""")
    assert won == [(12, 15, True)]


def test_email_events_are_typed(con) -> None:
    events = {
        event_id: (event_type, str(occurred_at), email)
        for event_id, event_type, occurred_at, email in rows(
            con, "select event_id, event_type, occurred_at, email from staging.stg_email__events")
    }
    assert events == {
        "e-1": ("sent", "2026-06-30 06:00:00", "jane.doe@example.com"),
        "e-2": ("open", "2026-06-30 08:05:00", "jane.doe@example.com"),
        "e-3": ("click", "2026-06-30 08:10:00", "jane.doe@example.com"),
        "e-4": ("spam_report", "2026-06-30 12:00:00", "bob@example.org"),
        "e-5": ("bounce", "2026-06-30 12:00:00", "nobody@example.net"),
    }
    assert rows(con, "select url_host, url_path from staging.stg_email__events where event_id = 'e-3'") == [
        ("www.example.com", "/pricing")]


def test_forms_and_signals_are_normalised(con) -> None:
    forms = rows(con, """select submission_id, submitted_at, email, email_domain, visitor_id, first_name,
                                job_title, country_code, country_raw
                         from staging.stg_forms__submissions order by submission_id""")
    assert [tuple(str(v) for v in row) for row in forms] == [
        ("fs-1", "2026-06-30 12:02:11", "jane.doe@example.com", "example.com", "v-8f3a2c1d9e", "Jane",
         "Head of Data", "DE", "Deutschland"),
        ("fs-2", "2026-06-30 09:00:00", "bob@example.org", "example.org", "None", "Bob", "None", "US",
         "États-Unis"),
        ("fs-3", "2026-06-30 15:30:00", "carla@example.net", "example.net", "v-1234", "Carla", "CTO", "None",
         "Narnia"),
    ]
    assert rows(con, """select signal_id, company_name, company_domain, strength, amount_usd
                        from staging.stg_signals__account_signals order by signal_id""") == [
        ("sig-1", "Acme GmbH", "acme.de", 90.0, 25_000_000.0),
        ("sig-2", "Example Inc", "example.com", 72.5, None),
    ]


def test_country_seed_keeps_namibia(con) -> None:
    # "NA" must load as Namibia's code, not as a missing value.
    assert rows(con, "select iso2, iso3 from seeds.countries where country_name = 'Namibia'") == [("NA", "NAM")]
