"""SLA deadlines in working hours on the demo pipeline's tables, against an independent
computation: Python's zoneinfo walks each team's local working days, skipping weekends and the
holidays of the seed files, and adds the allowed working time to each start."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from leadscore.warehouse import connect
from tests.conftest import REPO_ROOT

SEEDS = REPO_ROOT / "seeds" / "lifecycle"
DAY_NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def read_seed(name: str) -> list[dict[str, str]]:
    with (SEEDS / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def calendars_and_holidays() -> tuple[dict[str, dict[str, str]], dict[str, set[date]]]:
    calendars = {row["calendar"]: row for row in read_seed("sla_calendars")}
    holidays: dict[str, set[date]] = {name: set() for name in calendars}
    for row in read_seed("sla_holidays"):
        holidays[row["calendar"]].add(date.fromisoformat(row["holiday_date"]))
    return calendars, holidays


def add_working_time(start_utc: datetime, seconds: float, calendar: dict[str, str], holidays: set[date]) -> datetime:
    """The UTC moment when `seconds` of the calendar's working time have passed since the start."""
    zone = ZoneInfo(calendar["timezone"])
    opens, closes = (time.fromisoformat(calendar[k]) for k in ("opens_at", "closes_at"))
    days = set(calendar["working_days"].split("|"))
    left = timedelta(seconds=seconds)
    day = start_utc.astimezone(zone).date() - timedelta(days=1)
    while True:
        if DAY_NAMES[day.weekday()] in days and day not in holidays:
            window_open = datetime.combine(day, opens, zone).astimezone(UTC)
            window_close = datetime.combine(day, closes, zone).astimezone(UTC)
            begin = max(window_open, start_utc)
            if begin < window_close:
                if begin + left <= window_close:
                    return begin + left
                left -= window_close - begin
        day += timedelta(days=1)


def test_working_hour_deadlines_match_an_independent_calendar_walk(first_run, demo_settings):
    assert first_run.success
    calendars, holidays = calendars_and_holidays()
    policies = {row["policy"]: row for row in read_seed("sla_policies") if row["calendar"]}
    assert policies, "the default policies include one in working hours"

    with connect(demo_settings.warehouse, read_only=True) as con:
        rows = con.execute(
            "select policy, calendar, started_at, warn_at, due_at from marts.fct_lead_sla "
            "where calendar is not null order by sla_id"
        ).fetchall()
    assert len(rows) >= 5
    for policy_name, calendar_name, started_at, warn_at, due_at in rows:
        policy = policies[policy_name]
        assert calendar_name == policy["calendar"]
        start = started_at.replace(tzinfo=UTC)
        args = (calendars[calendar_name], holidays[calendar_name])
        due_seconds = round(float(policy["due_hours"]) * 3600)
        warn_seconds = round(float(policy["due_hours"]) * float(policy["warn_share"]) * 3600)
        expected = (add_working_time(start, warn_seconds, *args), add_working_time(start, due_seconds, *args))
        assert (warn_at.replace(tzinfo=UTC), due_at.replace(tzinfo=UTC)) == expected, (policy_name, started_at)


def test_the_calendar_walk_itself_on_hand_checked_cases():
    """Paris office hours across the spring clock change and Easter Monday 2026-04-06."""
    paris = {"timezone": "Europe/Paris", "opens_at": "09:00", "closes_at": "18:00",
             "working_days": "mon|tue|wed|thu|fri"}
    easter_monday = {date(2026, 4, 6)}
    thursday_4pm_paris = datetime(2026, 3, 26, 15, tzinfo=UTC)
    # 2 h Thursday + 9 h Friday + 7 h Monday (now UTC+2): Monday 16:00 Paris.
    assert add_working_time(thursday_4pm_paris, 18 * 3600, paris, set()) == datetime(2026, 3, 30, 14, tzinfo=UTC)
    friday_5pm_paris = datetime(2026, 4, 3, 15, tzinfo=UTC)
    # 1 h Friday, Easter Monday off, 1 h Tuesday: Tuesday 10:00 Paris.
    assert add_working_time(friday_5pm_paris, 2 * 3600, paris, easter_monday) == datetime(2026, 4, 7, 8, tzinfo=UTC)


def test_working_windows_follow_time_zones_weekends_and_holidays(first_run, demo_settings):
    """Every working day the warehouse lists, and only those, with its UTC hours."""
    assert first_run.success
    calendars, holidays = calendars_and_holidays()
    with connect(demo_settings.warehouse, read_only=True) as con:
        windows = con.execute(
            "select calendar, local_date, opens_at, closes_at, seconds_before "
            "from intermediate.int_sla_working_windows order by calendar, local_date"
        ).fetchall()
    by_calendar: dict[str, list[tuple]] = {}
    for calendar_name, *rest in windows:
        by_calendar.setdefault(calendar_name, []).append(tuple(rest))
    for calendar_name, rows in by_calendar.items():
        calendar = calendars[calendar_name]
        zone = ZoneInfo(calendar["timezone"])
        opens, closes = (time.fromisoformat(calendar[k]) for k in ("opens_at", "closes_at"))
        expected, seconds_before, day = [], 0, rows[0][0]
        while day <= rows[-1][0]:
            if DAY_NAMES[day.weekday()] in calendar["working_days"].split("|") and day not in holidays[calendar_name]:
                window = [datetime.combine(day, t, zone).astimezone(UTC).replace(tzinfo=None) for t in (opens, closes)]
                expected.append((day, *window, seconds_before))
                seconds_before += int((window[1] - window[0]).total_seconds())
            day += timedelta(days=1)
        assert rows == expected
        # The range spans a clock change and a holiday, so both are really exercised.
        assert len({r[1].hour for r in rows}) == 2
        assert any(rows[0][0] < h < rows[-1][0] for h in holidays[calendar_name])
