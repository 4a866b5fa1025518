"""The Salesforce export: Lead, Contact, Account, Opportunity, OpportunityContactRole, Campaign,
CampaignMember, Task, LeadHistory and User, derived from the hidden journeys and deals.

Internal tables carry integer keys; Salesforce Ids are assigned per object in creation order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadscore.demo import catalog as cat
from leadscore.demo import site as web
from leadscore.demo.config import DAY, HISTORY_START, NEVER, PERIOD_END, PERIOD_START
from leadscore.demo.deals import CONTACT_ORIGINS, STAGE_PROBABILITY, Deals
from leadscore.demo.email_events import BOUNCE_REASONS
from leadscore.demo.fmt import nulls, pick, pick_index, sf_date, sf_datetime, sf_ids
from leadscore.demo.forms import typed_email
from leadscore.demo.journeys import ORIGIN, PAID, Journeys, business_time
from leadscore.demo.lifecycle import activities, history, lead_phases, settle_phases
from leadscore.demo.population import COUNTRY_REGION, INDUSTRY_NAMES, company_text, country_text, phones, typed_titles
from leadscore.demo.users import Team, user_rows

PL_NAMES = np.array([""] + [p.name for p in cat.PRODUCT_LINES], dtype=object)
_MONTHS = np.array(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], dtype=object)


@dataclass
class Crm:
    tables: dict[str, pd.DataFrame]  # Salesforce object -> export rows
    leads: pd.DataFrame  # rec, person_idx, lead_id, is_duplicate, dup_of
    contacts: pd.DataFrame  # person_idx, contact_id, created_t, from_rec
    account_id: np.ndarray  # per company (None without an account)
    opportunity_id: np.ndarray  # per opportunity index
    bad_rows: pd.DataFrame


def prepare_people(rng, people: pd.DataFrame) -> None:
    """The address each person's first CRM record holds (web leads typed it into a form)."""
    web_origin = people["origin"].to_numpy() == ORIGIN["web"]
    people["lead_email"] = np.where(
        web_origin,
        typed_email(rng, people["email"].to_numpy(), 0.05),
        typed_email(rng, people["email"].to_numpy(), 0.02),
    )


def _region(people: pd.DataFrame) -> np.ndarray:
    return COUNTRY_REGION[people["country"].to_numpy()]


def _sdr_owner(rng, region: np.ndarray, created: np.ndarray, team: Team) -> np.ndarray:
    owner = np.empty(len(region), dtype=object)
    for r in ("NA", "EMEA"):
        m = region == r
        owner[m] = pick(rng, team.sdrs[r], int(m.sum()))
    owner[~np.isin(region, ["NA", "EMEA"])] = team.marketing_ops  # unserved regions are not routed
    left = (region == "NA") & (created < 1748736000) & (rng.random(len(region)) < 0.15)  # before 2025-06-01
    owner[left] = team.former_sdr
    return owner


def _lead_source(rng, people: pd.DataFrame, forms: pd.DataFrame) -> np.ndarray:
    n = len(people)
    origin = people["origin"].to_numpy()
    src = np.array(["Web", "Purchased List", "Trade Show", "Webinar", "Partner Referral", "Other"], dtype=object)[
        pick_index(rng, (40, 20, 15, 10, 5, 10), n)
    ]
    first = forms[forms["creates_lead"]]
    web_src = pd.Series("Web", index=np.arange(n), dtype=object)
    web_src.loc[first["person_idx"].to_numpy()] = np.where(
        first["form"].to_numpy() == web.FORM_INDEX["webinar-registration"],
        "Webinar",
        np.where(first["source"].to_numpy() == PAID, "Paid Search", "Web"),
    )
    return np.select(
        [
            origin == ORIGIN["web"],
            origin == ORIGIN["list"],
            origin == ORIGIN["syndication"],
            origin == ORIGIN["trade_show"],
            origin == ORIGIN["partner"],
            origin == ORIGIN["other"],
        ],
        [
            web_src.to_numpy(),
            "Purchased List",
            "Content Syndication",
            "Trade Show",
            "Partner Referral",
            pick(rng, ["Phone Inquiry", "Other"], n),
        ],
        src,
    ).astype(object)


def lead_records(rng, people: pd.DataFrame, companies: pd.DataFrame, forms: pd.DataFrame, team: Team) -> pd.DataFrame:
    """One lead per person who did not start as a contact, plus duplicates with variant addresses."""
    source = _lead_source(rng, people, forms)
    is_lead = ~np.isin(people["origin"].to_numpy(), CONTACT_ORIGINS)
    p = people[is_lead]
    primary = pd.DataFrame(
        {
            "person_idx": p["person_idx"].to_numpy(),
            "created_t": p["known_t"].to_numpy(),
            "email": p["lead_email"].to_numpy(),
            "title": p["title"].to_numpy(),
            "company": p["company_text"].to_numpy(),
            "country_text": p["country_text"].to_numpy(),
            "phone": p["phone"].to_numpy(),
            "first_name": p["first_name"].to_numpy(),
            "last_name": p["last_name"].to_numpy(),
            "lead_source": source[is_lead],
            "is_duplicate": False,
            "dup_person": -1,
        }
    )
    # The same person entered twice: a list upload or badge scan whose address differs in case or spacing.
    share = np.where(is_lead, 0.03, 0.01) * ~people["is_junk"].to_numpy()
    d = people[rng.random(len(people)) < share]
    n = len(d)
    created = d["known_t"].to_numpy() + (rng.uniform(20, 400, n) * DAY).astype(np.int64)
    created = np.maximum(created, PERIOD_START + rng.integers(0, 30 * DAY, n))
    ok = created <= PERIOD_END
    d, created, n = d[ok], created[ok], int(ok.sum())
    email = typed_email(rng, d["email"].to_numpy(), 1.0)
    same = email == d["lead_email"].to_numpy()
    email = np.where(same, " " + d["email"].to_numpy(), email)
    title = np.where(
        rng.random(n) < 0.5,
        typed_titles(rng, d["seniority"].to_numpy(), d["dept"].to_numpy(), d["lang"].to_numpy()),
        d["title"].to_numpy(),
    )
    dups = pd.DataFrame(
        {
            "person_idx": d["person_idx"].to_numpy(),
            "created_t": created,
            "email": email,
            "title": title,
            "company": company_text(rng, d, companies),
            "country_text": country_text(rng, d["country"].to_numpy()),
            "phone": phones(rng, d["country"].to_numpy()),
            "first_name": d["first_name"].to_numpy(),
            "last_name": d["last_name"].to_numpy(),
            "lead_source": pick(rng, ["Trade Show", "Purchased List", "Web"], n, [4, 4, 2]),
            "is_duplicate": True,
            "dup_person": d["person_idx"].to_numpy(),
        }
    )
    leads = pd.concat([primary, dups], ignore_index=True)
    leads = leads.sort_values(["created_t", "person_idx", "is_duplicate"], kind="stable").reset_index(drop=True)
    leads["rec"] = np.arange(len(leads))
    leads["lead_id"] = sf_ids("Lead", len(leads), rng)
    region = _region(people)[leads["person_idx"].to_numpy()]
    leads["owner_id"] = _sdr_owner(rng, region, leads["created_t"].to_numpy(), team)
    junk = people["is_junk"].to_numpy()[leads["person_idx"].to_numpy()]
    leads.loc[junk, "owner_id"] = team.integration
    return leads


def accounts(rng, companies: pd.DataFrame, people: pd.DataFrame, deals: Deals, team: Team) -> pd.DataFrame:
    """Companies with an Account record: customers, competitors, partners, companies with contacts, and
    a target-account list."""
    n = len(companies)
    created = np.full(n, NEVER)
    kind = companies["kind"].to_numpy()
    special = kind != "prospect"
    created = np.where(special, HISTORY_START + rng.integers(0, 300 * DAY, n), created)
    since = companies["customer_since"].to_numpy()
    created = np.where(companies["is_customer"], since - rng.integers(30 * DAY, 300 * DAY, n), created)
    contact_people = people[people["origin"].isin(CONTACT_ORIGINS)]
    first_contact = contact_people.groupby("company_idx")["known_t"].min()
    created[first_contact.index.to_numpy()] = np.minimum(
        created[first_contact.index.to_numpy()], first_contact.to_numpy() - DAY
    )
    conv = deals.conversions.merge(people[["person_idx", "company_idx"]], on="person_idx")
    first_conv = conv.groupby("company_idx")["convert_t"].min()
    created[first_conv.index.to_numpy()] = np.minimum(created[first_conv.index.to_numpy()], first_conv.to_numpy())
    target = (
        (created == NEVER) & (kind == "prospect") & (companies["company_fit"].to_numpy() > 0.6) & (rng.random(n) < 0.03)
    )
    created = np.where(target, HISTORY_START + rng.integers(0, 900 * DAY, n), created)
    has = created < NEVER
    acc = companies[has].copy()
    acc["created_t"] = np.maximum(created[has], HISTORY_START - 365 * DAY)
    acc = acc.sort_values(["created_t", "company_idx"], kind="stable").reset_index(drop=True)
    acc["account_id"] = sf_ids("Account", len(acc), rng)
    region = COUNTRY_REGION[acc["country"].to_numpy()]
    region = np.where(np.isin(region, ["NA", "EMEA"]), region, "NA")
    owner = np.empty(len(acc), dtype=object)
    for r in ("NA", "EMEA"):
        owner[region == r] = pick(rng, team.aes[r], int((region == r).sum()))
    acc["owner_id"] = owner
    cust = deals.customers.set_index("company_idx")
    is_cust = acc["company_idx"].isin(cust.index).to_numpy() & (
        cust["since_t"].reindex(acc["company_idx"]).fillna(NEVER).to_numpy() <= PERIOD_END
    )
    channel = cust["channel"].reindex(acc["company_idx"]).to_numpy()
    acc["type"] = np.select(
        [acc["kind"] == "competitor", acc["kind"] == "partner", is_cust & (channel == "Channel"), is_cust],
        ["Competitor", "Partner", "Customer - Channel", "Customer - Direct"],
        "Prospect",
    )
    acc["customer_since"] = np.where(
        is_cust, cust["since_t"].reindex(acc["company_idx"]).fillna(NEVER).to_numpy(), NEVER
    ).astype(np.int64)
    acc["products"] = np.where(
        is_cust, PL_NAMES[cust["product_line"].reindex(acc["company_idx"]).fillna(0).to_numpy().astype(int)], None
    )
    acc["is_target"] = target[acc["company_idx"].to_numpy()]
    return acc


def contact_records(
    rng, people: pd.DataFrame, leads: pd.DataFrame, deals: Deals, account_owner: pd.Series
) -> pd.DataFrame:
    """Contacts: people who started as contacts, and leads converted when a deal opened."""
    p = people[people["origin"].isin(CONTACT_ORIGINS)]
    direct = pd.DataFrame(
        {
            "person_idx": p["person_idx"].to_numpy(),
            "created_t": p["known_t"].to_numpy(),
            "from_rec": -1,
            "email": p["lead_email"].to_numpy(),
        }
    )
    primary = leads[~leads["is_duplicate"]].set_index("person_idx")
    conv = deals.conversions
    converted = pd.DataFrame(
        {
            "person_idx": conv["person_idx"].to_numpy(),
            "created_t": conv["convert_t"].to_numpy(),
            "from_rec": primary.loc[conv["person_idx"], "rec"].to_numpy(),
            "email": primary.loc[conv["person_idx"], "email"].to_numpy(),
        }
    )
    contacts = pd.concat([direct, converted], ignore_index=True)
    contacts = contacts.sort_values(["created_t", "person_idx"], kind="stable").reset_index(drop=True)
    contacts["contact_id"] = sf_ids("Contact", len(contacts), rng)
    company = people["company_idx"].to_numpy()[contacts["person_idx"].to_numpy()]
    contacts["company_idx"] = company
    contacts["owner_id"] = account_owner.reindex(company).to_numpy()
    return contacts


def _members(rng, people, leads, contacts, journeys: Journeys, email_members, attendance, campaigns) -> pd.DataFrame:
    """Campaign membership: email programs, webinar registrations, booth scans, syndication, paid search."""
    rows = []
    em = email_members
    responded = em["click_t"].to_numpy() <= PERIOD_END
    rows.append(
        pd.DataFrame(
            {
                "person_idx": em["person_idx"],
                "campaign_idx": em["campaign_idx"],
                "created_t": em["sent_t"],
                "status": np.where(responded, "Responded", "Sent"),
                "responded_t": np.where(responded, em["click_t"], NEVER),
            }
        )
    )
    at = attendance
    event = campaigns["event_t"].to_numpy()[at["campaign_idx"].to_numpy()]
    status = np.where(event > PERIOD_END, "Registered", np.where(at["attended"], "Attended", "No Show"))
    rows.append(
        pd.DataFrame(
            {
                "person_idx": at["person_idx"],
                "campaign_idx": at["campaign_idx"],
                "created_t": at["registered_t"],
                "status": status,
                "responded_t": np.where(status == "Attended", event, NEVER),
            }
        )
    )
    bv = journeys.booth_visits
    upload = bv["t"].to_numpy() + rng.integers(2 * DAY, 5 * DAY, len(bv))
    known = people["known_t"].to_numpy()[bv["person_idx"].to_numpy()]
    rows.append(
        pd.DataFrame(
            {
                "person_idx": bv["person_idx"],
                "campaign_idx": bv["campaign_idx"],
                "created_t": np.maximum(upload, known),
                "status": "Visited Booth",
                "responded_t": bv["t"],
            }
        )
    )
    im = journeys.imports
    rows.append(
        pd.DataFrame(
            {
                "person_idx": im["person_idx"],
                "campaign_idx": im["campaign_idx"],
                "created_t": im["t"],
                "status": "Downloaded",
                "responded_t": im["t"],
            }
        )
    )
    paid = journeys.forms[journeys.forms["source"] == PAID]
    ads = campaigns[campaigns["type"] == "Paid Search"]
    for c, a, b, pl in zip(ads["campaign_idx"], ads["start_t"], ads["end_t"], ads["product_line"], strict=True):
        m = paid[(paid["t"] >= a) & (paid["t"] <= b) & (paid["product_line"] == pl)]
        rows.append(
            pd.DataFrame(
                {
                    "person_idx": m["person_idx"],
                    "campaign_idx": c,
                    "created_t": m["t"],
                    "status": "Responded",
                    "responded_t": m["t"],
                }
            )
        )
    mem = pd.concat(rows, ignore_index=True)
    mem = mem[mem["created_t"] <= PERIOD_END]
    mem = mem.sort_values(["created_t", "campaign_idx", "person_idx"], kind="stable")
    mem = mem.drop_duplicates(["campaign_idx", "person_idx"]).reset_index(drop=True)
    primary = leads[~leads["is_duplicate"]].set_index("person_idx")
    lead_created = primary["created_t"].reindex(mem["person_idx"]).to_numpy()
    has_lead = ~np.isnan(lead_created) & (lead_created <= mem["created_t"].to_numpy())
    mem["lead_id"] = np.where(has_lead, primary["lead_id"].reindex(mem["person_idx"]).to_numpy(), None)
    ct = contacts.set_index("person_idx")
    mem["contact_id"] = ct["contact_id"].reindex(mem["person_idx"]).to_numpy()
    mem = mem[pd.notna(mem["lead_id"]) | pd.notna(mem["contact_id"])]
    # Badge scans that created a duplicate lead belong to that duplicate.
    dup = leads[leads["is_duplicate"] & (leads["lead_source"] == "Trade Show")]
    shows = campaigns[(campaigns["type"] == "Trade Show") & (campaigns["event_t"] <= PERIOD_END)].sort_values("event_t")
    pos = np.searchsorted(shows["event_t"].to_numpy(), dup["created_t"].to_numpy()) - 1
    ok = pos >= 0
    dup_rows = pd.DataFrame(
        {
            "person_idx": dup["person_idx"].to_numpy()[ok],
            "campaign_idx": shows["campaign_idx"].to_numpy()[pos[ok]],
            "created_t": dup["created_t"].to_numpy()[ok],
            "status": "Visited Booth",
            "responded_t": shows["event_t"].to_numpy()[pos[ok]],
            "lead_id": dup["lead_id"].to_numpy()[ok],
            "contact_id": None,
        }
    )
    mem = pd.concat([mem, dup_rows], ignore_index=True)
    mem = mem.sort_values(["created_t", "campaign_idx", "person_idx"], kind="stable").reset_index(drop=True)
    mem["member_id"] = sf_ids("CampaignMember", len(mem), rng)
    return mem


def _primary_campaign(opps: pd.DataFrame, members: pd.DataFrame) -> np.ndarray:
    """The campaign an opportunity is attributed to: the champion's latest touch in the prior 180 days."""
    o = opps[opps["champion"] >= 0][["opp_idx", "champion", "created_t"]].sort_values("created_t")
    m = members[["person_idx", "campaign_idx", "created_t"]].sort_values("created_t")
    m = m.rename(columns={"person_idx": "champion", "created_t": "touch_t"})
    j = pd.merge_asof(
        o, m, left_on="created_t", right_on="touch_t", by="champion", direction="backward", tolerance=180 * DAY
    )
    out = np.full(len(opps), -1)
    ok = j["campaign_idx"].notna().to_numpy()
    out[j["opp_idx"].to_numpy()[ok]] = j["campaign_idx"].to_numpy()[ok].astype(int)
    return out


def build_crm(
    rng, companies, people, campaigns, journeys: Journeys, deals: Deals, email, attendance, team: Team
) -> Crm:
    leads = lead_records(rng, people, companies, journeys.forms, team)
    acc = accounts(rng, companies, people, deals, team)
    account_id = np.full(len(companies), None, dtype=object)
    account_id[acc["company_idx"].to_numpy()] = acc["account_id"].to_numpy()
    account_owner = pd.Series(acc["owner_id"].to_numpy(), index=acc["company_idx"].to_numpy())
    contacts = contact_records(rng, people, leads, deals, account_owner)

    primary = leads[~leads["is_duplicate"]]
    ph = settle_phases(
        rng,
        lead_phases(rng, primary, people, journeys.forms, journeys.participants, deals.conversions),
        people,
        companies,
        deals.conversions,
    )
    hist, final = history(rng, leads, ph, people, companies, team.marketing_ops)

    opps = deals.opportunities.copy()
    opps["account_id"] = account_id[opps["company_idx"].to_numpy()]
    opps = opps.sort_values(["created_t", "opp_idx"], kind="stable")
    opps["opp_id"] = sf_ids("Opportunity", len(opps), rng)
    opps = opps.sort_values("opp_idx").reset_index(drop=True)
    opps["owner_id"] = account_owner.reindex(opps["company_idx"]).to_numpy()

    camp = campaigns.copy()
    camp = camp.sort_values(["created_t", "campaign_idx"], kind="stable")
    camp["campaign_id"] = sf_ids("Campaign", len(camp), rng)
    camp = camp.sort_values("campaign_idx").reset_index(drop=True)
    members = _members(rng, people, leads, contacts, journeys, email.members, attendance, campaigns)
    opps["campaign_idx"] = _primary_campaign(opps, members)
    opps.loc[opps["kind"] == "repurchase", "campaign_idx"] = -1
    opps.loc[rng.random(len(opps)) < 0.3, "campaign_idx"] = -1  # reps often leave it empty

    tasks = _tasks(rng, ph, leads, opps, deals, contacts, account_id, team)
    tables = {
        "User": _user_table(team),
        "Account": _account_table(rng, acc, team),
        "Lead": _lead_table(
            rng,
            leads,
            final,
            ph,
            people,
            companies,
            contacts,
            opps,
            deals,
            email,
            tasks,
            journeys,
            team,
            account_id,
            hist.groupby("rec")["t"].max(),
        ),
        "Contact": _contact_table(rng, contacts, people, companies, account_id, email, tasks, team, leads),
        "Opportunity": _opportunity_table(rng, opps, people, companies, leads, contacts, camp, team),
        "OpportunityContactRole": _role_table(rng, deals.roles, opps, contacts),
        "Campaign": _campaign_table(rng, camp, members, opps, team),
        "CampaignMember": _member_table(members, camp, team),
        "Task": _task_table(rng, tasks),
        "LeadHistory": _history_table(rng, hist, leads),
    }
    duplicated = leads[
        ~leads["is_duplicate"] & leads["person_idx"].isin(leads.loc[leads["is_duplicate"], "person_idx"])
    ]
    bad = _break_rows(rng, tables, set(duplicated["lead_id"]))
    return Crm(
        tables=tables,
        leads=leads[["rec", "person_idx", "lead_id", "is_duplicate", "dup_person", "created_t"]],
        contacts=contacts[["person_idx", "contact_id", "created_t", "from_rec"]],
        account_id=account_id,
        opportunity_id=opps["opp_id"].to_numpy(),
        bad_rows=bad,
    )


# --- tasks -----------------------------------------------------------------------------------


def _tasks(
    rng, ph: pd.DataFrame, leads, opps: pd.DataFrame, deals: Deals, contacts, account_id, team: Team
) -> pd.DataFrame:
    """SDR calls/emails while a lead is worked; AE activity on open deals (WhoId = the contact)."""
    contact_of = contacts.set_index("person_idx")["contact_id"]
    end = np.minimum(np.minimum(ph["outcome_t"].to_numpy(), ph["work_t"].to_numpy() + 45 * DAY), PERIOD_END)
    engaged = ph["origin"].to_numpy() != 3
    sdr = pd.DataFrame(
        {
            "who": leads["lead_id"].to_numpy()[ph["rec"].to_numpy()],
            "what": None,
            "account": None,
            "owner": leads["owner_id"].to_numpy()[ph["rec"].to_numpy()],
            "start_t": ph["work_t"].to_numpy(),
            "end_t": end,
            "engaged": engaged,
            "n": 2 + rng.poisson(2, len(ph)) + 2 * engaged,
        }
    )
    primary = deals.roles[deals.roles["is_primary"]].drop_duplicates("opp_idx").set_index("opp_idx")["person_idx"]
    o = opps[opps["opp_idx"].isin(primary.index) & (opps["created_t"] >= PERIOD_START - 60 * DAY)]
    person = primary.loc[o["opp_idx"]].to_numpy()
    repurchase = o["kind"].to_numpy() == "repurchase"
    ae = pd.DataFrame(
        {
            "who": contact_of.reindex(person).to_numpy(),
            "what": o["opp_id"].to_numpy(),
            "account": account_id[o["company_idx"].to_numpy()],
            "owner": o["owner_id"].to_numpy(),
            "start_t": o["created_t"].to_numpy(),
            "end_t": np.minimum(o["close_t"].to_numpy(), PERIOD_END),
            "engaged": True,
            "n": np.where(repurchase, 1 + rng.poisson(1.2, len(o)), 2 + rng.poisson(4, len(o))),
        }
    )
    ae = ae[pd.notna(ae["who"])]
    owners = pd.concat([sdr, ae], ignore_index=True)
    acts = activities(rng, owners)
    for col in ("who", "what", "account", "owner"):
        acts[col] = owners[col].to_numpy()[acts["row"].to_numpy()]
    # Reps work office hours in their own region, and never before the work started.
    region = team.users.set_index("user_id")["region"].reindex(acts["owner"]).to_numpy()
    office = business_time(rng, acts["t"].to_numpy(), np.where(region == "EMEA", 1, -5))
    acts["t"] = np.maximum(office, owners["start_t"].to_numpy()[acts["row"].to_numpy()] + 300)
    acts = acts[acts["t"].to_numpy() <= PERIOD_END].copy()
    acts["status"] = "Completed"
    acts["created_t"] = acts["t"]
    # Work still going on at export time has its next step scheduled (an open task).
    ongoing = np.flatnonzero(owners["end_t"].to_numpy() >= PERIOD_END - DAY)
    if len(ongoing):
        nxt = pd.DataFrame(
            {
                "row": ongoing,
                "t": PERIOD_END + rng.integers(DAY, 10 * DAY, len(ongoing)),
                "kind": np.where(rng.random(len(ongoing)) < 0.6, 0, 2),
                "disposition": None,
                "seconds": 0,
                "engaged": owners["engaged"].to_numpy()[ongoing],
                "status": "Not Started",
                "created_t": np.maximum(
                    PERIOD_END - rng.integers(3600, 5 * DAY, len(ongoing)), owners["start_t"].to_numpy()[ongoing] + 300
                ),
            }
        )
        for col in ("who", "what", "account", "owner"):
            nxt[col] = owners[col].to_numpy()[ongoing]
        acts = pd.concat([acts, nxt], ignore_index=True)
    acts = acts.sort_values(["created_t", "who"], kind="stable").reset_index(drop=True)
    acts["task_id"] = sf_ids("Task", len(acts), rng)
    return acts


def _task_table(rng, acts: pd.DataFrame) -> pd.DataFrame:
    n = len(acts)
    kind = acts["kind"].to_numpy()
    done = acts["status"].to_numpy() == "Completed"
    is_call = kind == 0
    subject = np.select(
        [kind == 0, kind == 1],
        [
            pick(rng, ["Call", "Follow-up call", "Intro call", "Call - left message"], n),
            pick(
                rng,
                [
                    "Email: Following up on your request",
                    "Email: Pricing information",
                    "Email: Next steps",
                    "Email: Resources you asked for",
                ],
                n,
            ),
        ],
        pick(rng, ["Discovery call", "Product demo", "Pricing review", "Technical deep dive"], n),
    )
    return pd.DataFrame(
        {
            "Id": acts["task_id"],
            "WhoId": acts["who"],
            "WhatId": acts["what"],
            "Subject": subject,
            "ActivityDate": sf_date(acts["t"].to_numpy()),
            "Status": acts["status"],
            "Priority": np.where(acts["engaged"] & (rng.random(n) < 0.3), "High", "Normal"),
            "OwnerId": acts["owner"],
            "Description": None,
            "IsDeleted": None,
            "AccountId": acts["account"],
            "IsClosed": np.where(done, "1", None),
            "CreatedDate": sf_datetime(acts["created_t"].to_numpy()),
            "CreatedById": acts["owner"],
            "LastModifiedDate": sf_datetime(acts["created_t"].to_numpy()),
            "LastModifiedById": acts["owner"],
            "SystemModstamp": sf_datetime(acts["created_t"].to_numpy()),
            "CallDurationInSeconds": np.where(is_call & done, acts["seconds"].astype(str), None),
            "CallType": np.where(is_call, np.where(rng.random(n) < 0.95, "Outbound", "Inbound"), None),
            "CallDisposition": np.where(is_call & done, acts["disposition"], None),
            "TaskSubtype": np.select([kind == 0, kind == 1], ["Call", "Email"], "Task"),
            "Type": np.select([kind == 0, kind == 1], ["Call", "Email"], "Meeting"),
            "CompletedDateTime": np.where(done, sf_datetime(acts["t"].to_numpy()), None),
        }
    )


# --- object tables -----------------------------------------------------------------------------


def _user_table(team: Team) -> pd.DataFrame:
    return user_rows(team)


def _revenue_text(values: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    out = np.where(np.isnan(v), "", np.round(v).astype(np.int64).astype(str)).astype(object)
    return out


def _blank(rng, values, share: float) -> np.ndarray:
    out = np.asarray(values, dtype=object).copy()
    out[rng.random(len(out)) < share] = None
    return out


def _account_table(rng, acc: pd.DataFrame, team: Team) -> pd.DataFrame:
    n = len(acc)
    country = acc["country"].to_numpy()
    city_rows = [[c for c in cat.COUNTRIES[i].cities] for i in range(len(cat.COUNTRIES))]
    city = (
        np.array(
            [city_rows[c][k % len(city_rows[c])][0] for c, k in zip(country, acc["city"], strict=True)], dtype=object
        )
        if n
        else np.array([], dtype=object)
    )
    billing_country = np.where(
        rng.random(n) < 0.85,
        np.array([c.name for c in cat.COUNTRIES], dtype=object)[country],
        country_text(rng, country, 0.0),
    )
    created = sf_datetime(acc["created_t"].to_numpy())
    parent = np.where(rng.random(n) < 0.02, acc["account_id"].to_numpy()[rng.integers(0, max(n, 1), n)], None)
    parent = np.where(parent == acc["account_id"].to_numpy(), None, parent)
    return pd.DataFrame(
        {
            "Id": acc["account_id"],
            "IsDeleted": None,
            "MasterRecordId": None,
            "Name": acc["name"],
            "Type": acc["type"],
            "ParentId": parent,
            "BillingStreet": None,
            "BillingCity": _blank(rng, city, 0.1),
            "BillingState": None,
            "BillingPostalCode": None,
            "BillingCountry": _blank(rng, billing_country, 0.05),
            "Phone": _blank(rng, phones(rng, country), 0.4),
            "Website": _blank(rng, "www." + acc["domain"].to_numpy().astype(object), 0.15),
            "Industry": _blank(rng, INDUSTRY_NAMES[acc["industry"].to_numpy()], 0.1),
            "AnnualRevenue": _blank(rng, _revenue_text(acc["annual_revenue"].to_numpy()), 0.3),
            "NumberOfEmployees": _blank(rng, acc["employees"].astype(str).to_numpy(), 0.25),
            "Description": None,
            "OwnerId": acc["owner_id"],
            "CreatedDate": created,
            "CreatedById": acc["owner_id"],
            "LastModifiedDate": created,
            "LastModifiedById": acc["owner_id"],
            "SystemModstamp": created,
            "AccountSource": _blank(
                rng, pick(rng, ["Web", "Trade Show", "Partner Referral", "Purchased List", "Other"], n), 0.3
            ),
            "Customer_Since__c": sf_date(acc["customer_since"].to_numpy()),
            "Products_Owned__c": acc["products"],
        }
    )


def _explicit_fields(rng, people: pd.DataFrame, who: np.ndarray, state: np.ndarray, asked: np.ndarray) -> dict:
    """Self-reported scoring fields; state 2 = active buyer, 1 = passive, 0 = not in market."""
    n = len(who)
    timeline = np.select(
        [state == 2, state == 1],
        [
            pick(rng, ["< 3 months", "3-6 months", "6-12 months"], n, [70, 25, 5]),
            pick(rng, ["< 3 months", "3-6 months", "6-12 months", "> 12 months"], n, [10, 35, 45, 10]),
        ],
        pick(rng, ["< 3 months", "3-6 months", "6-12 months", "> 12 months"], n, [8, 17, 30, 45]),
    )
    sen = people["seniority"].to_numpy()[who]
    decision = rng.random(n) < np.select([sen <= 2, sen == 3], [0.85, 0.2], 0.04)
    interest = people["product_interest"].to_numpy()[who]
    competitors = np.array(
        [p.competitors[0] for p in cat.PRODUCT_LINES] + [p.competitors[1] for p in cat.PRODUCT_LINES], dtype=object
    )
    comp = competitors[(interest - 1) + 3 * rng.integers(0, 2, n)]
    solution = np.where(
        state > 0,
        np.where(rng.random(n) < 0.5, comp, pick(rng, ["Spreadsheets", "In-house", "None"], n, [60, 20, 20])),
        pick(rng, ["Spreadsheets", "None", "Other", None], n, [35, 30, 10, 25]),
    )
    solution = np.where(state == 0, np.where(rng.random(n) < 0.3, comp, solution), solution)
    second = np.where(rng.random(n) < 0.1, ";" + PL_NAMES[1 + interest % 3], "")
    return {
        "Purchase_Timeline__c": np.where(asked, timeline, None),
        "Decision_Maker__c": np.where(asked & decision, "1", None),
        "Current_Solution__c": np.where(asked | (rng.random(n) < 0.15), solution, None),
        "Product_Interest__c": np.where(rng.random(n) < 0.7, PL_NAMES[interest] + second, None),
    }


def _lead_table(
    rng,
    leads,
    final,
    ph,
    people,
    companies,
    contacts,
    opps,
    deals: Deals,
    email,
    tasks,
    journeys,
    team: Team,
    account_id: np.ndarray,
    hist_t: pd.Series,
) -> pd.DataFrame:
    n = len(leads)
    who = leads["person_idx"].to_numpy()
    company = people["company_idx"].to_numpy()[who]
    dup = leads["is_duplicate"].to_numpy()
    # Conversion fields (primary records only).
    conv = deals.conversions.set_index("person_idx")
    converted = ~dup & np.isin(who, conv.index.to_numpy())
    contact_of = contacts.set_index("person_idx")["contact_id"]
    opp_idx = conv["opp_idx"].reindex(who).fillna(-1).to_numpy().astype(int)
    convert_t = conv["convert_t"].reindex(who).fillna(NEVER).to_numpy().astype(np.int64)
    opp_ids = opps["opp_id"].to_numpy()
    # In-market state when the lead was last worked drives the self-reported fields.
    state = np.zeros(n, np.int8)
    last = ph.sort_values("work_t").drop_duplicates("rec", keep="last").set_index("rec")
    origin = last["origin"].reindex(leads["rec"]).fillna(-1).to_numpy()
    state[origin == 0] = 2
    state[origin == 4] = 2
    state[origin == 1] = 1
    worked = origin >= 0
    hi_form = journeys.forms[journeys.forms["form"].isin([web.FORM_INDEX[f] for f in web.HIGH_INTENT_FORMS])]
    asked = worked | np.isin(who, hi_form["person_idx"].to_numpy()) & ~dup
    asked &= rng.random(n) < 0.8
    explicit = _explicit_fields(rng, people, who, state, asked)
    budget = np.where(worked & (state > 0) & (rng.random(n) < 0.6), "1", None)
    budget = np.where(converted & (rng.random(n) < 0.8), "1", budget)
    rating = np.where(worked, np.select([state == 2, state == 1], ["Hot", "Warm"], "Cold"), None)

    opted = email.optout_t[who] <= PERIOD_END
    bounced = email.bounce_t[who] <= PERIOD_END
    reason_text = np.array(BOUNCE_REASONS, dtype=object)[np.maximum(email.bounce_reason[who], 0)]
    last_task = tasks.groupby("who")["t"].max()
    last_activity = last_task.reindex(leads["lead_id"]).fillna(NEVER).to_numpy().astype(np.int64)
    last_activity = np.where(last_activity > PERIOD_END, NEVER, last_activity)
    hist_last = hist_t.reindex(leads["rec"]).fillna(0).to_numpy()
    modified = np.maximum.reduce(
        [
            leads["created_t"].to_numpy(),
            hist_last,
            np.where(converted, convert_t, 0),
            np.where(last_activity < NEVER, last_activity, 0),
        ]
    )
    web_lead = leads["lead_source"].isin(["Web", "Webinar", "Paid Search"]).to_numpy()
    employees = companies["employees"].to_numpy()[company]
    revenue = companies["annual_revenue"].to_numpy()[company]
    firmo = rng.random(n) < np.where(web_lead, 0.25, 0.8)  # purchased data carries firmographics
    status = final.set_index("rec")["status"].reindex(leads["rec"]).to_numpy()
    status = np.where(converted, "Qualified", status)
    country_idx = people["country"].to_numpy()[who]
    street_no = rng.integers(1, 999, n).astype(str)
    street = np.char.add(
        np.char.add(street_no, " "),
        pick(rng, ["Main St", "Market Street", "Rue de Rivoli", "Hauptstraße", "High Street", "Calle Mayor"], n).astype(
            str
        ),
    )
    salutation = pick(rng, ["Mr.", "Ms.", "Dr.", None, None, None], n)
    first_name = _blank(rng, leads["first_name"].to_numpy(), 0.03)
    email_text = leads["email"].to_numpy().copy()
    email_text[~web_lead & (rng.random(n) < 0.03)] = None
    created_by = np.where(
        web_lead | (leads["lead_source"] == "Content Syndication").to_numpy(),
        team.integration,
        np.where(
            leads["lead_source"].isin(["Trade Show", "Purchased List"]).to_numpy(),
            team.marketing_ops,
            leads["owner_id"].to_numpy(),
        ),
    )
    company_name = np.where(
        pd.isna(leads["company"].to_numpy()) | (leads["company"].to_numpy() == ""),
        "[not provided]",
        leads["company"].to_numpy(),
    )
    return pd.DataFrame(
        {
            "Id": leads["lead_id"],
            "IsDeleted": None,
            "MasterRecordId": None,
            "LastName": leads["last_name"],
            "FirstName": first_name,
            "Salutation": salutation,
            "Name": np.where(
                pd.isna(first_name),
                leads["last_name"].to_numpy(),
                first_name.astype(str) + " " + leads["last_name"].to_numpy().astype(str),
            ),
            "Title": _blank(rng, leads["title"].to_numpy(), 0.12),
            "Company": company_name,
            "Street": np.where(~web_lead & (rng.random(n) < 0.3), street, None),
            "City": _blank(rng, people["city"].to_numpy()[who], 0.25),
            "State": _blank(rng, people["state"].to_numpy()[who], 0.4),
            "PostalCode": _blank(rng, people["postal_code"].to_numpy()[who], 0.45),
            "Country": _blank(rng, leads["country_text"].to_numpy(), 0.08),
            "Phone": _blank(rng, leads["phone"].to_numpy(), 0.35),
            "MobilePhone": np.where(rng.random(n) < 0.1, phones(rng, country_idx), None),
            "Email": email_text,
            "Website": np.where(
                rng.random(n) < 0.4, "www." + companies["domain"].to_numpy()[company].astype(object), None
            ),
            "Description": None,
            "LeadSource": leads["lead_source"],
            "Status": status,
            "Industry": np.where(
                firmo | (rng.random(n) < 0.3), INDUSTRY_NAMES[companies["industry"].to_numpy()[company]], None
            ),
            "Rating": rating,
            "AnnualRevenue": np.where(firmo, _revenue_text(revenue * rng.uniform(0.8, 1.2, n)), None),
            "NumberOfEmployees": np.where(
                firmo, np.round(employees * rng.uniform(0.85, 1.15, n)).astype(np.int64).astype(str), None
            ),
            "OwnerId": leads["owner_id"],
            "IsConverted": np.where(converted, "1", None),
            "ConvertedDate": np.where(converted, sf_date(convert_t), None),
            "ConvertedAccountId": np.where(converted, account_id[company], None),
            "ConvertedContactId": np.where(converted, contact_of.reindex(who).to_numpy(), None),
            "ConvertedOpportunityId": np.where(converted & (opp_idx >= 0), opp_ids[np.maximum(opp_idx, 0)], None),
            "IsUnreadByOwner": np.where((status == "Open") & (rng.random(n) < 0.5), "1", None),
            "HasOptedOutOfEmail": np.where(opted & (~dup | (rng.random(n) < 0.5)), "1", None),
            "DoNotCall": np.where(rng.random(n) < 0.02, "1", None),
            "CreatedDate": sf_datetime(leads["created_t"].to_numpy()),
            "CreatedById": created_by,
            "LastModifiedDate": sf_datetime(modified),
            "LastModifiedById": leads["owner_id"],
            "SystemModstamp": sf_datetime(modified),
            "LastActivityDate": sf_date(last_activity),
            "EmailBouncedReason": np.where(bounced & ~dup, reason_text, None),
            "EmailBouncedDate": np.where(bounced & ~dup, sf_datetime(np.where(bounced, email.bounce_t[who], 0)), None),
            "Unqualified_Reason__c": final.set_index("rec")["reason"].reindex(leads["rec"]).to_numpy(),
            **explicit,
            "Budget_Confirmed__c": budget,
        }
    )


def _contact_table(rng, contacts, people, companies, account_id, email, tasks, team: Team, leads) -> pd.DataFrame:
    n = len(contacts)
    who = contacts["person_idx"].to_numpy()
    lead_src = leads[~leads["is_duplicate"]].set_index("person_idx")["lead_source"]
    origin = people["origin"].to_numpy()[who]
    source = np.where(
        contacts["from_rec"].to_numpy() >= 0,
        lead_src.reindex(who).to_numpy(),
        pick(rng, ["Web", "Trade Show", "Partner Referral", "Other", None], n, [2, 1, 1, 1, 5]),
    )
    opted = email.optout_t[who] <= PERIOD_END
    bounced = email.bounce_t[who] <= PERIOD_END
    reason_text = np.array(BOUNCE_REASONS, dtype=object)[np.maximum(email.bounce_reason[who], 0)]
    last_task = tasks.groupby("who")["t"].max()
    last_activity = last_task.reindex(contacts["contact_id"]).fillna(NEVER).to_numpy().astype(np.int64)
    last_activity = np.where(last_activity > PERIOD_END, NEVER, last_activity)
    created = sf_datetime(contacts["created_t"].to_numpy())
    modified = sf_datetime(
        np.maximum(contacts["created_t"].to_numpy(), np.where(last_activity < NEVER, last_activity, 0))
    )
    created_by = np.where(
        contacts["from_rec"].to_numpy() >= 0,
        contacts["owner_id"].to_numpy(),
        np.where(origin == ORIGIN["customer_contact"], contacts["owner_id"].to_numpy(), team.integration),
    )
    return pd.DataFrame(
        {
            "Id": contacts["contact_id"],
            "IsDeleted": None,
            "MasterRecordId": None,
            "AccountId": account_id[contacts["company_idx"].to_numpy()],
            "LastName": people["last_name"].to_numpy()[who],
            "FirstName": people["first_name"].to_numpy()[who],
            "Salutation": pick(rng, ["Mr.", "Ms.", "Dr.", None, None], n),
            "Name": people["first_name"].to_numpy()[who].astype(str)
            + " "
            + people["last_name"].to_numpy()[who].astype(str),
            "MailingStreet": None,
            "MailingCity": _blank(rng, people["city"].to_numpy()[who], 0.2),
            "MailingState": _blank(rng, people["state"].to_numpy()[who], 0.4),
            "MailingPostalCode": _blank(rng, people["postal_code"].to_numpy()[who], 0.4),
            "MailingCountry": _blank(rng, people["country_text"].to_numpy()[who], 0.1),
            "Phone": _blank(rng, people["phone"].to_numpy()[who], 0.25),
            "MobilePhone": np.where(rng.random(n) < 0.2, phones(rng, people["country"].to_numpy()[who]), None),
            "ReportsToId": None,
            "Email": contacts["email"],
            "Title": _blank(rng, people["title"].to_numpy()[who], 0.08),
            "Department": _blank(rng, np.array(cat.DEPARTMENTS, dtype=object)[people["dept"].to_numpy()[who]], 0.4),
            "LeadSource": source,
            "OwnerId": contacts["owner_id"],
            "HasOptedOutOfEmail": np.where(opted, "1", None),
            "DoNotCall": np.where(rng.random(n) < 0.02, "1", None),
            "CreatedDate": created,
            "CreatedById": created_by,
            "LastModifiedDate": modified,
            "LastModifiedById": contacts["owner_id"],
            "SystemModstamp": modified,
            "LastActivityDate": sf_date(last_activity),
            "EmailBouncedReason": np.where(bounced, reason_text, None),
            "EmailBouncedDate": np.where(bounced, sf_datetime(np.where(bounced, email.bounce_t[who], 0)), None),
            "IsEmailBounced": np.where(bounced, "1", None),
            "Decision_Maker__c": np.where(people["seniority"].to_numpy()[who] <= 2, "1", None),
        }
    )


def _opportunity_table(rng, opps, people, companies, leads, contacts, camp, team) -> pd.DataFrame:
    n = len(opps)
    created = opps["created_t"].to_numpy()
    close = opps["close_t"].to_numpy()
    month = close.astype("datetime64[s]").astype("datetime64[M]").astype(np.int64) % 12
    year = close.astype("datetime64[s]").astype("datetime64[Y]").astype(np.int64) + 1970
    cname = companies["name"].to_numpy()[opps["company_idx"].to_numpy()]
    pl = opps["product_line"].to_numpy()
    reorder = opps["kind"].to_numpy() == "repurchase"
    name = (
        cname + " - " + PL_NAMES[pl] + np.where(reorder, " - Reorder ", " - ") + _MONTHS[month] + " " + year.astype(str)
    )
    stage = opps["stage"].to_numpy()
    prob = np.array([STAGE_PROBABILITY[s] for s in stage])
    closed = opps["is_closed"].to_numpy()
    won = opps["is_won"].to_numpy()
    forecast = np.select(
        [won, closed, prob >= 80, prob >= 60], ["Closed", "Omitted", "Commit", "Best Case"], "Pipeline"
    )
    lead_src = leads[~leads["is_duplicate"]].set_index("person_idx")["lead_source"]
    champion = opps["champion"].to_numpy()
    source = np.where(champion >= 0, lead_src.reindex(champion).to_numpy(), None)
    source = np.where(reorder, "Existing Customer", source)
    amount = opps["amount"].to_numpy().astype(float)
    amount_text = np.where(rng.random(n) < 0.04, None, np.round(amount).astype(np.int64).astype(str))
    modified = np.minimum(np.where(closed, close, created + (PERIOD_END - created) // 2), PERIOD_END)
    campaign = opps["campaign_idx"].to_numpy()
    stage_changed = sf_datetime(np.maximum(modified, created))
    return pd.DataFrame(
        {
            "Id": opps["opp_id"],
            "IsDeleted": None,
            "AccountId": opps["account_id"],
            "Name": name,
            "Description": None,
            "StageName": stage,
            "Amount": amount_text,
            "Probability": prob.astype(str),
            "CloseDate": sf_date(close),
            "Type": opps["type"],
            "NextStep": None,
            "LeadSource": source,
            "IsClosed": np.where(closed, "1", None),
            "IsWon": np.where(won, "1", None),
            "ForecastCategory": forecast,
            "ForecastCategoryName": forecast,
            "CampaignId": np.where(campaign >= 0, camp["campaign_id"].to_numpy()[np.maximum(campaign, 0)], None),
            "HasOpportunityLineItem": None,
            "OwnerId": opps["owner_id"],
            "CreatedDate": sf_datetime(created),
            "CreatedById": opps["owner_id"],
            "LastModifiedDate": stage_changed,
            "LastModifiedById": opps["owner_id"],
            "SystemModstamp": stage_changed,
            "FiscalQuarter": (month // 3 + 1).astype(str),
            "FiscalYear": year.astype(str),
            "Fiscal": year.astype(str) + " " + (month // 3 + 1).astype(str),
            "Product_Line__c": PL_NAMES[pl],
        }
    )


def _role_table(rng, roles: pd.DataFrame, opps, contacts) -> pd.DataFrame:
    contact_of = contacts.set_index("person_idx")["contact_id"]
    r = roles.sort_values(["created_t", "opp_idx", "is_primary"], ascending=[True, True, False], kind="stable")
    r = r.reset_index(drop=True)
    ids = sf_ids("OpportunityContactRole", len(r), rng)
    created = sf_datetime(r["created_t"].to_numpy())
    owner = opps["owner_id"].to_numpy()[r["opp_idx"].to_numpy()]
    return pd.DataFrame(
        {
            "Id": ids,
            "OpportunityId": opps["opp_id"].to_numpy()[r["opp_idx"].to_numpy()],
            "ContactId": contact_of.reindex(r["person_idx"]).to_numpy(),
            "Role": r["role"],
            "IsPrimary": np.where(r["is_primary"], "1", None),
            "IsDeleted": None,
            "CreatedDate": created,
            "CreatedById": owner,
            "LastModifiedDate": created,
            "LastModifiedById": owner,
            "SystemModstamp": created,
        }
    )


def _campaign_table(rng, camp, members, opps, team) -> pd.DataFrame:
    n = len(camp)
    idx = camp["campaign_idx"].to_numpy()
    per = members.groupby("campaign_idx")
    n_leads = per["lead_id"].count().reindex(idx).fillna(0).astype(int).to_numpy()
    n_contacts = per["contact_id"].count().reindex(idx).fillna(0).astype(int).to_numpy()
    n_resp = members[members["responded_t"] <= PERIOD_END].groupby("campaign_idx").size().reindex(idx).fillna(0)
    o = opps[opps["campaign_idx"] >= 0].groupby("campaign_idx")
    n_opps = o.size().reindex(idx).fillna(0).astype(int).to_numpy()
    n_won = o["is_won"].sum().reindex(idx).fillna(0).astype(int).to_numpy()
    amount_all = o["amount"].sum().reindex(idx).fillna(0).to_numpy()
    amount_won = opps[(opps["campaign_idx"] >= 0) & opps["is_won"]].groupby("campaign_idx")["amount"].sum()
    amount_won = amount_won.reindex(idx).fillna(0).to_numpy()
    budget = np.select(
        [
            camp["type"] == "Trade Show",
            camp["type"] == "Webinar",
            camp["type"] == "Content Syndication",
            camp["type"] == "Paid Search",
        ],
        [45000, 4000, 30000, 60000],
        500,
    )
    created = sf_datetime(camp["created_t"].to_numpy())
    parent = camp["parent"].to_numpy()
    return pd.DataFrame(
        {
            "Id": camp["campaign_id"],
            "IsDeleted": None,
            "Name": camp["name"],
            "ParentId": np.where(parent >= 0, camp["campaign_id"].to_numpy()[np.maximum(parent, 0)], None),
            "Type": camp["type"],
            "Status": camp["status"],
            "StartDate": sf_date(camp["start_t"].to_numpy()),
            "EndDate": sf_date(camp["end_t"].to_numpy()),
            "ExpectedRevenue": None,
            "BudgetedCost": budget.astype(str),
            "ActualCost": np.where(
                camp["status"] == "Completed", (budget * rng.uniform(0.8, 1.1, n)).round().astype(int).astype(str), None
            ),
            "ExpectedResponse": None,
            "NumberSent": (n_leads + n_contacts).astype(str),
            "IsActive": np.where(camp["status"] != "Completed", "1", None),
            "Description": None,
            "NumberOfLeads": n_leads.astype(str),
            "NumberOfConvertedLeads": None,
            "NumberOfContacts": n_contacts.astype(str),
            "NumberOfResponses": n_resp.astype(int).astype(str),
            "NumberOfOpportunities": n_opps.astype(str),
            "NumberOfWonOpportunities": n_won.astype(str),
            "AmountAllOpportunities": np.round(amount_all).astype(int).astype(str),
            "AmountWonOpportunities": np.round(amount_won).astype(int).astype(str),
            "OwnerId": team.marketing_ops,
            "CreatedDate": created,
            "CreatedById": team.marketing_ops,
            "LastModifiedDate": created,
            "LastModifiedById": team.marketing_ops,
            "SystemModstamp": created,
            "Product_Line__c": np.where(
                camp["product_line"].to_numpy() > 0, PL_NAMES[camp["product_line"].to_numpy()], None
            ),
        }
    )


def _member_table(members: pd.DataFrame, camp, team) -> pd.DataFrame:
    responded = members["responded_t"].to_numpy() <= PERIOD_END
    created = sf_datetime(members["created_t"].to_numpy())
    has_contact = pd.notna(members["contact_id"]).to_numpy()
    return pd.DataFrame(
        {
            "Id": members["member_id"],
            "IsDeleted": None,
            "CampaignId": camp["campaign_id"].to_numpy()[members["campaign_idx"].to_numpy()],
            "LeadId": members["lead_id"],
            "ContactId": members["contact_id"],
            "Status": members["status"],
            "HasResponded": np.where(responded, "1", None),
            "CreatedDate": created,
            "CreatedById": team.integration,
            "LastModifiedDate": created,
            "LastModifiedById": team.integration,
            "SystemModstamp": created,
            "FirstRespondedDate": np.where(responded, sf_date(np.where(responded, members["responded_t"], 0)), None),
            "Type": np.where(has_contact, "Contact", "Lead"),
            "LeadOrContactId": np.where(has_contact, members["contact_id"], members["lead_id"]),
        }
    )


def _history_table(rng, hist: pd.DataFrame, leads: pd.DataFrame) -> pd.DataFrame:
    h = hist.sort_values(["t", "rec", "field_order"], kind="stable").reset_index(drop=True)
    created = sf_datetime(h["t"].to_numpy())
    return pd.DataFrame(
        {
            "Id": sf_ids("LeadHistory", len(h), rng),
            "IsDeleted": None,
            "LeadId": leads["lead_id"].to_numpy()[h["rec"].to_numpy()],
            "CreatedById": h["by"],
            "CreatedDate": created,
            "Field": h["field"],
            "DataType": "DynamicEnum",
            "OldValue": h["old"],
            "NewValue": h["new"],
        }
    )


# --- deliberately broken rows --------------------------------------------------------------------


def _break_rows(rng, tables: dict[str, pd.DataFrame], protected: set) -> pd.DataFrame:
    """About 0.1% of rows get the damage real exports have; only rows nothing else refers to."""
    out = []
    referenced = set(protected)
    for name, cols in (
        ("Lead", []),
        ("Task", ["WhoId"]),
        ("CampaignMember", ["LeadId"]),
        ("LeadHistory", ["LeadId"]),
        ("Contact", []),
        ("Opportunity", []),
    ):
        for c in cols:
            referenced.update(tables[name][c].dropna().tolist())
    lead = tables["Lead"]
    leaf = lead["IsConverted"].isna() & ~lead["Id"].isin(referenced)
    candidates = np.flatnonzero(leaf.to_numpy())
    k = max(1, round(0.001 * len(lead)))
    chosen = rng.choice(candidates, size=min(len(candidates), 3 * k), replace=False)
    problems = [
        ("missing Id", "Id", None),
        ("unparseable CreatedDate", "CreatedDate", None),
        ("non-numeric AnnualRevenue", "AnnualRevenue", None),
    ]
    bad_dates = np.array(
        ["31/12/2025 14:03", "2025-13-45T10:00:00.000+0000", "not available", "yesterday"], dtype=object
    )
    bad_money = np.array(["1.2M", "approx. 5000000", "n/a", "$3,500,000"], dtype=object)
    for i, (problem, column, _) in enumerate(problems):
        rows = chosen[i * k : (i + 1) * k]
        out.append(
            pd.DataFrame({"object": "Lead", "crm_id": lead["Id"].to_numpy()[rows], "row": rows, "problem": problem})
        )
        if column == "Id":
            lead.loc[rows, "Id"] = None
        elif column == "CreatedDate":
            lead.loc[rows, "CreatedDate"] = bad_dates[rng.integers(0, len(bad_dates), len(rows))]
        else:
            lead.loc[rows, "AnnualRevenue"] = bad_money[rng.integers(0, len(bad_money), len(rows))]
    task = tables["Task"]
    k = max(1, round(0.001 * len(task)))
    rows = rng.choice(len(task), size=min(len(task), 2 * k), replace=False)
    out.append(
        pd.DataFrame(
            {"object": "Task", "crm_id": task["Id"].to_numpy()[rows[:k]], "row": rows[:k], "problem": "missing Id"}
        )
    )
    out.append(
        pd.DataFrame(
            {
                "object": "Task",
                "crm_id": task["Id"].to_numpy()[rows[k:]],
                "row": rows[k:],
                "problem": "unparseable CreatedDate",
            }
        )
    )
    task.loc[rows[:k], "Id"] = None
    task.loc[rows[k:], "CreatedDate"] = bad_dates[rng.integers(0, len(bad_dates), len(rows[k:]))]
    member = tables["CampaignMember"]
    k = max(1, round(0.001 * len(member)))
    rows = rng.choice(len(member), size=min(len(member), k), replace=False)
    out.append(
        pd.DataFrame(
            {
                "object": "CampaignMember",
                "crm_id": member["Id"].to_numpy()[rows],
                "row": rows,
                "problem": "unparseable CreatedDate",
            }
        )
    )
    member.loc[rows, "CreatedDate"] = bad_dates[rng.integers(0, len(bad_dates), len(rows))]
    bad = pd.concat(out, ignore_index=True)
    bad["line"] = bad["row"] + 2  # header is line 1
    return bad.drop(columns="row")


def finish(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Empty strings become empty fields."""
    return {name: df.apply(lambda col: nulls(col.to_numpy())) for name, df in tables.items()}
