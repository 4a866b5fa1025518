"""The vendor's web site: every request path (pages, static assets, bot files, attack probes) and
the page mix of each kind of visit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadscore.demo import catalog as cat
from leadscore.demo.fmt import GroupedChoice

CATEGORIES = (
    "home",
    "product",
    "pricing",
    "demo",
    "datasheet",
    "buying_guide",
    "case_study",
    "webinar",
    "white_paper",
    "video",
    "blog",
    "docs",
    "careers",
    "investors",
    "press",
    "about",
    "contact",
    "rfp",
    "legal",
    "thanks",
    "gone",
    "asset",
    "bot_file",
    "attack",
)
C = {name: i for i, name in enumerate(CATEGORIES)}
N_PL = 4  # product line 0 (none) and 1..3

_BLOG = (
    ("five-signs-your-dashboards-are-lying", 1),
    ("self-service-analytics-without-chaos", 1),
    ("the-hidden-cost-of-spreadsheets", 1),
    ("building-a-metrics-layer", 1),
    ("analytics-for-finance-teams", 1),
    ("marketing-attribution-with-prism", 1),
    ("dashboards-people-actually-use", 1),
    ("etl-vs-elt-in-2025", 2),
    ("api-first-integration-patterns", 2),
    ("why-integrations-break-at-scale", 2),
    ("event-driven-integration-101", 2),
    ("connecting-saas-apps-without-code", 2),
    ("what-is-reverse-etl", 2),
    ("gdpr-fines-what-changed", 3),
    ("classifying-sensitive-data-automatically", 3),
    ("zero-trust-for-data-teams", 3),
    ("encryption-at-rest-vs-in-transit", 3),
    ("board-ready-security-metrics", 3),
    ("insider-risk-and-data-loss", 3),
    ("data-residency-in-europe", 3),
    ("data-contracts-explained", 0),
    ("how-we-reduced-pipeline-latency", 0),
    ("customer-story-roundup-2025", 0),
    ("product-updates-march-2025", 0),
    ("product-updates-september-2025", 0),
    ("product-updates-march-2026", 0),
    ("hiring-our-first-data-engineer", 0),
    ("remote-work-at-tessellate", 0),
    ("a-practical-guide-to-data-lineage", 0),
    ("year-in-review-2025", 0),
)
_WHITE_PAPERS = (
    ("state-of-self-service-analytics-2025", 1),
    ("analytics-maturity-model", 1),
    ("kpi-design-handbook", 1),
    ("integration-architecture-guide", 2),
    ("ipaas-total-cost-of-ownership", 2),
    ("real-time-data-pipelines", 2),
    ("data-security-posture-report-2025", 3),
    ("gdpr-data-mapping-playbook", 3),
    ("insider-risk-benchmark", 3),
    ("data-strategy-for-the-cfo", 0),
)
_CASE_STUDIES = (
    ("retailer-unifies-sales-reporting", 1),
    ("insurer-self-service-dashboards", 1),
    ("hospital-group-capacity-analytics", 1),
    ("telco-churn-analytics", 1),
    ("bank-connects-200-systems", 2),
    ("manufacturer-real-time-inventory", 2),
    ("saas-company-automates-billing-sync", 2),
    ("logistics-firm-api-hub", 2),
    ("insurer-passes-gdpr-audit", 3),
    ("fintech-stops-data-leaks", 3),
    ("healthcare-protects-patient-records", 3),
    ("retailer-encrypts-payment-data", 3),
)
_GUIDES = {
    1: "analytics-platform-buying-guide",
    2: "integration-platform-buying-guide",
    3: "data-security-buying-guide",
}
_DOCS = ("getting-started", "installation", "api-reference", "release-notes", "admin-guide", "faq")
_CAREERS = (
    "senior-data-engineer",
    "account-executive-emea",
    "product-designer",
    "sdr-new-york",
    "security-engineer",
    "customer-success-manager",
)
_PRESS = (
    "tessellate-raises-series-c",
    "bastion-security-launch",
    "relay-integration-5",
    "new-paris-office",
    "tessellate-named-leader-in-data-security",
)
ASSETS = (
    "/assets/css/site.4f2a9c.css",
    "/assets/js/app.b81d37.js",
    "/assets/js/vendor.09ce4e.js",
    "/assets/img/logo.png",
    "/assets/img/hero.png",
    "/favicon.ico",
)
_GONE = (
    "/resources/white-papers/big-data-trends-2019",
    "/blog/announcing-tessellate-2-0",
    "/old-pricing",
    "/products/legacy-connector",
    "/resources/ebook-2020.pdf",
)
BOT_FILES = ("/robots.txt", "/sitemap.xml", "/health", "/feed.xml")
# (method, path, status): probes of vulnerability scanners and password-guessing bots.
ATTACKS = (
    ("POST", "/wp-login.php", 404),
    ("GET", "/wp-login.php", 404),
    ("GET", "/.env", 403),
    ("GET", "/.git/config", 403),
    ("POST", "/xmlrpc.php", 405),
    ("GET", "/xmlrpc.php", 404),
    ("GET", "/wp-admin/setup-config.php", 404),
    ("GET", "/phpmyadmin/index.php", 404),
    ("GET", "/admin/config.php", 404),
    ("GET", "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", 404),
    ("GET", "/cgi-bin/luci/;stok=/locale", 404),
    ("GET", "/.aws/credentials", 403),
    ("GET", "/server-status", 403),
    ("GET", "/wp-content/plugins/wp-file-manager/readme.txt", 404),
    ("POST", "/boaform/admin/formLogin", 404),
    ("GET", "/../../../../etc/passwd", 400),
    ("GET", "/actuator/env", 404),
    ("GET", "/solr/admin/info/system", 404),
    ("GET", "/owa/auth/logon.aspx", 404),
    ("GET", "/.DS_Store", 404),
    ("GET", "/blog?id=1%27%20AND%201%3D1--%20-", 200),
    ("GET", "/blog?id=1%20UNION%20ALL%20SELECT%20NULL%2CNULL--", 200),
    ("GET", "/products/prism-analytics?id=1%27%20OR%20%271%27%3D%271", 200),
    ("GET", "/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", 404),
    ("GET", "/pricing?plan=1%3BSELECT%20SLEEP(5)", 200),
)
SQLMAP_ATTACKS = (20, 21, 22, 24)  # indices into ATTACKS that sqlmap sends


@dataclass(frozen=True)
class Form:
    name: str
    category: str  # category of the page that hosts it


FORMS = (
    Form("demo-request", "demo"),
    Form("contact-us", "contact"),
    Form("pricing-quote", "pricing"),
    Form("white-paper-download", "white_paper"),
    Form("buying-guide-download", "buying_guide"),
    Form("webinar-registration", "webinar"),
    Form("newsletter-signup", "blog"),
    Form("rfp-template-download", "rfp"),
)
FORM_INDEX = {f.name: i for i, f in enumerate(FORMS)}
HIGH_INTENT_FORMS = ("demo-request", "contact-us", "pricing-quote", "rfp-template-download")

# Page mix per kind of visit (weights per category).
MODES = ("casual", "research", "buying", "customer", "jobseeker", "investor")
M = {name: i for i, name in enumerate(MODES)}
_MODE_WEIGHTS = {
    "casual": {
        "home": 20,
        "blog": 25,
        "product": 14,
        "about": 5,
        "careers": 6,
        "press": 3,
        "investors": 1,
        "case_study": 5,
        "video": 4,
        "white_paper": 3,
        "webinar": 2,
        "docs": 4,
        "pricing": 3,
        "legal": 2,
        "gone": 1,
    },
    "research": {
        "product": 18,
        "white_paper": 14,
        "blog": 15,
        "case_study": 10,
        "webinar": 10,
        "video": 10,
        "datasheet": 5,
        "home": 5,
        "docs": 4,
        "pricing": 4,
        "buying_guide": 3,
        "about": 2,
    },
    "buying": {
        "pricing": 24,
        "product": 19,
        "datasheet": 12,
        "buying_guide": 9,
        "case_study": 10,
        "demo": 7,
        "docs": 5,
        "video": 5,
        "rfp": 3,
        "home": 3,
        "contact": 2,
        "about": 1,
    },
    "customer": {
        "docs": 52,
        "pricing": 14,
        "product": 12,
        "blog": 5,
        "home": 5,
        "webinar": 5,
        "case_study": 3,
        "contact": 2,
        "video": 2,
    },
    "jobseeker": {"careers": 55, "about": 20, "home": 10, "blog": 10, "press": 5},
    "investor": {"investors": 50, "press": 30, "about": 10, "home": 10},
}
_BYTES = {
    "home": 48_000,
    "product": 36_000,
    "pricing": 30_000,
    "demo": 22_000,
    "datasheet": 26_000,
    "buying_guide": 24_000,
    "case_study": 33_000,
    "webinar": 21_000,
    "white_paper": 25_000,
    "video": 19_000,
    "blog": 41_000,
    "docs": 28_000,
    "careers": 20_000,
    "investors": 23_000,
    "press": 18_000,
    "about": 27_000,
    "contact": 16_000,
    "rfp": 17_000,
    "legal": 35_000,
    "thanks": 9_000,
    "gone": 1_600,
    "bot_file": 900,
    "attack": 480,
}


class Site:
    """All request paths with their category, product line and typical size."""

    def __init__(self, webinars: pd.DataFrame):
        rows = _page_rows(webinars)
        self.paths = pd.DataFrame(rows, columns=["path", "category", "product_line", "method", "status", "bytes"])
        self.paths["path_id"] = np.arange(len(self.paths))
        self.path_id = dict(zip(self.paths["path"], self.paths["path_id"], strict=True))
        cats = self.paths["category"].to_numpy()
        self.category = cats
        self.product_line = self.paths["product_line"].to_numpy()
        is_page = cats < C["asset"]
        self.is_page = is_page
        # Pages per (category, product line); empty groups fall back to the line-less pages.
        keys = np.where(is_page & (cats != C["thanks"]), cats * N_PL + self.product_line, len(CATEGORIES) * N_PL)
        self._choice = GroupedChoice(keys, len(CATEGORIES) * N_PL + 1)
        counts = self._choice.counts[: len(CATEGORIES) * N_PL].reshape(len(CATEGORIES), N_PL)
        fallback = np.arange(len(CATEGORIES) * N_PL).reshape(len(CATEGORIES), N_PL)
        for pl in range(N_PL):
            empty = counts[:, pl] == 0
            alt = np.where(counts[:, 0] > 0, 0, np.argmax(counts > 0, axis=1))
            fallback[empty, pl] = np.arange(len(CATEGORIES))[empty] * N_PL + alt[empty]
        self._fallback = fallback.ravel()
        self._mode_cum = np.zeros((len(MODES), len(CATEGORIES)))
        for mi, mode in enumerate(MODES):
            w = np.zeros(len(CATEGORIES))
            for name, weight in _MODE_WEIGHTS[mode].items():
                w[C[name]] = weight
            self._mode_cum[mi] = np.cumsum(w / w.sum())
        self.assets = np.array([self.path_id[a] for a in ASSETS])
        self.attacks = np.array([self.path_id[a[1]] for a in ATTACKS])
        self.thanks = self.path_id["/thank-you"]

    def page_in(self, rng: np.random.Generator, category: np.ndarray, product_line: np.ndarray) -> np.ndarray:
        """A random page of each category, for the visit's product line when the category has one."""
        group = self._fallback[np.asarray(category) * N_PL + np.asarray(product_line)]
        return self._choice.draw(rng, group)

    def pages_for(self, rng: np.random.Generator, mode: np.ndarray, product_line: np.ndarray) -> np.ndarray:
        """Random pages following each visit's mode; 80% of product pages match the visit's product line."""
        n = len(mode)
        category = (rng.random(n)[:, None] > self._mode_cum[mode]).sum(axis=1)
        category = np.minimum(category, len(CATEGORIES) - 1)
        pl = np.where(rng.random(n) < 0.8, product_line, rng.integers(0, N_PL, n))
        return self.page_in(rng, category, pl)


def _page_rows(webinars: pd.DataFrame) -> list[tuple]:
    rows: list[tuple] = []

    def page(path: str, category: str, pl: int = 0) -> None:
        rows.append((path, C[category], pl, "GET", 200, _BYTES[category]))

    page("/", "home")
    page("/platform", "product")
    page("/pricing", "pricing")
    page("/demo-request", "demo")
    page("/contact", "contact")
    page("/webinars", "webinar")
    page("/resources", "blog")
    page("/resources/datasheets/platform-overview-datasheet", "datasheet")
    for pl in cat.PRODUCT_LINES:
        s, k = pl.slug, pl.code
        page(f"/products/{s}", "product", k)
        page(f"/products/{s}/features", "product", k)
        page(f"/products/{s}/use-cases", "product", k)
        page(f"/pricing/{s}", "pricing", k)
        page(f"/resources/datasheets/{s}-datasheet", "datasheet", k)
        page(f"/resources/buying-guides/{_GUIDES[k]}", "buying_guide", k)
        page(f"/resources/templates/rfp-template-{s}", "rfp", k)
        page(f"/videos/{s}-overview", "video", k)
        page(f"/videos/{s}-product-tour", "video", k)
        for doc in _DOCS:
            page(f"/docs/{s}/{doc}", "docs", k)
    page("/videos/customer-stories", "video")
    page("/login", "docs")
    for slug, k in _BLOG:
        page(f"/blog/{slug}", "blog", k)
    for slug, k in _WHITE_PAPERS:
        page(f"/resources/white-papers/{slug}", "white_paper", k)
    for slug, k in _CASE_STUDIES:
        page(f"/case-studies/{slug}", "case_study", k)
    for slug, k in zip(webinars["slug"], webinars["product_line"], strict=True):
        page(f"/webinars/{slug}", "webinar", int(k))
    page("/careers", "careers")
    for job in _CAREERS:
        page(f"/careers/{job}", "careers")
    for path in ("/investors", "/investors/annual-report-2025", "/investors/q1-2026-results", "/investors/governance"):
        page(path, "investors")
    page("/press", "press")
    for slug in _PRESS:
        page(f"/press/{slug}", "press")
    for path in ("/about", "/about/team", "/partners", "/customers"):
        page(path, "about")
    for path in ("/legal/privacy", "/legal/terms", "/legal/cookies"):
        page(path, "legal")
    page("/thank-you", "thanks")
    for path in _GONE:
        rows.append((path, C["gone"], 0, "GET", 404, _BYTES["gone"]))
    asset_bytes = (64_211, 211_904, 388_127, 12_408, 142_336, 4_286)
    for path, size in zip(ASSETS, asset_bytes, strict=True):
        rows.append((path, C["asset"], 0, "GET", 200, size))
    for path in BOT_FILES:
        rows.append((path, C["bot_file"], 0, "GET", 200, _BYTES["bot_file"]))
    seen = {r[0] for r in rows}
    for method, path, status in ATTACKS:
        if path not in seen:
            rows.append((path, C["attack"], 0, method, status, _BYTES["attack"]))
            seen.add(path)
    return rows


def form_pages(
    site: Site, rng: np.random.Generator, form: np.ndarray, product_line: np.ndarray, webinar_page: np.ndarray
) -> np.ndarray:
    """The page that hosts each submitted form (webinar registrations use their webinar's page)."""
    category = np.array([C[f.category] for f in FORMS])[form]
    page = site.page_in(rng, category, product_line)
    is_webinar = form == FORM_INDEX["webinar-registration"]
    return np.where(is_webinar & (webinar_page >= 0), webinar_page, page)
