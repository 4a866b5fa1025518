"""Marketing email: who receives each send, and the sent / delivered / open / click / unsubscribe /
bounce / spam_report events it produces.

People in market open and click more. Mail security gateways of some companies "click" every link
within seconds of delivery from data-centre addresses: those events are flagged as scanner events.
Unsubscribes, spam reports and hard bounces stop later sends.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadscore.demo import catalog as cat
from leadscore.demo.config import DAY, NEVER, PERIOD_END
from leadscore.demo.fmt import positions_within
from leadscore.demo.population import random_ips
from leadscore.demo.site import C

EVENT_TYPES = ("sent", "delivered", "open", "click", "unsubscribe", "bounce", "spam_report")
E = {name: i for i, name in enumerate(EVENT_TYPES)}
HARD_BOUNCES = (
    "550 5.1.1 The email account that you tried to reach does not exist",
    "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
    "554 5.7.1 Recipient address rejected: Access denied",
    "550 No such domain",
)
SOFT_BOUNCES = (
    "452 4.2.2 The email account that you tried to reach is over quota",
    "421 4.7.0 Try again later, closing connection",
)
BOUNCE_REASONS = HARD_BOUNCES + SOFT_BOUNCES
# email user agents: the client UAs, then the scanners' (offset)
EMAIL_UAS = cat.EMAIL_CLIENT_UAS + cat.SCANNER_UAS
SCANNER_UA_OFFSET = len(cat.EMAIL_CLIENT_UAS)


@dataclass
class EmailActivity:
    events: pd.DataFrame
    optout_t: np.ndarray  # per person: when they stopped receiving email (NEVER if still subscribed)
    bounce_t: np.ndarray  # per person: hard bounce time
    bounce_reason: np.ndarray
    members: pd.DataFrame  # campaign membership from sends: person, campaign, first sent, first click
    human_clicks: pd.DataFrame  # clicks that open a web visit: person, t, path, send
    scanner_clicks: pd.DataFrame  # link checks by mail gateways: t, ip, ua, path, send


def _recipient_state(rng, people: pd.DataFrame, companies: pd.DataFrame) -> dict:
    n = len(people)
    known = people["known_t"].to_numpy()
    optout = np.where(rng.random(n) < 0.04, known, NEVER)
    # Addresses that do not work: junk sign-ups at once, people who left their company later on.
    invalid_from = np.where(people["is_junk"].to_numpy() | (rng.random(n) < 0.01), known, NEVER)
    left = rng.random(n) < 0.03
    invalid_from = np.where(left, known + (rng.uniform(30, 500, n) * DAY).astype(np.int64), invalid_from)
    email = people["email"].to_numpy()
    gmail = pd.Series(email).str.lower().str.endswith("@gmail.com").to_numpy()
    client = np.where(gmail, 1, np.array([0, 2, 3, 4])[rng.choice(4, n, p=[0.55, 0.2, 0.15, 0.1])])
    company = people["company_idx"].to_numpy()
    corporate = people["email_kind"].to_numpy() == "corporate"
    home_ip = random_ips(rng, n)
    ip = np.where(corporate & (rng.random(n) < 0.7), companies["office_ip"].to_numpy()[company], home_ip)
    gmail_proxy = (np.uint32(66) << 24) | (np.uint32(102) << 16) | rng.integers(0, 2**16, n).astype(np.uint32)
    ip = np.where(gmail, gmail_proxy, ip)
    scanner = corporate & companies["has_link_scanner"].to_numpy()[company]
    nets = np.array([[int(x) for x in s.split(".")] for s in cat.SCANNER_NETS])
    gw = nets[company % len(nets)]
    scanner_ip = (
        (gw[:, 0].astype(np.uint32) << 24)
        | (gw[:, 1].astype(np.uint32) << 16)
        | ((company * 7919) % 65536).astype(np.uint32)
    )
    scanner_ua = SCANNER_UA_OFFSET + company % len(cat.SCANNER_UAS)
    return {
        "optout": optout,
        "invalid_from": invalid_from,
        "bounced": np.full(n, NEVER),
        "reason": np.full(n, -1),
        "client": client,
        "ip": ip.astype(np.uint32),
        "scanner": scanner,
        "scanner_ip": scanner_ip,
        "scanner_ua": scanner_ua,
    }


class _Audience:
    """Who each send goes to. Membership is drawn once per campaign, so every wave of a nurture
    program or every reminder of a webinar invitation reaches the same people."""

    def __init__(self, rng, people: pd.DataFrame, customer_from: np.ndarray):
        self.rng = rng
        self.interest = people["product_interest"].to_numpy()
        self.customer_from = customer_from
        eng = np.clip(people["engagement"].to_numpy(), 0.5, 2.0)
        self.newsletter = rng.random(len(people)) < 0.22 * eng
        self.drawn: dict[int, np.ndarray] = {}

    def members(self, send) -> np.ndarray:
        if send.audience == "newsletter":
            return self.newsletter
        if send.campaign not in self.drawn:
            r = self.rng.random(len(self.interest))
            match = self.interest == send.product_line
            share = {"nurture": (0.2, 0.01), "invite": (0.15, 0.02), "launch": (0.3, 0.03)}[send.audience]
            self.drawn[send.campaign] = np.where(match, r < share[0], r < share[1])
        chosen = self.drawn[send.campaign]
        customer = self.customer_from <= send.t_send
        if send.audience == "nurture":
            return chosen & ~customer
        if send.audience == "launch":
            return chosen | (customer & (self.rng.random(len(chosen)) < 0.8))
        return chosen


def simulate_email(
    rng,
    people: pd.DataFrame,
    companies: pd.DataFrame,
    sends: pd.DataFrame,
    periods: pd.DataFrame,
    customer_from_company: np.ndarray,
    site,
) -> EmailActivity:
    st = _recipient_state(rng, people, companies)
    n_people = len(people)
    known = people["known_t"].to_numpy()
    eng = people["engagement"].to_numpy()
    low_value = (people["fit"].to_numpy() < 0.15) | people["is_junk"].to_numpy()
    customer_from = customer_from_company[people["company_idx"].to_numpy()]
    interest = people["product_interest"].to_numpy()
    p_start, p_end = periods["start_t"].to_numpy(), periods["end_t"].to_numpy()
    p_who, p_kind = periods["person_idx"].to_numpy(), periods["kind"].to_numpy()
    buying_link = np.isin(site.category, [C["pricing"], C["demo"], C["buying_guide"]])

    audience = _Audience(rng, people, customer_from)
    chunks: list[dict] = []
    members = []
    for send in sends.itertuples(index=False):
        t0 = send.t_send
        eligible = (known < t0) & (st["optout"] > t0) & (st["bounced"] > t0)
        rcpt = np.flatnonzero(eligible & audience.members(send))
        if len(rcpt) == 0:
            continue
        k = len(rcpt)
        links = np.array([site.path_id[p] for p in send.links])
        now = (p_start <= t0) & (p_end >= t0)
        state = np.zeros(n_people, np.int8)  # 0 none, 1 passive, 2 active / repurchase
        state[p_who[now & (p_kind == "passive")]] = 1
        state[p_who[now & (p_kind != "passive")]] = 2
        s = state[rcpt]
        sent_t = t0 + rng.integers(0, 1800, k)
        hard = st["invalid_from"][rcpt] <= t0
        soft = ~hard & (rng.random(k) < 0.004)
        delivered = ~hard & ~soft
        deliver_t = sent_t + rng.integers(1, 90, k)
        topical = (interest[rcpt] == send.product_line) | (send.product_line == 0)
        p_open = np.clip(0.17 * eng[rcpt] * np.select([s == 1, s == 2], [1.9, 1.5], 1.0), 0, 0.85)
        p_open = np.where(low_value[rcpt], p_open * 0.4, p_open)
        opened = delivered & (rng.random(k) < p_open)
        first_open = deliver_t + np.minimum(np.exp(rng.normal(np.log(3 * 3600), 1.4, k)), 9 * DAY).astype(np.int64)
        p_click = np.clip(0.12 * np.select([s == 1, s == 2], [2.8, 2.4], 1.0) * np.where(topical, 1.3, 0.8), 0, 0.7)
        clicked = opened & (rng.random(k) < p_click)
        p_unsub = np.where(s > 0, 0.004, np.where(low_value[rcpt], 0.05, 0.012))
        unsub = opened & ~clicked & (rng.random(k) < p_unsub)
        spam = opened & ~unsub & (rng.random(k) < 0.0012)
        msg = np.full(k, send.send_idx)
        base = {"person_idx": rcpt, "send_idx": msg}

        chunks.append(_events(base, E["sent"], sent_t, None))
        chunks.append(_events(base, E["delivered"], deliver_t, delivered))
        reason = np.where(hard, rng.integers(0, len(HARD_BOUNCES), k), len(HARD_BOUNCES) + rng.integers(0, 2, k))
        chunks.append(_events(base, E["bounce"], deliver_t, hard | soft, bounce_reason=reason))
        # Some people open a message again later.
        n_open = 1 + rng.poisson(0.5, k)
        idx = np.repeat(np.flatnonzero(opened), n_open[opened])
        again = positions_within(n_open[opened]) > 0
        reopen = np.exp(rng.normal(np.log(DAY / 2), 1.2, len(idx))).astype(np.int64)
        chunks.append(
            _events(
                {"person_idx": rcpt[idx], "send_idx": msg[idx]},
                E["open"],
                first_open[idx] + np.where(again, reopen, 0),
                None,
            )
        )
        # Human clicks: usually one link; in-market buyers go for pricing and demo links.
        n_click = 1 + rng.binomial(1, 0.25, k)
        idx = np.repeat(np.flatnonzero(clicked), n_click[clicked])
        weights = np.where(buying_link[links][None, :] & (s[idx] == 2)[:, None], 4.0, 1.0)
        weights[:, 0] *= 1.8
        cum = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
        choice = (rng.random(len(idx))[:, None] > cum).sum(axis=1).clip(0, len(links) - 1)
        click_t = first_open[idx] + rng.integers(3, 240, len(idx))
        click_rows = idx
        chunks.append(
            _events({"person_idx": rcpt[idx], "send_idx": msg[idx]}, E["click"], click_t, None, path_id=links[choice])
        )
        chunks.append(_events(base, E["unsubscribe"], first_open + rng.integers(20, 600, k), unsub))
        chunks.append(_events(base, E["spam_report"], first_open + rng.integers(20, 900, k), spam))
        # Gateways open the message and follow every link within seconds of delivery.
        scan = delivered & st["scanner"][rcpt]
        idx = np.flatnonzero(scan)
        chunks.append(
            _events(
                {"person_idx": rcpt[idx], "send_idx": msg[idx]},
                E["open"],
                deliver_t[idx] + rng.integers(0, 4, len(idx)),
                None,
                scanner=True,
            )
        )
        idx_l = np.repeat(idx, len(links))
        path = np.tile(links, len(idx))
        chunks.append(
            _events(
                {"person_idx": rcpt[idx_l], "send_idx": msg[idx_l]},
                E["click"],
                deliver_t[idx_l] + rng.integers(1, 30, len(idx_l)),
                None,
                path_id=path,
                scanner=True,
            )
        )

        st["optout"][rcpt[unsub]] = first_open[unsub] + 60
        st["optout"][rcpt[spam]] = first_open[spam] + 60
        st["bounced"][rcpt[hard]] = deliver_t[hard]
        st["reason"][rcpt[hard]] = reason[hard]
        click_first = np.full(k, NEVER)
        np.minimum.at(click_first, click_rows, click_t)
        members.append(
            pd.DataFrame(
                {
                    "person_idx": rcpt,
                    "send_idx": send.send_idx,
                    "campaign_idx": send.campaign,
                    "audience": send.audience,
                    "sent_t": sent_t,
                    "click_t": click_first,
                }
            )
        )

    events = pd.concat([pd.DataFrame(c) for c in chunks if len(c["t"])], ignore_index=True)
    events = events[events["t"] <= PERIOD_END + 2 * DAY]
    events = _finish_events(rng, events, st, sends)
    members = _members(pd.concat(members, ignore_index=True))
    clicks = events[events["event_type"] == E["click"]]
    human = clicks[~clicks["is_scanner"]][["person_idx", "t", "path_id", "send_idx"]].reset_index(drop=True)
    scanner = clicks[clicks["is_scanner"]][["t", "ip", "ua", "path_id", "send_idx"]].reset_index(drop=True)
    return EmailActivity(
        events=events,
        optout_t=st["optout"],
        bounce_t=st["bounced"],
        bounce_reason=st["reason"],
        members=members,
        human_clicks=human,
        scanner_clicks=scanner,
    )


def _events(
    base: dict, etype: int, t: np.ndarray, mask, bounce_reason=None, path_id=None, scanner: bool = False
) -> dict:
    sel = slice(None) if mask is None else np.asarray(mask)
    n = len(np.asarray(t)[sel])
    return {
        "person_idx": np.asarray(base["person_idx"])[sel],
        "send_idx": np.asarray(base["send_idx"])[sel],
        "event_type": np.full(n, etype, np.int8),
        "t": np.asarray(t, dtype=np.int64)[sel],
        "bounce_reason": (np.full(n, -1) if bounce_reason is None else np.asarray(bounce_reason)[sel]),
        "path_id": (np.full(n, -1) if path_id is None else np.asarray(path_id)[sel]),
        "is_scanner": np.full(n, scanner),
    }


def _finish_events(rng, events: pd.DataFrame, st: dict, sends: pd.DataFrame) -> pd.DataFrame:
    events = events.sort_values(["t", "person_idx", "send_idx", "event_type"], kind="stable").reset_index(drop=True)
    who = events["person_idx"].to_numpy()
    scanner = events["is_scanner"].to_numpy()
    human_ua = np.where(events["event_type"].to_numpy() == E["click"], 4, st["client"][who])
    events["ua"] = np.where(scanner, st["scanner_ua"][who], human_ua)
    events["ip"] = np.where(scanner, st["scanner_ip"][who], st["ip"][who]).astype(np.uint32)
    plain = np.isin(events["event_type"].to_numpy(), [E["sent"], E["delivered"], E["bounce"]])
    events.loc[plain, "ua"] = -1
    events["campaign_idx"] = sends["campaign"].to_numpy()[events["send_idx"].to_numpy()]
    events["event_no"] = np.arange(len(events))
    return events


def _members(sent: pd.DataFrame) -> pd.DataFrame:
    """One membership per person and email campaign (first send, first human click)."""
    sent = sent.sort_values(["campaign_idx", "person_idx", "sent_t"], kind="stable")
    g = sent.groupby(["campaign_idx", "person_idx"], sort=True)
    out = g.agg(sent_t=("sent_t", "min"), click_t=("click_t", "min"), audience=("audience", "first")).reset_index()
    # Newsletter sends are not synced to the CRM unless the person clicked.
    return out[(out["audience"] != "newsletter") | (out["click_t"] < NEVER)].reset_index(drop=True)
