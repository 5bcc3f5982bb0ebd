"""Schedule cadence math, flag parsing and validation: pure functions, no database."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from halo_local.common.timestamps import parse_timestamp
from halo_local.errors import UsageError
from halo_local.flags import parse_bool, parse_int_list
from halo_local.schedules import (
    ScheduleChanges,
    ScheduleSpec,
    cron_line,
    next_fire_times,
    parse_sources,
    previous_fire_time,
)

NEW_YORK = ZoneInfo("America/New_York")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def spec(frequency: str, minutes: tuple[int, ...] = (0,), **fields: object) -> ScheduleSpec:
    return ScheduleSpec(title="t", agent_uuid="agent", frequency=frequency, minutes=minutes, **fields).validated()


def local(times: list[datetime], zone: ZoneInfo) -> list[str]:
    return [moment.astimezone(zone).strftime("%Y-%m-%d %a %H:%M %Z") for moment in times]


# --- Every frequency ---------------------------------------------------------------------------

def test_hourly_fires_at_each_listed_minute_of_every_hour() -> None:
    hourly = spec("hourly", minutes=(0, 30))
    assert next_fire_times(hourly, utc(2025, 1, 1, 10, 10), 4) == [
        utc(2025, 1, 1, 10, 30), utc(2025, 1, 1, 11, 0), utc(2025, 1, 1, 11, 30), utc(2025, 1, 1, 12, 0)]


def test_next_fire_times_are_strictly_after_the_given_time() -> None:
    daily = spec("daily", minutes=(0,), hours=(9, 17))
    assert next_fire_times(daily, utc(2025, 1, 1, 17, 0), 3) == [
        utc(2025, 1, 2, 9), utc(2025, 1, 2, 17), utc(2025, 1, 3, 9)]


def test_weekly_uses_zero_for_sunday_and_the_schedules_own_calendar() -> None:
    weekly = spec("weekly", minutes=(30,), hours=(0,), days_of_week=(0, 1), timezone="Asia/Tokyo")
    times = next_fire_times(weekly, utc(2025, 1, 1), 3)  # 2025-01-01 is a Wednesday
    assert local(times, ZoneInfo("Asia/Tokyo")) == [
        "2025-01-05 Sun 00:30 JST", "2025-01-06 Mon 00:30 JST", "2025-01-12 Sun 00:30 JST"]
    assert times[0] == utc(2025, 1, 4, 15, 30)  # Saturday in UTC: the weekday is the zone's, not UTC's


def test_monthly_fires_on_each_listed_day() -> None:
    monthly = spec("monthly", minutes=(0,), hours=(6,), days_of_month=(1, 15))
    assert next_fire_times(monthly, utc(2025, 1, 20), 3) == [utc(2025, 2, 1, 6), utc(2025, 2, 15, 6), utc(2025, 3, 1, 6)]


def test_monthly_day_31_skips_the_months_that_lack_it_like_cron() -> None:
    monthly = spec("monthly", minutes=(0,), hours=(12,), days_of_month=(31,))
    times = next_fire_times(monthly, utc(2025, 3, 31, 13), 5)
    assert times == [utc(2025, 5, 31, 12), utc(2025, 7, 31, 12), utc(2025, 8, 31, 12),
                     utc(2025, 10, 31, 12), utc(2025, 12, 31, 12)]
    assert previous_fire_time(monthly, utc(2025, 5, 1)) == utc(2025, 3, 31, 12)
    assert monthly.notes() == [
        "Day 31 is skipped in months that lack it (like cron): February, April, June, September, November."]


def test_day_29_fires_in_february_of_leap_years_only() -> None:
    monthly = spec("monthly", minutes=(0,), hours=(0,), days_of_month=(29,))
    assert next_fire_times(monthly, utc(2024, 2, 1), 1) == [utc(2024, 2, 29)]
    assert next_fire_times(monthly, utc(2025, 2, 1), 1) == [utc(2025, 3, 29)]
    assert "February of common years" in monthly.notes()[0]
    assert spec("monthly", hours=(0,), days_of_month=(1, 28)).notes() == []


# --- Daylight-saving changes ----------------------------------------------------------------------

def test_a_skipped_wall_clock_time_fires_once_that_day() -> None:
    # New York springs forward 2025-03-09 02:00 -> 03:00: 02:30 does not exist that day.
    daily = spec("daily", minutes=(30,), hours=(2,), timezone="America/New_York")
    times = next_fire_times(daily, utc(2025, 3, 8), 3)
    assert local(times, NEW_YORK) == [
        "2025-03-08 Sat 02:30 EST", "2025-03-09 Sun 03:30 EDT", "2025-03-10 Mon 02:30 EDT"]


def test_a_repeated_wall_clock_time_fires_once_at_its_first_occurrence() -> None:
    # New York falls back 2025-11-02 02:00 -> 01:00: 01:30 happens twice.
    daily = spec("daily", minutes=(30,), hours=(1,), timezone="America/New_York")
    times = next_fire_times(daily, utc(2025, 11, 1, 12), 3)
    assert local(times, NEW_YORK) == [
        "2025-11-02 Sun 01:30 EDT", "2025-11-03 Mon 01:30 EST", "2025-11-04 Tue 01:30 EST"]


def test_hourly_fires_once_per_wall_clock_hour_across_both_changes() -> None:
    hourly = spec("hourly", minutes=(30,), timezone="America/New_York")
    spring_day = next_fire_times(hourly, datetime(2025, 3, 9, tzinfo=NEW_YORK), 40)
    spring_day = [moment for moment in spring_day if moment < datetime(2025, 3, 10, tzinfo=NEW_YORK)]
    assert len(spring_day) == 23 and len(set(spring_day)) == 23  # a 23-hour day
    autumn_day = next_fire_times(hourly, datetime(2025, 11, 2, tzinfo=NEW_YORK), 40)
    autumn_day = [moment for moment in autumn_day if moment < datetime(2025, 11, 3, tzinfo=NEW_YORK)]
    assert len(autumn_day) == 24  # a 25-hour day: the repeated 01:30 fires once
    assert sum(1 for moment in autumn_day if moment.astimezone(NEW_YORK).hour == 1) == 1


def test_europe_and_a_half_hour_dst_zone_keep_their_wall_clock() -> None:
    berlin = spec("daily", minutes=(30,), hours=(2, 9), timezone="Europe/Berlin")
    times = next_fire_times(berlin, utc(2025, 3, 29, 12), 4)
    assert local(times, ZoneInfo("Europe/Berlin")) == [
        "2025-03-30 Sun 03:30 CEST", "2025-03-30 Sun 09:30 CEST", "2025-03-31 Mon 02:30 CEST",
        "2025-03-31 Mon 09:30 CEST"]
    # Lord Howe Island moves its clocks by 30 minutes (2025-10-05 02:00 -> 02:30).
    lord_howe = spec("daily", minutes=(15,), hours=(2,), timezone="Australia/Lord_Howe")
    times = next_fire_times(lord_howe, utc(2025, 10, 3), 3)
    assert [moment.astimezone(ZoneInfo("Australia/Lord_Howe")).strftime("%d %H:%M") for moment in times] == [
        "04 02:15", "05 02:45", "06 02:15"]


def test_previous_fire_time_is_the_latest_slot_at_or_before() -> None:
    daily = spec("daily", minutes=(0,), hours=(10,), timezone="Europe/Paris")
    assert previous_fire_time(daily, utc(2025, 6, 2, 8, 0)) == utc(2025, 6, 2, 8, 0)
    assert previous_fire_time(daily, utc(2025, 6, 2, 7, 59)) == utc(2025, 6, 1, 8, 0)
    weekly = spec("weekly", minutes=(0,), hours=(9,), days_of_week=(5,))
    assert previous_fire_time(weekly, utc(2025, 6, 2)) == utc(2025, 5, 30, 9)


CADENCES = st.one_of(
    st.builds(lambda m: spec("hourly", minutes=m), st.sets(st.integers(0, 59), min_size=1, max_size=3).map(tuple)),
    st.builds(lambda m, h: spec("daily", minutes=m, hours=h),
              st.sets(st.integers(0, 59), min_size=1, max_size=2).map(tuple),
              st.sets(st.integers(0, 23), min_size=1, max_size=3).map(tuple)),
    st.builds(lambda m, h, d: spec("weekly", minutes=m, hours=h, days_of_week=d),
              st.sets(st.integers(0, 59), min_size=1, max_size=2).map(tuple),
              st.sets(st.integers(0, 23), min_size=1, max_size=2).map(tuple),
              st.sets(st.integers(0, 6), min_size=1, max_size=2).map(tuple)),
    st.builds(lambda m, h, d: spec("monthly", minutes=m, hours=h, days_of_month=d),
              st.sets(st.integers(0, 59), min_size=1, max_size=2).map(tuple),
              st.sets(st.integers(0, 23), min_size=1, max_size=2).map(tuple),
              st.sets(st.integers(1, 31), min_size=1, max_size=2).map(tuple)),
)
ZONES = st.sampled_from(["UTC", "America/New_York", "Europe/London", "Australia/Sydney", "Asia/Kolkata",
                         "Australia/Lord_Howe", "America/Santiago"])


@settings(max_examples=60, deadline=None)
@given(CADENCES, ZONES, st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)))
def test_next_and_previous_agree_and_match_the_cadence(cadence: ScheduleSpec, zone: str, moment: datetime) -> None:
    cadence = ScheduleSpec(**{**cadence.__dict__, "timezone": zone})
    now = moment.replace(tzinfo=UTC)
    upcoming = next_fire_times(cadence, now, 3)
    assert len(upcoming) == 3 and upcoming == sorted(set(upcoming)) and upcoming[0] > now
    latest = previous_fire_time(cadence, now)
    assert latest is not None and latest <= now
    assert next_fire_times(cadence, latest, 1) == [upcoming[0]]
    assert previous_fire_time(cadence, upcoming[0] - timedelta(microseconds=1)) == latest
    assert next_fire_times(cadence, upcoming[0], 2) == upcoming[1:]
    for slot in upcoming:
        wall = slot.astimezone(ZoneInfo(zone))
        if wall.utcoffset() == (wall - timedelta(hours=3)).utcoffset():  # far from a change: exact wall time
            assert wall.minute in cadence.minutes
            assert cadence.hours is None or wall.hour in cadence.hours


# --- Flags as fire delivers them ------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ((0, 30), (0, 30)), ([30, 0, 30], (0, 30)), (5, (5,)), ("5", (5,)), ("0,30", (0, 30)),
    (" 0, 30 ", (0, 30)), ("09", (9,)), ("[15, 45]", (15, 45)), (("5", "10"), (5, 10)),
])
def test_parse_int_list_accepts_every_shape_fire_produces(value: object, expected: tuple[int, ...]) -> None:
    assert parse_int_list(value, "--minutes", 0, 59) == expected


@pytest.mark.parametrize("value, message", [
    (60, "--minutes takes numbers from 0 to 59; got 60"),
    ("1,x", "--minutes takes comma-separated whole numbers; got 'x'"),
    (True, "--minutes takes comma-separated whole numbers; got True"),
    ("", "--minutes needs at least one value"),
    (1.5, "--minutes takes comma-separated whole numbers; got 1.5"),
])
def test_parse_int_list_names_the_flag(value: object, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_int_list(value, "--minutes", 0, 59)
    assert caught.value.message == message


@pytest.mark.parametrize("value, expected", [
    (True, True), (False, False), ("false", False), ("False", False), ("true", True), ("yes", True),
    ("0", False), (1, True),
])
def test_parse_bool_accepts_strings_and_bools(value: object, expected: bool) -> None:
    assert parse_bool(value, "--enabled") is expected


def test_parse_bool_refuses_anything_else() -> None:
    with pytest.raises(UsageError, match="--enabled takes true or false; got 'maybe'"):
        parse_bool("maybe", "--enabled")


def test_sources_become_absolute_and_lists_are_accepted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert parse_sources("exports/*.jsonl") == (str(tmp_path / "exports" / "*.jsonl"),)
    assert parse_sources(("a.json", "/abs/b.json", "a.json")) == (str(tmp_path / "a.json"), "/abs/b.json")
    assert parse_sources('["x.json", "y.json"]') == (str(tmp_path / "x.json"), str(tmp_path / "y.json"))
    assert parse_sources("[ab]*.json") == (str(tmp_path / "[ab]*.json"),)
    assert parse_sources("") == ()


def test_parse_timestamp_reads_iso_in_utc() -> None:
    assert parse_timestamp("2025-01-31T09:00:00Z", "--now") == datetime(2025, 1, 31, 9)
    assert parse_timestamp("2025-01-31T11:00:00+02:00", "--now") == datetime(2025, 1, 31, 9)
    assert parse_timestamp("2025-01-31T09:00", "--now") == datetime(2025, 1, 31, 9)
    with pytest.raises(UsageError, match="--now takes an ISO date-time"):
        parse_timestamp("tomorrow", "--now")


# --- Validation: one clear error naming the flag ------------------------------------------------------

CREATE = {"title": "Nightly", "agent_uuid": "agent-1", "frequency": "daily", "minutes": "0", "hours": "9"}


@pytest.mark.parametrize("changes, message", [
    ({"title": None}, "--title is required"),
    ({"agent_uuid": None}, "--agent-uuid is required"),
    ({"frequency": None}, "--frequency is required"),
    ({"minutes": None}, "--minutes is required"),
    ({"frequency": "yearly"}, "--frequency must be one of hourly, daily, weekly, monthly; got 'yearly'"),
    ({"hours": None}, "--hours is required for a daily schedule"),
    ({"frequency": "weekly"}, "--days-of-week is required for a weekly schedule"),
    ({"frequency": "monthly"}, "--days-of-month is required for a monthly schedule"),
    ({"frequency": "hourly"}, "--hours does not apply to an hourly schedule"),
    ({"days_of_week": "1"}, "--days-of-week does not apply to a daily schedule"),
    ({"frequency": "weekly", "days_of_week": "7"}, "--days-of-week takes numbers from 0 to 6; got 7"),
    ({"frequency": "monthly", "days_of_month": "0"}, "--days-of-month takes numbers from 1 to 31; got 0"),
    ({"hours": "24"}, "--hours takes numbers from 0 to 23; got 24"),
    ({"timezone": "Mars/Olympus"}, "--timezone 'Mars/Olympus' is not an IANA time zone"),
    ({"max_subagent_depth": "6"}, "--max-subagent-depth takes a number from 1 to 5; got 6"),
    ({"max_turns": 0}, "--max-turns takes a number from 1 to 100; got 0"),
    ({"span_limit": "0"}, "--span-limit takes a number from 1 to 1000000; got 0"),
    ({"lookback_hours": "0"}, "--lookback-hours takes a number from 1 to 876000; got 0"),
    ({"enabled": "sometimes"}, "--enabled takes true or false; got 'sometimes'"),
    ({"title": "  "}, "--title must not be empty"),
    ({"model_id": "gpt-4o"}, "--model-id: unknown model id 'gpt-4o'"),
])
def test_invalid_flags_get_one_error_naming_the_flag(changes: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError) as caught:
        ScheduleSpec.from_flags(**{**CREATE, **changes})
    assert caught.value.message.startswith(message)


def test_create_flags_apply_the_documented_defaults() -> None:
    created = ScheduleSpec.from_flags(**{**CREATE, "minutes": (30, 0)}, enabled="false", prompt="")
    assert created.minutes == (0, 30) and created.hours == (9,)
    assert (created.timezone, created.span_limit, created.lookback_hours) == ("UTC", 10_000, 24)
    assert (created.max_subagent_depth, created.max_turns, created.enabled) == (3, 50, False)
    assert created.prompt is None and created.sources == ()
    assert created.describe() == "daily at 09:00, 09:30 (UTC)"


def test_changing_frequency_drops_the_lists_it_no_longer_uses() -> None:
    weekly = spec("weekly", minutes=(0,), hours=(9,), days_of_week=(1,))
    daily = ScheduleChanges.from_flags(frequency="daily").apply_to(weekly).validated()
    assert daily.days_of_week is None and daily.hours == (9,)
    hourly = ScheduleChanges.from_flags(frequency="hourly").apply_to(weekly).validated()
    assert hourly.hours is None
    with pytest.raises(UsageError, match="--days-of-month is required for a monthly schedule"):
        ScheduleChanges.from_flags(frequency="monthly").apply_to(weekly).validated()
    with pytest.raises(UsageError, match="--hours is required for a daily schedule"):
        ScheduleChanges.from_flags(frequency="daily").apply_to(hourly).validated()
    with pytest.raises(UsageError, match="--days-of-week does not apply to a daily schedule"):
        ScheduleChanges.from_flags(days_of_week="2").apply_to(daily).validated()


def test_cron_line_has_absolute_paths_home_and_a_log_file(tmp_path: Path) -> None:
    home = tmp_path / "my home%"
    line = cron_line(home, Path("/opt/halo/bin/halo-local"))
    quoted_home = "'" + str(home).replace("%", "\\%") + "'"
    assert line == (f"* * * * * HALO_HOME={quoted_home} /opt/halo/bin/halo-local schedule tick"
                    f" >> '{str(home / 'schedule-tick.log').replace('%', chr(92) + '%')}' 2>&1")
    relative = cron_line(Path("rel"), Path("bin/halo-local"))
    assert f"HALO_HOME={os.getcwd()}/rel " in relative and f" {os.getcwd()}/bin/halo-local " in relative
