"""Companies and the people who work there, with their hidden fit.

Fit (0-1) is what a perfect demographic score would measure: seniority, department relevance,
industry, company size and whether the sales team serves the country.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.demo import catalog as cat
from leadscore.demo.config import DAY, HISTORY_START, PERIOD_START
from leadscore.demo.fmt import GroupedChoice, pick, pick_index

_FOLD = str.maketrans(
    {
        "é": "e",
        "è": "e",
        "ê": "e",
        "ë": "e",
        "É": "E",
        "á": "a",
        "à": "a",
        "â": "a",
        "ä": "a",
        "ã": "a",
        "Á": "A",
        "ç": "c",
        "í": "i",
        "î": "i",
        "ï": "i",
        "ñ": "n",
        "ó": "o",
        "ô": "o",
        "ö": "o",
        "õ": "o",
        "ú": "u",
        "ü": "u",
        "û": "u",
        "Ü": "U",
        "Ö": "O",
        "ß": "ss",
        " ": "",
        "'": "",
        "Ä": "A",
        "Ø": "O",
    }
)

COUNTRY_CODES = np.array([c.code for c in cat.COUNTRIES], dtype=object)
COUNTRY_SERVED = np.array([c.served for c in cat.COUNTRIES])
COUNTRY_OFFSET = np.array([c.utc_offset for c in cat.COUNTRIES])
COUNTRY_REGION = np.array([c.region for c in cat.COUNTRIES], dtype=object)
CULTURES = tuple(cat.FIRST_NAMES)
INDUSTRY_NAMES = np.array([i[0] for i in cat.INDUSTRIES], dtype=object)
INDUSTRY_FIT = np.array([i[2] for i in cat.INDUSTRIES])
EDUCATION_IDX = list(INDUSTRY_NAMES).index(cat.EDUCATION)
CONSULTING_IDX = list(INDUSTRY_NAMES).index(cat.CONSULTING)


def size_score(employees: np.ndarray) -> np.ndarray:
    """Company-size part of fit: the vendor sells best to mid-size and large firms."""
    return np.interp(np.log10(employees), [0.5, 1, 1.7, 2.3, 3, 4, 5], [0.05, 0.1, 0.35, 0.6, 0.85, 1.0, 0.9])


def random_ips(rng: np.random.Generator, n: int) -> np.ndarray:
    first = np.asarray(cat.PUBLIC_FIRST_OCTETS, dtype=np.uint32)[rng.integers(0, len(cat.PUBLIC_FIRST_OCTETS), n)]
    rest = rng.integers(0, 2**24, n).astype(np.uint32)
    return (first << np.uint32(24)) | rest


def build_companies(rng: np.random.Generator, n: int) -> pd.DataFrame:
    n_generated = n - len(cat.COMPETITOR_COMPANIES)
    industry = pick_index(rng, [i[1] for i in cat.INDUSTRIES], n_generated)
    country = pick_index(rng, [c.weight for c in cat.COUNTRIES], n_generated)
    employees = np.exp(rng.normal(np.log(150), 1.7, n_generated))
    employees = np.where(industry == CONSULTING_IDX, employees / 5, employees)
    employees = np.where(industry == EDUCATION_IDX, employees * 3, employees)
    employees = np.clip(np.round(employees), 2, 250_000).astype(np.int64)
    revenue = employees * np.exp(rng.normal(np.log(180_000), 0.5, n_generated))
    revenue = np.round(revenue, -3)

    base = pick(rng, cat.NAME_PREFIX, n_generated) + pick(rng, cat.NAME_CORE, n_generated)
    suffix_word = _industry_suffix(rng, industry)
    legal = _legal_suffix(rng, country)
    name = pd.Series(base + " " + suffix_word + legal).str.strip().to_numpy(dtype=object)
    tld = np.array([cat.DOMAIN_TLD[c] for c in COUNTRY_CODES], dtype=object)[country]
    tld = np.where(rng.random(n_generated) < 0.4, "com", tld)
    with_word = rng.random(n_generated) < 0.5
    slug = pd.Series(np.where(with_word, base + suffix_word, base)).str.lower().str.translate(_FOLD)
    slug = slug.str.replace(r"[^a-z0-9-]", "", regex=True)
    domain = slug + "." + pd.Series(tld)
    dup = domain.groupby(domain).cumcount()
    domain = np.where(dup > 0, slug + dup.astype(str) + "." + pd.Series(tld), domain)

    kind = np.where(rng.random(n_generated) < 0.004, "partner", "prospect").astype(object)
    generated = pd.DataFrame(
        {
            "name": name,
            "brand": base,
            "domain": domain,
            "industry": industry,
            "country": country,
            "employees": employees,
            "annual_revenue": revenue,
            "kind": kind,
        }
    )
    competitors = pd.DataFrame(
        {
            "name": [c[0] for c in cat.COMPETITOR_COMPANIES],
            "brand": [c[0].split()[0] for c in cat.COMPETITOR_COMPANIES],
            "domain": [c[1] for c in cat.COMPETITOR_COMPANIES],
            "industry": list(INDUSTRY_NAMES).index("Technology"),
            "country": [0, 0, 0, 2, 0, 4],
            "employees": [850, 420, 300, 140, 1200, 260],
            "annual_revenue": [1.3e8, 6.1e7, 4.2e7, 2.0e7, 2.4e8, 3.9e7],
            "kind": "competitor",
        }
    )
    companies = pd.concat([generated, competitors], ignore_index=True)
    companies["company_idx"] = np.arange(len(companies))
    n_all = len(companies)
    ind_fit = INDUSTRY_FIT[companies["industry"].to_numpy()]
    served = COUNTRY_SERVED[companies["country"].to_numpy()]
    fit = (0.5 * ind_fit + 0.5 * size_score(companies["employees"].to_numpy())) * np.where(served, 1.0, 0.35)
    companies["company_fit"] = np.where(companies["kind"] == "competitor", 0.05, fit)
    city_draw = rng.random(n_all)
    n_cities = np.array([len(cat.COUNTRIES[c].cities) for c in range(len(cat.COUNTRIES))])
    companies["city"] = (city_draw * n_cities[companies["country"].to_numpy()]).astype(np.int64)
    companies["office_ip"] = random_ips(rng, n_all)
    # Larger firms route mail through security gateways that click every link.
    big = companies["employees"].to_numpy() > 1000
    companies["has_link_scanner"] = rng.random(n_all) < np.where(big, 0.2, 0.04)
    _mark_customers(rng, companies)
    return companies


def _industry_suffix(rng: np.random.Generator, industry: np.ndarray) -> np.ndarray:
    options = [(i, word) for i, ind in enumerate(cat.INDUSTRIES) for word in ind[3]]
    chooser = GroupedChoice(np.array([o[0] for o in options]), len(cat.INDUSTRIES))
    words = np.array([o[1] for o in options], dtype=object)
    return words[chooser.draw(rng, industry)]


def _legal_suffix(rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
    options = [(ci, s) for ci, c in enumerate(cat.COUNTRIES) for s in cat.LEGAL_SUFFIX[c.code]]
    chooser = GroupedChoice(np.array([o[0] for o in options]), len(cat.COUNTRIES))
    words = np.array([(" " + o[1]) if o[1] else "" for o in options], dtype=object)
    return words[chooser.draw(rng, country)]


def _mark_customers(rng: np.random.Generator, companies: pd.DataFrame) -> None:
    """Existing customers at the start of the period, with their repurchase cycle."""
    n = len(companies)
    eligible = (companies["kind"] == "prospect") & (companies["industry"] != EDUCATION_IDX)
    weight = np.where(eligible, companies["company_fit"].to_numpy() ** 2, 0.0)
    n_customers = max(2, int(round(0.03 * n)))
    chosen = rng.choice(n, size=min(n_customers, int((weight > 0).sum())), replace=False, p=weight / weight.sum())
    is_customer = np.zeros(n, bool)
    is_customer[chosen] = True
    companies["is_customer"] = is_customer
    companies["customer_since"] = np.where(
        is_customer, rng.integers(HISTORY_START + 60 * DAY, PERIOD_START - 45 * DAY, n), 0
    )
    companies["customer_product_line"] = np.where(is_customer, 1 + pick_index(rng, cat.PRODUCT_LINE_WEIGHTS, n), 0)
    companies["customer_channel"] = np.where(is_customer & (rng.random(n) < 0.2), "Channel", "Direct")
    companies["repurchase_cycle_months"] = np.where(is_customer, rng.choice([3, 4], n), 0)
    base = np.array([0] + [p.base_amount for p in cat.PRODUCT_LINES])[companies["customer_product_line"]]
    scale = (np.maximum(companies["employees"].to_numpy(), 20) / 500) ** 0.35
    companies["annual_contract"] = np.round(base * scale * np.exp(rng.normal(0, 0.3, n)), -2)


def build_people(rng: np.random.Generator, companies: pd.DataFrame, n: int) -> pd.DataFrame:
    seniority = pick_index(rng, cat.SENIORITY_WEIGHTS, n)
    dept = pick_index(rng, cat.DEPARTMENT_WEIGHTS, n)
    company = _assign_companies(rng, companies, seniority, n)
    comp_country = companies["country"].to_numpy()[company]
    moved = rng.random(n) < 0.08
    country = np.where(moved, pick_index(rng, [c.weight for c in cat.COUNTRIES], n), comp_country)

    culture_of_country = np.array([CULTURES.index(c.culture) for c in cat.COUNTRIES])
    culture = np.where(rng.random(n) < 0.85, culture_of_country[country], rng.integers(0, len(CULTURES), n))
    first, last = _names(rng, culture)

    lang_of_country = np.array([cat.TITLE_LANGS.index(c.lang) for c in cat.COUNTRIES])
    lang = np.where(rng.random(n) < 0.6, lang_of_country[country], 0)
    title = typed_titles(rng, seniority, dept, lang)

    interest = _product_interest(rng, dept)
    kind = companies["kind"].to_numpy()[company]
    is_junk = rng.random(n) < 0.012
    dept_rel = np.array(
        [[1.0 if d in pl.departments else 0.4 for pl in cat.PRODUCT_LINES] for d in range(len(cat.DEPARTMENTS))]
    )[dept, interest - 1]
    fit = (
        0.4 * np.asarray(cat.SENIORITY_FIT)[seniority]
        + 0.15 * dept_rel
        + 0.45 * companies["company_fit"].to_numpy()[company]
        + rng.normal(0, 0.05, n)
    )
    fit = np.where(kind == "competitor", fit * 0.1, fit)
    fit = np.where(is_junk, 0.02, fit)

    # The power spreads the scale out (most people are middling); it keeps the ranking.
    fit = np.clip(fit, 0, 1) ** 1.6
    people = pd.DataFrame(
        {
            "person_idx": np.arange(n),
            "company_idx": company,
            "country": country,
            "culture": culture,
            "seniority": seniority,
            "dept": dept,
            "first_name": first,
            "last_name": last,
            "title": title,
            "product_interest": interest,
            "is_junk": is_junk,
            "fit": fit.round(4),
            "engagement": np.exp(rng.normal(-0.1, 0.6, n)),
            "tz_offset": COUNTRY_OFFSET[country],
            "lang": lang,
        }
    )
    people["person_key"] = "p-" + pd.Series(np.arange(1, n + 1)).astype(str).str.zfill(7)
    _emails(rng, people, companies)
    _junk(rng, people)
    _contact_details(rng, people, companies)
    return people


def _assign_companies(rng, companies: pd.DataFrame, seniority: np.ndarray, n: int) -> np.ndarray:
    """People per company grow with company size; students sit at schools, consultants at consultancies."""
    emp = companies["employees"].to_numpy().astype(float)
    industry = companies["industry"].to_numpy()
    kind = companies["kind"].to_numpy()
    idx = np.arange(len(companies))

    def draw(mask: np.ndarray, count: int) -> np.ndarray:
        if not mask.any():  # tiny worlds may lack schools or consultancies
            mask = kind != "competitor"
        w = np.where(mask, emp**0.5, 0.0)
        return rng.choice(idx, size=count, p=w / w.sum())

    company = draw((industry != EDUCATION_IDX) & (kind != "competitor"), n)
    students = seniority == cat.STUDENT
    company[students] = draw(industry == EDUCATION_IDX, int(students.sum()))
    consultants = (seniority == cat.CONSULTANT) & (rng.random(n) < 0.7)
    company[consultants] = draw(industry == CONSULTING_IDX, int(consultants.sum()))
    # A few competitor employees snoop around (pricing pages, webinars).
    spies = rng.random(n) < 0.004
    company[spies] = draw(kind == "competitor", int(spies.sum()))
    return company


def _names(rng, culture: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    out = []
    for table in (cat.FIRST_NAMES, cat.LAST_NAMES):
        rows = [(ci, name) for ci, c in enumerate(CULTURES) for name in table[c]]
        chooser = GroupedChoice(np.array([r[0] for r in rows]), len(CULTURES))
        out.append(np.array([r[1] for r in rows], dtype=object)[chooser.draw(rng, culture)])
    return out[0], out[1]


def typed_titles(rng, seniority: np.ndarray, dept: np.ndarray, lang: np.ndarray) -> np.ndarray:
    rows = cat.title_table()
    n_dept, n_lang = len(cat.DEPARTMENTS), len(cat.TITLE_LANGS)
    keys = np.array([(s * n_dept + d) * n_lang + li for s, d, li, _ in rows])
    chooser = GroupedChoice(keys, len(cat.SENIORITIES) * n_dept * n_lang)
    titles = np.array([r[3] for r in rows], dtype=object)[
        chooser.draw(rng, (seniority * n_dept + dept) * n_lang + lang)
    ]
    # Chief executives are not tied to a department.
    ceo = cat.ceo_titles()
    ceo_chooser = GroupedChoice(np.array([c[0] for c in ceo]), n_lang)
    is_ceo = (seniority == 0) & (rng.random(len(seniority)) < 0.35)
    titles[is_ceo] = np.array([c[1] for c in ceo], dtype=object)[ceo_chooser.draw(rng, lang[is_ceo])]
    # People type titles carelessly.
    s = pd.Series(titles)
    r = rng.random(len(s))
    s = s.where(r >= 0.07, s.str.lower())
    s = s.where((r < 0.07) | (r >= 0.09), s.str.upper())
    return s.to_numpy(dtype=object)


def _product_interest(rng, dept: np.ndarray) -> np.ndarray:
    weights = np.array(
        [
            [
                (4.0 if d in pl.departments else 1.0) * w
                for pl, w in zip(cat.PRODUCT_LINES, cat.PRODUCT_LINE_WEIGHTS, strict=True)
            ]
            for d in range(len(cat.DEPARTMENTS))
        ]
    )
    cum = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)[dept]
    return 1 + (rng.random(len(dept))[:, None] > cum).sum(axis=1).clip(0, 2)


def _emails(rng, people: pd.DataFrame, companies: pd.DataFrame) -> None:
    n = len(people)
    first = people["first_name"].str.lower().str.translate(_FOLD)
    last = people["last_name"].str.lower().str.translate(_FOLD)
    pattern = pick_index(rng, [50, 15, 5, 8, 7, 5, 10], n)
    digits = pd.Series(rng.integers(1, 99, n)).astype(str)
    local = np.select(
        [pattern == 0, pattern == 1, pattern == 2, pattern == 3, pattern == 4, pattern == 5],
        [first + "." + last, first.str[0] + last, first + last.str[0], first, first + "_" + last, last + first.str[0]],
        first + "." + last + digits,
    )
    sen = people["seniority"].to_numpy()
    employees = companies["employees"].to_numpy()[people["company_idx"].to_numpy()]
    p_free = np.where(sen == cat.STUDENT, 0.7, np.where(sen == cat.CONSULTANT, 0.5, 0.1))
    p_free = np.where(employees < 10, np.maximum(p_free, 0.4), p_free)
    freemail = rng.random(n) < p_free
    free_domain = pick(rng, [f[0] for f in cat.FREEMAIL], n, [f[1] for f in cat.FREEMAIL])
    local = np.where(freemail & (rng.random(n) < 0.6), first + "." + last + digits, local)
    domain = np.where(freemail, free_domain, companies["domain"].to_numpy()[people["company_idx"].to_numpy()])
    email = pd.Series(local) + "@" + pd.Series(domain)
    dup = email.groupby(email).cumcount()
    email = email.where(dup == 0, pd.Series(local) + dup.astype(str) + "@" + pd.Series(domain))
    # Some people write their address with capitals ("Jane.Doe@Acme.com").
    caps = rng.random(n) < 0.08
    cap_local = people["first_name"].str.translate(_FOLD) + "." + people["last_name"].str.translate(_FOLD)
    email = email.where(~caps | freemail | (pattern != 0), cap_local + "@" + pd.Series(domain).str.capitalize())
    people["email"] = email.to_numpy(dtype=object)
    people["email_kind"] = np.where(freemail, "freemail", "corporate").astype(object)


def _junk(rng, people: pd.DataFrame) -> None:
    """Junk sign-ups and careless typing: digits in names, fake addresses."""
    junk = people["is_junk"].to_numpy()
    k = int(junk.sum())
    people.loc[junk, "first_name"] = pick(rng, ["test", "asdf", "John123", "aaa", "x", "Mickey", "qwerty"], k)
    people.loc[junk, "last_name"] = pick(rng, ["test", "xxx", "Smith1", ".", "Mouse", "asdf123", "00"], k)
    local = pd.Series(pick(rng, ["asdf", "test", "aaa", "noreply", "qwerty", "abc"], k)) + pd.Series(
        rng.integers(0, 999, k)
    ).astype(str)
    people.loc[junk, "email"] = (local + "@" + pd.Series(pick(rng, cat.JUNK_DOMAINS, k))).to_numpy()
    people.loc[junk, "email_kind"] = "junk"
    people.loc[junk, "title"] = pick(rng, ["x", "test", "-", "none", "asdf"], k)
    typo = (~junk) & (rng.random(len(people)) < 0.005)
    people.loc[typo, "first_name"] = people.loc[typo, "first_name"] + pd.Series(
        rng.integers(1, 10, int(typo.sum())), index=people.index[typo]
    ).astype(str)


def _contact_details(rng, people: pd.DataFrame, companies: pd.DataFrame) -> None:
    n = len(people)
    country = people["country"].to_numpy()
    company = people["company_idx"].to_numpy()
    same_country = country == companies["country"].to_numpy()[company]
    n_cities = np.array([len(c.cities) for c in cat.COUNTRIES])
    city_idx = np.where(
        same_country, companies["city"].to_numpy()[company], (rng.random(n) * n_cities[country]).astype(np.int64)
    )
    city_rows = [(ci, k, city) for ci, c in enumerate(cat.COUNTRIES) for k, city in enumerate(c.cities)]
    lookup = {(ci, k): city for ci, k, city in city_rows}
    offsets = np.concatenate([[0], np.cumsum(n_cities)[:-1]])
    flat = np.array([lookup[(ci, k)] for ci, k, _ in city_rows], dtype=object)
    pos = offsets[country] + city_idx
    people["city"] = np.array([c[0] for c in flat], dtype=object)[pos]
    people["state"] = np.array([c[1] for c in flat], dtype=object)[pos]
    people["postal_code"] = np.array([c[2] for c in flat], dtype=object)[pos]
    people["country_text"] = country_text(rng, country)
    people["phone"] = phones(rng, country)
    people["company_text"] = company_text(rng, people, companies)


def country_text(rng, country: np.ndarray, canonical_share: float = 0.65) -> np.ndarray:
    """Free-text country as people type it: canonical name or a variant (US, USA, Etats-Unis...)."""
    rows = [(ci, v) for ci, c in enumerate(cat.COUNTRIES) for v in c.variants]
    chooser = GroupedChoice(np.array([r[0] for r in rows]), len(cat.COUNTRIES))
    variants = np.array([r[1] for r in rows], dtype=object)[chooser.draw(rng, country)]
    canonical = np.array([c.name for c in cat.COUNTRIES], dtype=object)[country]
    return np.where(rng.random(len(country)) < canonical_share, canonical, variants)


def phones(rng, country: np.ndarray) -> np.ndarray:
    n = len(country)
    cc = np.array([c.phone_cc for c in cat.COUNTRIES], dtype=object)[country]
    area = pd.Series(rng.integers(201, 990, n)).astype(str)
    line = pd.Series(rng.integers(100, 200, n)).astype(str).str.zfill(4)
    rest = pd.Series(rng.integers(10_000_000, 99_999_999, n)).astype(str)
    nanp = pd.Series(cc) == "1"
    style = rng.integers(0, 3, n)
    us = np.select(
        [style == 0, style == 1], ["+1 " + area + "-555-" + line, "(" + area + ") 555-" + line], area + ".555." + line
    )
    intl = np.where(
        style == 2,
        "0" + rest.str[:1] + " " + rest.str[1:],
        "+" + pd.Series(cc) + " " + rest.str[:2] + " " + rest.str[2:5] + " " + rest.str[5:],
    )
    return np.where(nanp, us, intl).astype(object)


def company_text(rng, people: pd.DataFrame, companies: pd.DataFrame) -> np.ndarray:
    """Company as typed in a form: full name, brand only, ISP name (reverse-IP enrichment), or junk."""
    n = len(people)
    company = people["company_idx"].to_numpy()
    full = companies["name"].to_numpy()[company]
    brand = companies["brand"].to_numpy()[company]
    freemail = people["email_kind"].to_numpy() == "freemail"
    r = rng.random(n)
    text = np.where(r < 0.7, full, np.where(r < 0.92, brand, pd.Series(full).str.upper().to_numpy()))
    isp = freemail & (rng.random(n) < 0.3)
    text = np.where(isp, pick(rng, cat.ISP_COMPANIES, n), text)
    none = (freemail & ~isp & (rng.random(n) < 0.3)) | (people["seniority"].to_numpy() == cat.CONSULTANT) & (
        rng.random(n) < 0.4
    )
    text = np.where(none, pick(rng, cat.NO_COMPANY, n), text)
    text = np.where(people["is_junk"].to_numpy(), pick(rng, ["asdf", "test", "none", "x", "Acme"], n), text)
    return text.astype(object)
