"""Web server traffic: visits of people and anonymous visitors (pages plus the static assets their
browsers fetch), crawlers, uptime monitors, attack scanners, mail-gateway link checks and garbage.

Every request is a row of numeric columns; `writers.py` renders them as combined-format lines.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadscore.demo import catalog as cat
from leadscore.demo import site as web
from leadscore.demo.config import N_DAYS, PERIOD_END, PERIOD_START
from leadscore.demo.fmt import pick_index, positions_within
from leadscore.demo.journeys import DIRECT, PAID, SOCIAL, business_time, uniform_between
from leadscore.demo.population import random_ips

TRAFFIC_CLASSES = ("human", "crawler", "uptime_monitor", "attack", "email_scanner", "garbage")
T = {name: i for i, name in enumerate(TRAFFIC_CLASSES)}
METHODS = ("GET", "POST", "HEAD")
PROTOCOLS = ("HTTP/1.1", "HTTP/2.0", "HTTP/1.0")

# One user-agent table for the whole log: browsers, crawlers, monitors, attack tools, email scanners.
UAS = (
    cat.BROWSER_UAS
    + tuple(c[1] for c in cat.CRAWLERS)
    + tuple(m[1] for m in cat.MONITORS)
    + cat.ATTACK_TOOL_UAS
    + cat.SCANNER_UAS
)
UA_CRAWLER = len(cat.BROWSER_UAS)
UA_MONITOR = UA_CRAWLER + len(cat.CRAWLERS)
UA_TOOL = UA_MONITOR + len(cat.MONITORS)
UA_SCANNER = UA_TOOL + len(cat.ATTACK_TOOL_UAS)
EXTERNAL = tuple(r[0] for r in cat.EXTERNAL_REFERRERS)
X = {ref: i for i, ref in enumerate(EXTERNAL)}
GARBAGE = (
    r"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x8e\x1f\xd4\xa2\x9b",
    r"\x16\x03\x01\x00\xc4\x01\x00\x00\xc0\x03\x03\x01\xeaZ\x13",
    r"\x05\x01\x00",
    "SSH-2.0-Go",
    "MGLNDD_203.0.113.10_443",
)
_MODE_PAGES = np.array([0.55, 0.4, 0.3, 0.35, 0.5, 0.6])  # geometric parameter of pages per visit


@dataclass
class Visitors:
    person: np.ndarray  # person index or -1 (anonymous)
    company: np.ndarray  # company index or -1
    ua: np.ndarray
    http2: np.ndarray
    home_ip: np.ndarray
    blocks_cookies: np.ndarray
    first_of_person: np.ndarray  # per person: index of the primary cookie
    second_of_person: np.ndarray  # per person: second device cookie (or the primary)


def build_visitors(
    rng, people: pd.DataFrame, n_anonymous: int, companies: pd.DataFrame, buying_group_companies: np.ndarray
) -> Visitors:
    """First-party cookies: one per person (a second device for some), anonymous visitors, and
    colleagues of in-market buyers who never identify themselves (`buying_group_companies`)."""
    n = len(people)
    devices = 1 + (rng.random(n) < 0.2)
    person = np.repeat(np.arange(n), devices)
    first = np.cumsum(devices) - devices
    second = first + devices - 1
    n_company = len(companies)
    anon_company = np.where(rng.random(n_anonymous) < 0.35, rng.integers(0, n_company, n_anonymous), -1)
    company = np.concatenate([people["company_idx"].to_numpy()[person], anon_company, buying_group_companies])
    person = np.concatenate([person, np.full(n_anonymous + len(buying_group_companies), -1)])
    total = len(person)
    ua = pick_index(rng, cat.BROWSER_UA_WEIGHTS, total)
    return Visitors(
        person=person,
        company=company,
        ua=ua,
        http2=rng.random(total) < 0.55,
        home_ip=random_ips(rng, total),
        blocks_cookies=rng.random(total) < 0.03,
        first_of_person=first,
        second_of_person=second,
    )


@dataclass
class Queries:
    """Query strings of landing URLs (index 0 = none): UTM tags of emails, ads and social posts."""

    text: list[str]
    send_offset: int
    paid_offset: int
    social_offset: int


def build_queries(sends: pd.DataFrame, campaigns: pd.DataFrame) -> Queries:
    text = [""]
    send_offset = len(text)
    slugs = campaigns["slug"].to_numpy()
    for c in sends["campaign"].to_numpy():
        text.append(f"?utm_source=tessellate&utm_medium=email&utm_campaign={slugs[c]}")
    paid_offset = len(text)
    for pl in cat.PRODUCT_LINES:
        text.append(f"?utm_source=google&utm_medium=cpc&utm_campaign={pl.slug}-search&utm_term={pl.slug.split('-')[0]}")
    social_offset = len(text)
    for pl in cat.PRODUCT_LINES:
        text.append(f"?utm_source=linkedin&utm_medium=social&utm_campaign={pl.slug}-sponsored")
    return Queries(text, send_offset, paid_offset, social_offset)


def _sessions(
    visitor, t, mode, pl, landing=None, query=None, ref=None, form=None, office=None, n_pages=None, reason="visit"
) -> pd.DataFrame:
    n = len(visitor)

    def col(x, fill):
        return np.full(n, fill) if x is None else np.asarray(x)

    return pd.DataFrame(
        {
            "visitor": np.asarray(visitor, dtype=np.int64),
            "t": np.asarray(t, dtype=np.int64),
            "mode": np.broadcast_to(mode, n).astype(np.int64),
            "pl": np.broadcast_to(pl, n).astype(np.int64),
            "landing": col(landing, -1),
            "query": col(query, 0),
            "ref": col(ref, -2),
            "form": col(form, -1),
            "office": col(office, -1),
            "n_pages": col(n_pages, -1),
            "reason": reason,
        }
    )


def _device(rng, vis: Visitors, person: np.ndarray) -> np.ndarray:
    """People mostly use their main device."""
    return np.where(rng.random(len(person)) < 0.75, vis.first_of_person[person], vis.second_of_person[person])


def plan_sessions(
    rng,
    vis: Visitors,
    people: pd.DataFrame,
    visits: pd.DataFrame,
    forms: pd.DataFrame,
    attendance: pd.DataFrame,
    human_clicks: pd.DataFrame,
    episodes: pd.DataFrame,
    n_anonymous: int,
    colleague_episodes: np.ndarray,
    site: web.Site,
    queries: Queries,
) -> pd.DataFrame:
    """Visits as (visitor, time, mode, product line, landing page...). `colleague_episodes` holds the
    buying episode of each anonymous colleague of an in-market buyer (the last visitors)."""
    parts = []
    # Visits planned by the journeys; Jen keeps returning to one favourite page.
    who = visits["person_idx"].to_numpy()
    favourite = site.page_in(rng, np.full(len(people), web.C["white_paper"]), people["product_interest"].to_numpy())
    landing = np.where(visits["repeat_page"].to_numpy(), favourite[who], -1)
    parts.append(
        _sessions(
            _device(rng, vis, who),
            visits["t"],
            visits["mode"],
            visits["product_line"],
            landing,
            reason=visits["reason"].to_numpy(),
        )
    )
    # Form visits end with the submission.
    who = forms["person_idx"].to_numpy()
    form_mode = np.array(
        [
            web.M["buying"],
            web.M["buying"],
            web.M["buying"],
            web.M["research"],
            web.M["research"],
            web.M["research"],
            web.M["casual"],
            web.M["buying"],
        ]
    )[forms["form"].to_numpy()]
    source = forms["source"].to_numpy()
    pl = forms["product_line"].to_numpy()
    query = np.select(
        [source == PAID, source == SOCIAL], [queries.paid_offset + pl - 1, queries.social_offset + pl - 1], 0
    )
    ref = np.select(
        [source == PAID, source == SOCIAL, source == DIRECT],
        [X["https://www.google.com/"], X["https://www.linkedin.com/"], X["-"]],
        -2,
    )
    parts.append(
        _sessions(
            forms["visitor"].to_numpy(),
            forms["t"],
            form_mode,
            pl,
            query=query,
            ref=ref,
            form=np.arange(len(forms)),
            reason="form",
        )
    )
    # Webinar attendance.
    parts.append(
        _sessions(
            _device(rng, vis, attendance["person_idx"].to_numpy()),
            attendance["t"],
            web.M["research"],
            attendance["product_line"],
            attendance["page"],
            n_pages=1 + rng.binomial(2, 0.3, len(attendance)),
            reason="webinar",
        )
    )
    # Clicks in emails land on the linked page with UTM tags.
    who = human_clicks["person_idx"].to_numpy()
    mail_ref = np.where(
        rng.random(len(who)) < 0.8,
        X["-"],
        np.where(rng.random(len(who)) < 0.5, X["https://mail.google.com/"], X["https://outlook.office.com/"]),
    )
    parts.append(
        _sessions(
            _device(rng, vis, who),
            human_clicks["t"].to_numpy() + rng.integers(1, 6, len(who)),
            web.M["research"],
            people["product_interest"].to_numpy()[who],
            human_clicks["path_id"],
            queries.send_offset + human_clicks["send_idx"].to_numpy(),
            mail_ref,
            reason="email_click",
        )
    )
    # Anonymous visitors who never identify themselves.
    first_anon = len(vis.person) - n_anonymous - len(colleague_episodes)
    k = 1 + rng.poisson(0.7, n_anonymous)
    v = np.repeat(first_anon + np.arange(n_anonymous), k)
    mode = np.array([web.M[m] for m in ("casual", "research", "jobseeker", "investor", "buying")])[
        pick_index(rng, (70, 15, 10, 2, 3), len(v))
    ]
    t = business_time(
        rng,
        uniform_between(rng, np.full(len(v), PERIOD_START), np.full(len(v), PERIOD_END)),
        np.where(rng.random(len(v)) < 0.6, -5, 1),
    )
    parts.append(_sessions(v, t, mode, rng.integers(0, 4, len(v)), reason="anonymous"))
    # Colleagues of an in-market buyer who research without ever filling a form (from the office).
    ep = episodes.set_index("episode_idx")
    k = 1 + rng.poisson(2.5, len(colleague_episodes))
    v = np.repeat(first_anon + n_anonymous + np.arange(len(colleague_episodes)), k)
    e = np.repeat(colleague_episodes, k)
    t = uniform_between(rng, ep.loc[e, "start_t"].to_numpy(), ep.loc[e, "end_t"].to_numpy())
    mode = np.where(rng.random(len(v)) < 0.6, web.M["buying"], web.M["research"])
    parts.append(
        _sessions(
            v,
            business_time(rng, t, np.zeros(len(t), np.int64)),
            mode,
            ep.loc[e, "product_line"].to_numpy(),
            office=np.ones(len(v), np.int64),
            reason="buying_group",
        )
    )
    sessions = pd.concat(parts, ignore_index=True)
    return sessions[(sessions["t"] >= PERIOD_START) & (sessions["t"] <= PERIOD_END)].reset_index(drop=True)


def expand_sessions(
    rng, sessions: pd.DataFrame, vis: Visitors, companies: pd.DataFrame, site: web.Site, forms: pd.DataFrame
) -> dict:
    """Pages of each visit (with the form GET, POST and thank-you page), then the static assets."""
    s = sessions
    n_s = len(s)
    mode = s["mode"].to_numpy()
    n_pages = np.where(s["n_pages"].to_numpy() > 0, s["n_pages"].to_numpy(), rng.geometric(_MODE_PAGES[mode]))
    is_form = s["form"].to_numpy() >= 0
    n_pages = np.where(is_form, rng.geometric(0.6, n_s) - 1, n_pages)  # pages browsed before the form
    n_req = n_pages + 3 * is_form
    sid = np.repeat(np.arange(n_s), n_req)
    pos = positions_within(n_req)
    n = len(sid)
    from_end = n_req[sid] - pos  # 3, 2, 1 for the form GET, POST and thank-you rows
    form_row = is_form[sid] & (from_end <= 3)
    path = site.pages_for(rng, mode[sid], s["pl"].to_numpy()[sid])
    landing = s["landing"].to_numpy()[sid]
    path = np.where((pos == 0) & (landing >= 0), landing, path)
    f_idx = np.where(is_form, s["form"].to_numpy(), 0)
    form_page = forms["page"].to_numpy()[f_idx][sid]
    path = np.where(form_row & (from_end >= 2), form_page, path)
    path = np.where(form_row & (from_end == 1), site.thanks, path)
    method = np.where(form_row & (from_end == 2), 1, 0).astype(np.int8)
    query = np.where(pos == 0, s["query"].to_numpy()[sid], 0)

    gap = np.where(pos == 0, 0, 3 + rng.exponential(45, n)).astype(np.int64)
    gap = np.where(form_row & (from_end == 2), rng.integers(20, 150, n), gap)
    gap = np.where(form_row & (from_end == 1), rng.integers(1, 3, n), gap)
    offset = np.cumsum(gap) - np.repeat(np.cumsum(gap)[np.cumsum(n_req) - n_req], n_req)
    post_offset = np.zeros(n_s, np.int64)
    post_rows = form_row & (from_end == 2)
    post_offset[sid[post_rows]] = offset[post_rows]
    start = np.where(is_form, s["t"].to_numpy() - post_offset, s["t"].to_numpy())  # POST at the submission time
    t = start[sid] + offset

    ref_ext = np.where(pos == 0, s["ref"].to_numpy()[sid], -1)
    ref_ext = np.where(ref_ext == -2, pick_index(rng, [r[1] for r in cat.EXTERNAL_REFERRERS], n), ref_ext)
    prev_key = np.concatenate([[-1], path[:-1] * 1_000_000 + query[:-1]])
    ref_key = np.where(pos == 0, -1, prev_key)

    visitor = s["visitor"].to_numpy()[sid]
    company = vis.company[visitor]
    office = s["office"].to_numpy()
    at_office = np.where(office >= 0, office == 1, rng.random(n_s) < 0.6)[sid] & (company >= 0)
    session_home = vis.home_ip[s["visitor"].to_numpy()]
    ip = np.where(at_office, companies["office_ip"].to_numpy()[np.maximum(company, 0)], session_home[sid])
    cookie = np.where(vis.blocks_cookies[visitor], -1, visitor)
    pages = {
        "t": t,
        "ip": ip.astype(np.uint32),
        "method": method,
        "path": path,
        "query": query,
        "ref_ext": ref_ext,
        "ref_key": ref_key,
        "ua": vis.ua[visitor],
        "visitor": cookie,
        "actor": visitor,
        "proto": np.where(vis.http2[visitor], 1, 0).astype(np.int8),
        "cls": np.full(n, T["human"], np.int8),
        "status": np.where(method == 1, 303, site.paths["status"].to_numpy()[path]),
        "bytes": np.where(method == 1, 154, _page_bytes(rng, site, path)),
    }
    return _with_assets(rng, pages, pos, site)


def _page_bytes(rng, site: web.Site, path: np.ndarray) -> np.ndarray:
    base = site.paths["bytes"].to_numpy()[path]
    return (base * rng.uniform(0.97, 1.03, len(path))).astype(np.int64)


def _with_assets(rng, pages: dict, pos: np.ndarray, site: web.Site) -> dict:
    """Browsers fetch CSS, JS and images after each HTML page; later pages mostly hit the cache (304)."""
    is_page = (pages["method"] == 0) & site.is_page[pages["path"]]
    first = pos == 0
    k = np.where(is_page, np.where(first, 4 + rng.binomial(2, 0.5, len(pos)), rng.binomial(2, 0.3, len(pos))), 0)
    src = np.repeat(np.arange(len(pos)), k)
    slot = positions_within(k)
    asset = site.assets[np.where(first[src], slot % len(site.assets), rng.integers(0, len(site.assets), len(src)))]
    assets = {key: value[src] for key, value in pages.items()}
    assets["t"] = assets["t"] + rng.integers(0, 3, len(src))
    assets["path"] = asset
    assets["query"] = np.zeros(len(src), np.int64)
    assets["ref_ext"] = np.full(len(src), -1)
    assets["ref_key"] = pages["path"][src] * 1_000_000 + pages["query"][src]
    cached = ~first[src]
    assets["status"] = np.where(cached, 304, 200)
    sizes = site.paths["bytes"].to_numpy()[asset]
    assets["bytes"] = np.where(cached, 0, sizes)
    return {key: np.concatenate([pages[key], assets[key]]) for key in pages}


def crawler_traffic(rng, n_lines: int, site: web.Site) -> dict:
    """Search and SEO crawlers: bursts of page fetches (robots.txt first), no cookies."""
    n_bursts = max(1, n_lines // 7)
    bot = pick_index(rng, [c[3] for c in cat.CRAWLERS], n_bursts)
    size = rng.geometric(0.15, n_bursts)
    b = np.repeat(np.arange(n_bursts), size)
    pos = positions_within(size)
    n = len(b)
    pages = np.flatnonzero(site.is_page | (site.category == web.C["gone"]))
    path = pages[rng.integers(0, len(pages), n)]
    robots = (pos == 0) & (rng.random(n_bursts) < 0.3)[b]
    path = np.where(robots, site.path_id["/robots.txt"], path)
    path = np.where((pos == 1) & (rng.random(n) < 0.1), site.path_id["/sitemap.xml"], path)
    render = (rng.random(n) < 0.08) & np.isin(bot[b], [0, 1])  # Google renders pages: CSS and JS too
    path = np.where(render, site.assets[rng.integers(0, 3, n)], path)
    start = uniform_between(rng, np.full(n_bursts, PERIOD_START), np.full(n_bursts, PERIOD_END - 3600))
    t = start[b] + _within(np.where(pos == 0, 0, rng.integers(1, 60, n)), size)
    ip = _bot_ips(rng, [c[2] for c in cat.CRAWLERS], bot[b])
    return _bot_rows(rng, t, ip, path, UA_CRAWLER + bot[b], T["crawler"], site)


def _within(gaps: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Cumulative sum of gaps restarted at each group start."""
    total = np.cumsum(gaps)
    starts = np.cumsum(sizes) - sizes
    return total - np.repeat(total[starts] - gaps[starts], sizes)


def _bot_ips(rng, prefixes: list[tuple[str, ...]], which: np.ndarray) -> np.ndarray:
    table = [(i, p) for i, ps in enumerate(prefixes) for p in ps]
    owner = np.array([r[0] for r in table])
    octets = np.array([[int(x) for x in r[1].split(".")] for r in table])
    counts = np.bincount(owner, minlength=len(prefixes))
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    row = offsets[which] + (rng.random(len(which)) * counts[which]).astype(np.int64)
    o = octets[row]
    return (
        (o[:, 0].astype(np.uint32) << 24)
        | (o[:, 1].astype(np.uint32) << 16)
        | (o[:, 2].astype(np.uint32) << 8)
        | rng.integers(1, 255, len(which)).astype(np.uint32)
    )


def _bot_rows(rng, t, ip, path, ua, cls, site: web.Site, method=None, status=None, query=None) -> dict:
    n = len(t)
    return {
        "t": np.asarray(t, np.int64),
        "ip": np.asarray(ip, np.uint32),
        "method": (np.zeros(n, np.int8) if method is None else np.asarray(method, np.int8)),
        "path": np.asarray(path),
        "query": (np.zeros(n, np.int64) if query is None else np.asarray(query)),
        "ref_ext": np.full(n, X["-"]),
        "ref_key": np.full(n, -1),
        "ua": np.asarray(ua),
        "visitor": np.full(n, -1),
        "proto": np.zeros(n, np.int8),
        "cls": np.full(n, cls, np.int8),
        "status": (site.paths["status"].to_numpy()[path] if status is None else np.asarray(status)),
        "bytes": _page_bytes(rng, site, np.asarray(path)),
    }


def monitor_traffic(rng, n_lines: int, site: web.Site) -> dict:
    """Uptime monitors check the home page or /health at a fixed interval, all day long."""
    out = []
    span = PERIOD_END - PERIOD_START
    for k, (_name, _agent, prefixes, method, path) in enumerate(cat.MONITORS):
        wanted = max(N_DAYS, n_lines // len(cat.MONITORS))
        nice = np.array([60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 21600, 43200, 86400])
        interval = int(nice[np.argmin(np.abs(nice - span / wanted))])
        t = (
            PERIOD_START
            + 17 * (k + 1)
            + np.arange(0, span, interval)
            + rng.integers(0, 3, span // interval + 1)[: len(np.arange(0, span, interval))]
        )
        ip = _bot_ips(rng, [prefixes], np.zeros(len(t), np.int64))
        ip = (ip & np.uint32(0xFFFFFF00)) | np.uint32(10 + k)  # a handful of probe hosts
        rows = _bot_rows(
            rng,
            t,
            ip,
            np.full(len(t), site.path_id[path]),
            np.full(len(t), UA_MONITOR + k),
            T["uptime_monitor"],
            site,
            method=np.full(len(t), METHODS.index(method)),
        )
        rows["bytes"] = np.where(rows["method"] == 2, 0, 2)
        out.append(rows)
    return {key: np.concatenate([o[key] for o in out]) for key in out[0]}


def attack_traffic(rng, n_lines: int, site: web.Site) -> dict:
    """Password guessing, secret-file probes and SQL injection, in bursts from one address each."""
    n_bursts = max(1, n_lines // 40)
    kind = pick_index(rng, (40, 35, 15, 10), n_bursts)  # wordpress, probes, sqlmap, nikto-like
    size = np.where(
        kind == 0,
        5 + rng.geometric(0.02, n_bursts),
        np.where(kind == 1, 3 + rng.geometric(0.1, n_bursts), 10 + rng.geometric(0.03, n_bursts)),
    )
    b = np.repeat(np.arange(n_bursts), size)
    n = len(b)
    attack_idx = np.array([site.path_id[a[1]] for a in web.ATTACKS])
    attack_method = np.array([METHODS.index(a[0]) for a in web.ATTACKS])
    attack_status = np.array([a[2] for a in web.ATTACKS])
    wp = np.array([0, 4])
    probes = np.arange(2, 20)
    sqlmap = np.array(web.SQLMAP_ATTACKS)
    choice = np.select(
        [kind[b] == 0, kind[b] == 1, kind[b] == 2],
        [
            wp[rng.integers(0, len(wp), n)],
            probes[rng.integers(0, len(probes), n)],
            sqlmap[rng.integers(0, len(sqlmap), n)],
        ],
        rng.integers(0, len(web.ATTACKS), n),
    )
    tool = np.select([kind == 2, kind == 3], [0, 1], rng.integers(2, len(cat.ATTACK_TOOL_UAS), n_bursts))
    # A quarter of the bursts pretend to be a browser.
    disguised = (rng.random(n_bursts) < 0.25) & (kind < 2)
    ua = np.where(disguised, rng.integers(0, len(cat.BROWSER_UAS), n_bursts), UA_TOOL + tool)[b]
    start = uniform_between(rng, np.full(n_bursts, PERIOD_START), np.full(n_bursts, PERIOD_END - 7200))
    t = start[b] + _within(rng.integers(0, 4, n), size)
    ip = random_ips(rng, n_bursts)[b]
    rows = _bot_rows(
        rng,
        t,
        ip,
        attack_idx[choice],
        ua,
        T["attack"],
        site,
        method=attack_method[choice],
        status=attack_status[choice],
    )
    return rows


def scanner_traffic(rng, clicks: pd.DataFrame, queries: Queries, site: web.Site) -> dict:
    """Mail gateways fetching every link of a message (no cookie, data-centre addresses)."""
    ua = UA_SCANNER + (clicks["ua"].to_numpy() - len(cat.EMAIL_CLIENT_UAS))
    rows = _bot_rows(
        rng,
        clicks["t"],
        clicks["ip"],
        clicks["path_id"],
        ua,
        T["email_scanner"],
        site,
        query=queries.send_offset + clicks["send_idx"].to_numpy(),
    )
    return rows


def garbage_traffic(rng, n_lines: int, site: web.Site) -> dict:
    """Non-HTTP bytes sent to the web port (TLS handshakes, SSH banners): status 400, no request."""
    t = uniform_between(rng, np.full(n_lines, PERIOD_START), np.full(n_lines, PERIOD_END))
    rows = _bot_rows(
        rng,
        t,
        random_ips(rng, n_lines),
        np.zeros(n_lines, np.int64),
        np.full(n_lines, -1),
        T["garbage"],
        site,
        status=np.full(n_lines, 400),
    )
    rows["garbage"] = rng.integers(0, len(GARBAGE), n_lines)
    rows["bytes"] = np.full(n_lines, 226)
    return rows


# Column types of the request table (10M+ rows: keep them small).
DTYPES = {
    "t": np.int64,
    "ip": np.uint32,
    "method": np.int8,
    "path": np.int16,
    "query": np.int16,
    "ref_ext": np.int8,
    "ref_key": np.int32,
    "ua": np.int16,
    "visitor": np.int32,
    "actor": np.int32,
    "proto": np.int8,
    "cls": np.int8,
    "status": np.int16,
    "bytes": np.int32,
    "garbage": np.int8,
}


def concat(parts: list[dict]) -> dict:
    for p in parts:
        p.setdefault("garbage", np.full(len(p["t"]), -1))
        p.setdefault("actor", np.full(len(p["t"]), -1))
    return {
        key: np.concatenate([np.asarray(p[key]).astype(dtype, copy=False) for p in parts])
        for key, dtype in DTYPES.items()
    }


def attendance(rng, forms: pd.DataFrame, campaigns: pd.DataFrame) -> pd.DataFrame:
    """Registered people who attend the live webinar (the attendance shows on the webinar's page)."""
    reg = forms[forms["form"] == web.FORM_INDEX["webinar-registration"]]
    event = campaigns["event_t"].to_numpy()[reg["campaign_idx"].to_numpy()]
    p = np.where(reg["reason"].to_numpy() == "episode", 0.65, 0.42)
    attended = (rng.random(len(reg)) < p) & (event <= PERIOD_END)
    out = pd.DataFrame(
        {
            "form_row": reg.index.to_numpy(),
            "person_idx": reg["person_idx"].to_numpy(),
            "registered_t": reg["t"].to_numpy(),
            "t": event + rng.integers(0, 600, len(reg)),
            "product_line": reg["product_line"].to_numpy(),
            "page": reg["page"].to_numpy(),
            "attended": attended,
            "campaign_idx": reg["campaign_idx"].to_numpy(),
        }
    )
    return out


# Daylight-saving periods (UTC instants) for the servers' local time zones.
_EU_SUMMER = ((1743296400, 1761440400), (1774746000, 1792890000))  # 2025-03-30 .. 2025-10-26, 2026
_US_SUMMER = ((1741503600, 1762063200), (1772953200, 1793512800))  # 2025-03-09 .. 2025-11-02, 2026
OFFSETS = ("+0000", "+0100", "+0200", "-0500", "-0400")
INVALID_UTF8_TOKEN = "~~RAW-BYTES~~"  # replaced by invalid UTF-8 bytes once the file is written


def _summer(t: np.ndarray, spans) -> np.ndarray:
    out = np.zeros(len(t), bool)
    for a, b in spans:
        out |= (t >= a) & (t < b)
    return out


def server_offsets(t: np.ndarray, ip: np.ndarray) -> np.ndarray:
    """Three servers share the log: one logs UTC, one Europe/Paris, one America/New_York. The load
    balancer pins a client address to one server."""
    bucket = (ip.astype(np.uint64) * np.uint64(2654435761) >> np.uint64(7)) % np.uint64(10)
    server = np.select([bucket < 5, bucket < 8], [0, 1], 2)
    paris = np.where(_summer(t, _EU_SUMMER), 2, 1)
    new_york = np.where(_summer(t, _US_SUMMER), 4, 3)
    return np.select([server == 1, server == 2], [paris, new_york], 0).astype(np.int8)


def layout(rng, req: dict) -> dict:
    """Assign each request to a day file and a line; add the mess of real log shipping.

    Works on a dict of column arrays (10M+ rows: no DataFrame overhead)."""
    keep = (req["t"] >= PERIOD_START) & (req["t"] <= PERIOD_END)
    if not keep.all():
        req = {key: value[keep] for key, value in req.items()}
    n = len(req["t"])
    t = req["t"]
    day = (t - PERIOD_START) // 86_400
    # A few lines are shipped a day late and open the next day's file.
    late = (rng.random(n) < 0.003) & (day < N_DAYS - 1)
    req["file_day"] = (day + late).astype(np.int16)
    req["late"] = late
    req["off"] = server_offsets(t, req["ip"])
    # Lines cut short when a server was killed mid-write.
    cut = np.zeros(n, np.float32)
    chosen = rng.choice(n, size=min(n, max(3, n // 5000)), replace=False)
    cut[chosen] = rng.uniform(0.25, 0.9, len(chosen))
    req["cut"] = cut
    # A few scanner requests carry raw bytes that are not UTF-8.
    attacks = np.flatnonzero((req["cls"] == T["attack"]) & (req["cut"] == 0))
    bad = np.zeros(n, bool)
    if len(attacks):
        bad[rng.choice(attacks, size=min(len(attacks), max(2, n // 2_000_000)), replace=False)] = True
    req["bad_bytes"] = bad
    # Order: day file, late lines first, then time; the row number breaks ties.
    key = (
        (req["file_day"].astype(np.uint64) << np.uint64(54))
        | ((~late).astype(np.uint64) << np.uint64(53))
        | ((t - PERIOD_START).astype(np.uint64) << np.uint64(27))
        | np.arange(n, dtype=np.uint64)
    )
    order = np.argsort(key)
    req = {k: v[order] for k, v in req.items()}
    req["line_no"] = positions_within(np.bincount(req["file_day"], minlength=N_DAYS)) + 1
    return req
