"""The demo data generator: reproducible files that follow the landing contract, with a ground truth
that matches them."""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from leadscore.demo.generate import main, prepare_folder

REPO = Path(__file__).resolve().parent.parent
MAPPING = yaml.safe_load((REPO / "src" / "leadscore" / "ingest" / "mappings" / "salesforce.yml").read_text())
SF_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000\+0000$")
SF_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
KEY_PREFIX = {
    "Account": "001",
    "Contact": "003",
    "Lead": "00Q",
    "Opportunity": "006",
    "Campaign": "701",
    "CampaignMember": "00v",
    "Task": "00T",
    "User": "005",
    "OpportunityContactRole": "00k",
    "LeadHistory": "017",
}
BOT_AGENT = re.compile(
    r"bot|crawl|spider|uptimerobot|pingdom|sqlmap|nikto|python-|curl/|go-http|zgrab|masscan|"
    r"wget|nmap|facebookexternalhit|headless",
    re.IGNORECASE,
)
# combined log format plus the visitor cookie
LOG_LINE = re.compile(rb'^\S+ \S+ \S+ \[[^\]]+\] "[^"]*" \d{3} \S+ "[^"]*" "([^"]*)" "[^"]*"$')


def _run(root: Path, seed: int) -> Path:
    assert (
        main(
            ["--size", "tiny", "--seed", str(seed), "--landing", str(root / "landing"), "--truth", str(root / "truth")]
        )
        == 0
    )
    return root


@pytest.fixture(scope="session")
def runs(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("demo")
    return {"a": _run(base / "a", 42), "b": _run(base / "b", 42), "c": _run(base / "c", 7)}


def _checksums(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _crm(root: Path, name: str) -> pd.DataFrame:
    path = root / "landing" / "crm" / "2026-06-30" / f"{name}.csv"
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _truth(root: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(root / "truth" / f"{name}.csv", dtype=str, keep_default_na=False)


def _lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.split(b"\n")[:-1]


def test_same_seed_gives_byte_identical_files(runs):
    for folder in ("landing", "truth"):
        first, second = _checksums(runs["a"] / folder), _checksums(runs["b"] / folder)
        assert first and first == second


def test_another_seed_gives_other_data(runs):
    first, other = _checksums(runs["a"] / "landing"), _checksums(runs["c"] / "landing")
    for name in (
        "crm/2026-06-30/Lead.csv",
        "weblogs/2025/06/access-2025-06-10.log",
        "email/email-events-2025-06-10.jsonl",
    ):
        assert first[name] != other[name]


def test_every_family_of_the_landing_contract_is_produced(runs):
    landing = runs["a"] / "landing"
    assert sorted(p.name for p in (landing / "crm" / "2026-06-30").iterdir()) == sorted(
        f"{name}.csv" for name in MAPPING["objects"]
    )
    logs = list((landing / "weblogs").rglob("access-*.log*"))
    assert any(p.name.endswith(".log.gz") for p in logs) and any(p.name.endswith(".log") for p in logs)
    assert all(re.fullmatch(r"\d{4}", p.parent.parent.name) and re.fullmatch(r"\d{2}", p.parent.name) for p in logs)
    assert list((landing / "forms").glob("form-submissions-*.csv"))
    assert list((landing / "email").glob("email-events-*.jsonl.gz"))
    assert len(list((landing / "signals").glob("signals-2026-0?.csv"))) == 6
    assert not [p for p in landing.rglob("*") if p.name.startswith(".") or p.suffix in (".tmp", ".part")]


def test_crm_files_follow_salesforce_export_conventions(runs):
    root = runs["a"]
    bad = _truth(root, "bad_crm_rows")
    for name, spec in MAPPING["objects"].items():
        path = root / "landing" / "crm" / "2026-06-30" / f"{name}.csv"
        assert path.read_bytes()[:3] == b"\xef\xbb\xbf", f"{name}: UTF-8 byte-order mark"
        frame = _crm(root, name)
        broken_lines = set(bad.loc[bad["object"] == name, "line"].astype(int))
        frame = frame[[line not in broken_lines for line in range(2, len(frame) + 2)]]
        for column in spec["columns"].values():
            source = column if isinstance(column, str) else column["source"]
            kind = "text" if isinstance(column, str) else column.get("type", "text")
            assert source in frame.columns, f"{name}.{source} missing"
            values = frame[source][frame[source] != ""]
            if kind == "boolean":
                assert set(values) <= {"1"}, f"{name}.{source}"
            elif kind == "timestamp":
                assert values.str.match(SF_DATETIME).all(), f"{name}.{source}"
            elif kind == "date":
                assert values.str.match(SF_DATE).all(), f"{name}.{source}"
            elif kind in ("number", "integer"):
                assert pd.to_numeric(values, errors="coerce").notna().all(), f"{name}.{source}"
        ids = frame["Id"]
        assert ids.str.len().eq(18).all() and ids.str.startswith(KEY_PREFIX[name]).all() and ids.is_unique


def test_broken_rows_are_few_and_listed(runs):
    root = runs["a"]
    bad = _truth(root, "bad_crm_rows")
    assert set(bad["problem"]) == {"missing Id", "unparseable CreatedDate", "non-numeric AnnualRevenue"}
    for row in bad.itertuples():
        record = _crm(root, row.object).iloc[int(row.line) - 2]
        if row.problem == "missing Id":
            assert record["Id"] == ""
        elif row.problem == "unparseable CreatedDate":
            assert pd.isna(pd.to_datetime(record["CreatedDate"], format="%Y-%m-%dT%H:%M:%S.%f%z", errors="coerce"))
        else:
            assert pd.isna(pd.to_numeric(record["AnnualRevenue"], errors="coerce"))
    total = sum(len(_crm(root, name)) for name in MAPPING["objects"])
    assert len(bad) < 0.02 * total


def test_every_referenced_id_exists(runs):
    root = runs["a"]
    ids = {name: set(_crm(root, name)["Id"]) - {""} for name in MAPPING["objects"]}
    references = [
        ("Lead", "ConvertedContactId", "Contact"),
        ("Lead", "ConvertedAccountId", "Account"),
        ("Lead", "ConvertedOpportunityId", "Opportunity"),
        ("Lead", "OwnerId", "User"),
        ("Contact", "AccountId", "Account"),
        ("Contact", "OwnerId", "User"),
        ("Account", "ParentId", "Account"),
        ("Account", "OwnerId", "User"),
        ("Opportunity", "AccountId", "Account"),
        ("Opportunity", "CampaignId", "Campaign"),
        ("Opportunity", "OwnerId", "User"),
        ("OpportunityContactRole", "OpportunityId", "Opportunity"),
        ("OpportunityContactRole", "ContactId", "Contact"),
        ("Campaign", "ParentId", "Campaign"),
        ("CampaignMember", "CampaignId", "Campaign"),
        ("CampaignMember", "LeadId", "Lead"),
        ("CampaignMember", "ContactId", "Contact"),
        ("Task", "OwnerId", "User"),
        ("Task", "WhatId", "Opportunity"),
        ("Task", "AccountId", "Account"),
        ("LeadHistory", "LeadId", "Lead"),
        ("LeadHistory", "CreatedById", "User"),
        ("User", "ManagerId", "User"),
    ]
    for obj, column, target in references:
        used = set(_crm(root, obj)[column]) - {""}
        assert used <= ids[target], f"{obj}.{column} -> {target}"
    who = set(_crm(root, "Task")["WhoId"]) - {""}
    assert who and who <= ids["Lead"] | ids["Contact"]


def test_converted_leads_point_to_one_account(runs):
    root = runs["a"]
    leads = _crm(root, "Lead")
    converted = leads[leads["IsConverted"] == "1"]
    assert len(converted) > 0
    assert (converted["Status"] == "Qualified").all() and converted["ConvertedDate"].str.match(SF_DATE).all()
    contact_account = _crm(root, "Contact").set_index("Id")["AccountId"]
    assert (
        contact_account.loc[converted["ConvertedContactId"]].to_numpy() == converted["ConvertedAccountId"].to_numpy()
    ).all()
    with_deal = converted[converted["ConvertedOpportunityId"] != ""]
    deal_account = _crm(root, "Opportunity").set_index("Id")["AccountId"]
    assert (
        deal_account.loc[with_deal["ConvertedOpportunityId"]].to_numpy() == with_deal["ConvertedAccountId"].to_numpy()
    ).all()


def test_lead_status_is_the_last_status_change(runs):
    root = runs["a"]
    leads = _crm(root, "Lead").query("Id != ''").set_index("Id")
    history = _crm(root, "LeadHistory")
    status = history[history["Field"] == "Status"].groupby("LeadId")["NewValue"].last()
    assert (leads.loc[status.index, "Status"] == status).all()
    assert set(leads.loc[~leads.index.isin(status.index), "Status"]) <= {"Open"}
    unqualified = leads[leads["Status"] == "Unqualified"]
    reasons = history[history["Field"] == "Unqualified_Reason__c"].groupby("LeadId")["NewValue"].last()
    assert (unqualified["Unqualified_Reason__c"] == reasons.reindex(unqualified.index)).all()
    assert (leads.loc[leads["Status"] != "Unqualified", "Unqualified_Reason__c"] == "").all()


def test_truth_is_keyed_by_crm_records(runs):
    root = runs["a"]
    crm_ids = set(_crm(root, "Lead")["Id"]) | set(_crm(root, "Contact")["Id"])
    people = _truth(root, "people")
    assert set(people["crm_id"]) <= crm_ids
    assert set(people["duplicate_of_crm_id"]) - {""} <= crm_ids
    assert (people["duplicate_of_crm_id"] != "").any()
    assert set(_truth(root, "visitors")["crm_id"]) - {""} <= crm_ids
    assert set(_truth(root, "opportunities")["opportunity_id"]) == set(_crm(root, "Opportunity")["Id"])
    assert people["latent_fit"].astype(float).between(0, 1).all()


def _deal_people(root: Path) -> set[str]:
    """Person keys whose CRM records are tied to an opportunity created in the period (from the CRM files)."""
    deals = _crm(root, "Opportunity")
    recent = set(deals.loc[deals["CreatedDate"] >= "2025-01-01", "Id"])
    roles = _crm(root, "OpportunityContactRole")
    contacts = set(roles.loc[roles["OpportunityId"].isin(recent), "ContactId"])
    leads = _crm(root, "Lead")
    converted = set(leads.loc[leads["ConvertedOpportunityId"].isin(recent), "Id"])
    people = _truth(root, "people")
    return set(people.loc[people["crm_id"].isin(contacts | converted), "person_key"])


def test_people_in_market_become_opportunities_far_more_often(runs):
    in_market_rate, other_rate = [], []
    for root in (runs["a"], runs["c"]):
        people = _truth(root, "people").drop_duplicates("person_key")
        with_deal = people["person_key"].isin(_deal_people(root))
        in_market = people["in_market_kind"] != ""
        in_market_rate.append((with_deal[in_market].sum(), in_market.sum()))
        other_rate.append((with_deal[~in_market].sum(), (~in_market).sum()))
    hits, total = map(sum, zip(*in_market_rate, strict=True))
    other_hits, other_total = map(sum, zip(*other_rate, strict=True))
    assert total >= 10
    assert hits / total > 0.25
    assert hits / total > 10 * (other_hits + 1) / other_total  # "+1": robust to zero other deals
    share = total / (total + other_total)
    assert share < 0.25  # most people are never in market


def test_bot_user_agents_are_bots_in_the_truth(runs):
    root = runs["a"]
    truth = _truth(root, "weblog_lines")
    assert set(truth["traffic_class"]) >= {"human", "crawler", "uptime_monitor", "attack", "email_scanner"}
    checked = 0
    for file, rows in truth.groupby("file"):
        lines = _lines(root / "landing" / file)
        assert len(lines) == len(rows)
        for number, is_bot, traffic in zip(
            rows["line_number"].astype(int), rows["is_bot"], rows["traffic_class"], strict=True
        ):
            match = LOG_LINE.match(lines[number - 1])
            if match is None:
                continue
            agent = match.group(1).decode()
            if BOT_AGENT.search(agent):
                assert is_bot == "true", (file, number, agent)
            if traffic in ("crawler", "uptime_monitor"):
                assert BOT_AGENT.search(agent), (file, number, agent)
            if traffic == "human":
                assert is_bot == "false"
            checked += 1
    assert checked > 0.99 * len(truth) - 50


def test_each_form_submission_has_its_post_in_the_web_log(runs):
    root = runs["a"]
    landing = root / "landing"
    forms = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted(landing.glob("forms/*.csv"))])
    forms = forms[forms["visitor_id"] != ""]
    posts = set()
    for path in landing.rglob("access-*"):
        for line in _lines(path):
            if b'"POST ' in line and line.endswith(b'"'):
                fields = line.decode("utf-8", "replace").split('"')
                stamp = pd.Timestamp(
                    pd.to_datetime(line.split(b"[")[1].split(b"]")[0].decode(), format="%d/%b/%Y:%H:%M:%S %z")
                ).tz_convert("UTC")
                posts.add((fields[-2], fields[1].split()[1], stamp.strftime("%Y-%m-%dT%H:%M")))
    submitted = pd.to_datetime(forms["submitted_at"], utc=True, format="ISO8601").dt.strftime("%Y-%m-%dT%H:%M")
    path = forms["page_url"].str.replace("https://www.tessellate.io", "", regex=False)
    found = [(v, p, t) in posts for v, p, t in zip(forms["visitor_id"], path, submitted, strict=True)]
    assert len(found) > 20 and sum(found) >= len(found) - 1  # a truncated log line may hide one


def test_refuses_a_non_empty_landing_folder_without_force(tmp_path, capsys):
    landing = tmp_path / "landing"
    landing.mkdir()
    keep = landing / "someone-elses-file.csv"
    keep.write_text("do not touch\n")
    assert main(["--size", "tiny", "--landing", str(landing), "--truth", str(tmp_path / "truth")]) != 0
    assert keep.read_text() == "do not touch\n"
    assert "--force" in capsys.readouterr().err
    prepare_folder(landing, force=True)
    assert landing.is_dir() and not any(landing.iterdir())
