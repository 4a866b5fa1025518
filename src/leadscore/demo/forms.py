"""Form submissions: what people typed, which cookie their browser sent, on which page."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadscore.demo import catalog as cat
from leadscore.demo import site as web
from leadscore.demo.fmt import hex_tokens, iso_with_offset, scramble
from leadscore.demo.population import country_text, typed_titles

FORM_COLUMNS = [
    "submission_id",
    "submitted_at",
    "form_name",
    "page_url",
    "visitor_id",
    "email",
    "first_name",
    "last_name",
    "company",
    "job_title",
    "country",
    "phone",
]


def place_forms(rng, forms: pd.DataFrame, vis, site: web.Site, webinar_page_of_campaign: np.ndarray) -> None:
    """The device (cookie) and the page of each submission."""
    who = forms["person_idx"].to_numpy()
    forms["visitor"] = np.where(rng.random(len(forms)) < 0.75, vis.first_of_person[who], vis.second_of_person[who])
    campaign = forms["campaign_idx"].to_numpy()
    webinar_page = np.where(campaign >= 0, webinar_page_of_campaign[np.maximum(campaign, 0)], -1)
    forms["page"] = web.form_pages(site, rng, forms["form"].to_numpy(), forms["product_line"].to_numpy(), webinar_page)


def typed_email(rng, email: np.ndarray, share: float) -> np.ndarray:
    """Addresses as typed: a share gets other capitals or stray spaces (" Jane.Doe@Acme.com")."""
    s = pd.Series(email, dtype=object)
    kind = np.where(rng.random(len(s)) < share, rng.integers(0, 4, len(s)), -1)
    parts = s.str.split("@", n=1)
    titled = parts.str[0].str.title() + "@" + parts.str[1].str.capitalize()
    out = np.select(
        [kind == 0, kind == 1, kind == 2, kind == 3], [s.str.upper(), titled, " " + s, titled + " "], s.to_numpy()
    )
    return out.astype(object)


def form_rows(
    rng,
    forms: pd.DataFrame,
    people: pd.DataFrame,
    visitor_tokens: np.ndarray,
    blocks_cookies: np.ndarray,
    site: web.Site,
) -> pd.DataFrame:
    """Rows of the submission files. The first form of a web lead is what its CRM record holds."""
    n = len(forms)
    who = forms["person_idx"].to_numpy()
    p = people.iloc[who]
    first = forms["creates_lead"].to_numpy()
    retyped = ~first & (rng.random(n) < 0.25)
    title = np.where(
        retyped,
        typed_titles(rng, p["seniority"].to_numpy(), p["dept"].to_numpy(), p["lang"].to_numpy()),
        p["title"].to_numpy(),
    )
    country = np.where(
        ~first & (rng.random(n) < 0.3), country_text(rng, p["country"].to_numpy()), p["country_text"].to_numpy()
    )
    email = np.where(first, p["lead_email"].to_numpy(), typed_email(rng, p["email"].to_numpy(), 0.05))
    phone = np.where(first | (rng.random(n) < 0.6), p["phone"].to_numpy(), "")
    visitor = forms["visitor"].to_numpy()
    cookie = np.where(blocks_cookies[visitor], "", visitor_tokens[visitor])
    # The form service stamps UTC ("Z" or "+00:00") or the visitor's local offset.
    style = rng.choice(3, n, p=[0.6, 0.2, 0.2])
    offset_min = np.where(style == 2, p["tz_offset"].to_numpy() * 60, 0)
    return pd.DataFrame(
        {
            "submission_id": hex_tokens(scramble(np.arange(n), 48, 0xF0F0), 12, "fs-"),
            "submitted_at": iso_with_offset(forms["t"].to_numpy(), offset_min, style == 0),
            "form_name": np.array([f.name for f in web.FORMS], dtype=object)[forms["form"].to_numpy()],
            "page_url": cat.SITE + site.paths["path"].to_numpy()[forms["page"].to_numpy()],
            "visitor_id": cookie,
            "email": email,
            "first_name": p["first_name"].to_numpy(),
            "last_name": p["last_name"].to_numpy(),
            "company": p["company_text"].to_numpy(),
            "job_title": title,
            "country": country,
            "phone": phone,
        }
    )
