"""CRM users: a VP of sales, regional sales managers and an SDR manager, their reps, a marketing-ops
user and the integration user that the marketing automation platform writes with."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from leadscore.demo import catalog as cat
from leadscore.demo.config import DAY, HISTORY_START, PERIOD_START
from leadscore.demo.fmt import pick, sf_datetime, sf_ids

REGIONS = ("NA", "EMEA")


@dataclass
class Team:
    users: pd.DataFrame  # internal rows with user_id, role, region, active, left_t
    sdrs: dict[str, np.ndarray]  # region -> user ids of active SDRs
    aes: dict[str, np.ndarray]
    marketing_ops: str
    integration: str
    former_sdr: str  # left in mid-2025; still owns some old leads


def build_team(rng: np.random.Generator, n_sdrs: int, n_aes: int) -> Team:
    rows: list[dict] = []

    firsts = pick(rng, cat.FIRST_NAMES["en"] + cat.FIRST_NAMES["fr"] + cat.FIRST_NAMES["de"], 8 + n_sdrs + n_aes)
    lasts = pick(rng, cat.LAST_NAMES["en"] + cat.LAST_NAMES["fr"] + cat.LAST_NAMES["de"], 8 + n_sdrs + n_aes)
    names = iter(zip(firsts, lasts, strict=True))

    def add(
        title: str,
        dept: str,
        role: str,
        region: str = "",
        manager: int = -1,
        active: bool = True,
        name: tuple[str, str] | None = None,
    ) -> int:
        first, last = name or next(names)
        rows.append(
            {
                "first": first,
                "last": last,
                "title": title,
                "dept": dept,
                "role": role,
                "region": region,
                "manager": manager,
                "active": active,
            }
        )
        return len(rows) - 1

    # System users exist first (they create everything else).
    integ = add("Integration User", "IT", "integration", name=("Integration", "User"))
    mops = add("Marketing Operations Manager", "Marketing", "marketing_ops", name=("Morgan", "Reyes"))
    vp = add("VP Sales", "Sales", "vp")
    managers = {r: add(f"Sales Manager - {r}", "Sales", "manager", r, vp) for r in REGIONS}
    sdr_manager = add("SDR Manager", "Sales", "manager", "", vp)
    for i in range(n_sdrs):
        add("Sales Development Representative", "Sales", "sdr", REGIONS[i % 2], sdr_manager)
    for i in range(n_aes):
        add("Account Executive", "Sales", "ae", REGIONS[i % 2], managers[REGIONS[i % 2]])
    former = add("Sales Development Representative", "Sales", "former_sdr", "NA", sdr_manager, active=False)

    users = pd.DataFrame(rows)
    n = len(users)
    users["created_t"] = np.sort(rng.integers(HISTORY_START, PERIOD_START - 60 * DAY, n))
    users["user_id"] = sf_ids("User", n, rng)
    ids = users["user_id"].to_numpy()
    users["manager_id"] = np.where(users["manager"] >= 0, ids[users["manager"].clip(lower=0)], None)
    sdrs = {r: ids[(users["role"] == "sdr") & (users["region"] == r)] for r in REGIONS}
    aes = {r: ids[(users["role"] == "ae") & (users["region"] == r)] for r in REGIONS}
    return Team(
        users=users, sdrs=sdrs, aes=aes, marketing_ops=ids[mops], integration=ids[integ], former_sdr=ids[former]
    )


def user_rows(team: Team) -> pd.DataFrame:
    u = team.users
    email = (
        u["first"].str.lower() + "." + u["last"].str.lower().str.replace(" ", "", regex=False) + "@" + cat.USER_DOMAIN
    )
    email = email.str.normalize("NFKD").str.encode("ascii", "ignore").str.decode("ascii")
    created = sf_datetime(u["created_t"].to_numpy())
    return pd.DataFrame(
        {
            "Id": u["user_id"],
            "Username": email + ".crm",
            "LastName": u["last"],
            "FirstName": u["first"],
            "Name": u["first"] + " " + u["last"],
            "Title": u["title"],
            "Department": u["dept"],
            "Email": email,
            "Alias": (u["first"].str[:1] + u["last"].str[:4]).str.lower(),
            "IsActive": np.where(u["active"], "1", None),
            "ManagerId": u["manager_id"],
            "UserType": "Standard",
            "TimeZoneSidKey": np.where(u["region"] == "EMEA", "Europe/Paris", "America/New_York"),
            "CreatedDate": created,
            "CreatedById": team.integration,
            "LastModifiedDate": created,
            "LastModifiedById": team.integration,
        }
    )
