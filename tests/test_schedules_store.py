"""Schedules in DuckDB and `tick`: a fake clock (explicit `now`), fake run starters, real database files."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from runs_support import BASE, HALO_FIXTURE, insert_spans, span

from halo_local import traces
from halo_local.errors import NotFoundError, UsageError
from halo_local.schedules import (
    Fired,
    Schedule,
    ScheduleChanges,
    ScheduleSpec,
    archive_schedule,
    create_schedule,
    get_schedule,
    list_schedules,
    schedule_runs,
    tick,
    unarchive_schedule,
    update_schedule,
)
from halo_local.store import Store, apply_migrations, migration_files
from halo_local.usecases import load_trace_sources

CREATED = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)  # a Sunday


@pytest.fixture(autouse=True)
def known_agents(store: Store) -> None:
    """The agents the schedules below name are stored: creating a schedule checks that its agent exists."""
    insert_spans(store, [span(0, 0, start=BASE, agent_uuid="agent-1", agent_name="Checker"),
                         span(1, 0, start=BASE, agent_uuid="a", agent_name="Another")])


@pytest.fixture
def exports(tmp_path: Path) -> Path:
    """A folder of (empty) trace exports for schedules' --source paths to match."""
    folder = tmp_path / "exports"
    (folder / "a").mkdir(parents=True)
    for name in ("a/today.jsonl", "b.json", "c.jsonl"):
        (folder / name).touch()
    return folder


def at(day: int, hour: int, minute: int = 0, month: int = 6) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=UTC)


class Recorder:
    """Fake FireRun and LoadSources that remember what they were asked, in order."""

    def __init__(self, fail_load: bool = False, fail_run: bool = False) -> None:
        self.calls: list[tuple[str, object]] = []
        self.fail_load = fail_load
        self.fail_run = fail_run

    def fire_run(self, schedule: Schedule, slot: datetime) -> str:
        self.calls.append(("run", (schedule.schedule_id, slot)))
        if self.fail_run:
            raise RuntimeError("worker would not start")
        return f"run_{len(self.calls):012d}"

    def load_sources(self, sources: Sequence[str], skip_invalid: bool) -> None:
        self.calls.append(("load", tuple(sources)))
        if self.fail_load:
            raise UsageError("no trace files match /missing/*.jsonl")

    def runs(self) -> list[tuple[str, datetime]]:
        return [call for kind, call in self.calls if kind == "run"]  # type: ignore[misc]


def daily(hour: int = 10, **fields: object) -> ScheduleSpec:
    return ScheduleSpec(title="Daily check", agent_uuid="agent-1", frequency="daily", minutes=(0,),
                        hours=(hour,), **fields)


def run_tick(store: Store, now: datetime, recorder: Recorder) -> list[Fired]:
    return tick(store, now, recorder.fire_run, recorder.load_sources)


def test_create_get_list_round_trip_with_camel_case_json(store: Store, exports: Path) -> None:
    created = create_schedule(store, daily(prompt="Why slow?", sources=(f"{exports}/*.jsonl",)), now=CREATED)
    assert created.schedule_id.startswith("sch_") and len(created.schedule_id) == 16
    document = get_schedule(store, created.schedule_id, now=CREATED).to_json()
    assert document == created.to_json()
    assert {"scheduleId", "title", "agentUuid", "frequency", "minutes", "hours", "daysOfWeek", "daysOfMonth",
            "timezone", "prompt", "modelId", "spanLimit", "lookbackHours", "maxSubagentDepth", "maxTurns",
            "enabled", "archived", "sources", "skipInvalid", "nextRunAt", "lastFiredAt", "createdAt", "updatedAt"} <= set(document)
    assert document["nextRunAt"] == "2025-06-01T10:00:00Z"
    assert (document["hours"], document["daysOfWeek"], document["prompt"]) == ([10], None, "Why slow?")
    assert document["createdAt"] == "2025-06-01T08:00:00Z" and document["lastFiredAt"] is None
    assert [item.schedule_id for item in list_schedules(store, now=CREATED)] == [created.schedule_id]
    assert json.dumps(document)


def test_unknown_id_is_not_found(store: Store) -> None:
    with pytest.raises(NotFoundError, match="no schedule with id 'sch_nope'"):
        get_schedule(store, "sch_nope")
    with pytest.raises(NotFoundError):
        schedule_runs(store, "sch_nope")


def test_get_lists_the_next_few_fire_times(store: Store) -> None:
    created = create_schedule(store, daily(hour=10), now=CREATED)
    assert created.upcoming(3) == [at(1, 10), at(2, 10), at(3, 10)]


def test_tick_fires_a_due_slot_exactly_once_and_passes_the_slot_time(store: Store) -> None:
    schedule = create_schedule(store, daily(), now=CREATED)
    recorder = Recorder()
    assert run_tick(store, at(1, 9, 59), recorder) == []
    fired = run_tick(store, at(1, 10, 0), recorder)
    assert [(item.schedule_id, item.slot_at, item.error) for item in fired] == [(schedule.schedule_id, at(1, 10), None)]
    assert fired[0].to_json()["slotAt"] == "2025-06-01T10:00:00Z" and fired[0].run_id
    assert run_tick(store, at(1, 10, 1), recorder) == []
    assert run_tick(store, at(1, 23, 59), recorder) == []
    assert recorder.runs() == [(schedule.schedule_id, at(1, 10))]
    again = get_schedule(store, schedule.schedule_id, now=at(1, 11))
    assert again.next_run_at == at(2, 10) and again.last_fired_at == at(1, 10)


def test_a_late_tick_still_fires_the_slot(store: Store) -> None:
    create_schedule(store, daily(), now=CREATED)
    recorder = Recorder()
    assert [item.slot_at for item in run_tick(store, at(1, 15, 42), recorder)] == [at(1, 10)]


def test_a_missed_day_fires_only_the_latest_slot_not_a_backlog(store: Store) -> None:
    schedule = create_schedule(store, daily(), now=CREATED)
    recorder = Recorder()
    run_tick(store, at(1, 10), recorder)
    # Cron was down all of June 2nd and most of the 3rd.
    fired = run_tick(store, at(3, 10, 30), recorder)
    assert [item.slot_at for item in fired] == [at(3, 10)]
    assert run_tick(store, at(3, 10, 31), recorder) == []
    assert [fire.slot_at for fire in schedule_runs(store, schedule.schedule_id)] == [at(3, 10), at(1, 10)]
    # A tick that claims an earlier moment (a slow process, a back-fill) never fires an older slot.
    assert run_tick(store, at(2, 10, 5), recorder) == []


def test_a_new_schedule_owes_nothing_from_before_its_creation(store: Store) -> None:
    create_schedule(store, daily(hour=7), now=CREATED)  # 07:00 passed an hour before creation
    recorder = Recorder()
    assert run_tick(store, at(1, 12), recorder) == []
    assert [item.slot_at for item in run_tick(store, at(2, 7), recorder)] == [at(2, 7)]


def test_every_frequency_fires_on_its_own_slots(store: Store) -> None:
    hourly = create_schedule(store, ScheduleSpec("H", "a", "hourly", (15, 45)), now=CREATED)
    weekly = create_schedule(store, ScheduleSpec("W", "a", "weekly", (0,), hours=(9,), days_of_week=(1,)), now=CREATED)
    monthly = create_schedule(store, ScheduleSpec("M", "a", "monthly", (0,), hours=(6,), days_of_month=(2,)), now=CREATED)
    recorder = Recorder()
    fired_by_tick = [
        {item.schedule_id: item.slot_at for item in run_tick(store, now, recorder)}
        for now in (at(1, 8, 14), at(1, 8, 15), at(2, 6, 0), at(2, 9, 5))
    ]
    assert fired_by_tick == [
        {},
        {hourly.schedule_id: at(1, 8, 15)},
        {hourly.schedule_id: at(2, 5, 45), monthly.schedule_id: at(2, 6)},
        {hourly.schedule_id: at(2, 8, 45), weekly.schedule_id: at(2, 9)},  # 2025-06-02 is a Monday
    ]


def test_tick_in_a_dst_zone_fires_at_local_wall_clock_time(store: Store) -> None:
    paris = create_schedule(store, daily(hour=9, timezone="Europe/Paris"),
                            now=datetime(2025, 3, 29, 12, tzinfo=UTC))
    recorder = Recorder()
    # Paris springs forward on 2025-03-30: 09:00 is 08:00 UTC the day before and 07:00 UTC from then on.
    assert run_tick(store, datetime(2025, 3, 30, 6, 59, tzinfo=UTC), recorder) == []
    assert [item.slot_at for item in run_tick(store, datetime(2025, 3, 30, 7, 0, tzinfo=UTC), recorder)] == [
        datetime(2025, 3, 30, 7, 0, tzinfo=UTC)]
    assert get_schedule(store, paris.schedule_id, now=datetime(2025, 3, 30, 8, tzinfo=UTC)).next_run_at == (
        datetime(2025, 3, 31, 7, 0, tzinfo=UTC))


def test_sources_are_loaded_before_the_run_starts(store: Store, exports: Path) -> None:
    sources = (f"{exports}/a/*.jsonl", f"{exports}/b.json")
    sourced = create_schedule(store, daily(sources=sources), now=CREATED)
    create_schedule(store, daily(hour=10), now=CREATED)  # no sources: nothing to load
    recorder = Recorder()
    run_tick(store, at(1, 10), recorder)
    assert sorted(kind for kind, _ in recorder.calls) == ["load", "run", "run"]
    loaded_at = recorder.calls.index(("load", sources))
    assert recorder.calls[loaded_at + 1] == ("run", (sourced.schedule_id, at(1, 10)))


def test_a_failed_fire_is_recorded_not_retried_and_does_not_stop_the_others(store: Store, exports: Path) -> None:
    broken = create_schedule(store, daily(sources=(f"{exports}/*.jsonl",)), now=CREATED)
    healthy = create_schedule(store, daily(), now=CREATED)
    recorder = Recorder(fail_load=True)
    fired = {item.schedule_id: item for item in run_tick(store, at(1, 10), recorder)}
    assert fired[broken.schedule_id].run_id is None
    assert fired[broken.schedule_id].error == "no trace files match /missing/*.jsonl"
    assert fired[healthy.schedule_id].run_id is not None and fired[healthy.schedule_id].error is None
    assert recorder.runs() == [(healthy.schedule_id, at(1, 10))]
    assert run_tick(store, at(1, 10, 1), Recorder()) == []
    [record] = schedule_runs(store, broken.schedule_id)
    assert (record.run_id, record.error) == (None, "no trace files match /missing/*.jsonl")
    failing_run = Recorder(fail_run=True)
    [item] = [item for item in run_tick(store, at(2, 10), failing_run) if item.schedule_id == healthy.schedule_id]
    assert item.error == "RuntimeError: worker would not start"


def test_archive_and_unarchive(store: Store) -> None:
    schedule = create_schedule(store, daily(), now=CREATED)
    archived = archive_schedule(store, schedule.schedule_id, now=at(1, 9))
    assert archived.archived_at == at(1, 9) and archived.next_run_at is None
    assert archived.to_json()["archived"] is True
    assert list_schedules(store, now=at(1, 9)) == []
    assert [item.schedule_id for item in list_schedules(store, include_archived=True)] == [schedule.schedule_id]
    recorder = Recorder()
    assert run_tick(store, at(2, 10), recorder) == []
    assert archive_schedule(store, schedule.schedule_id, now=at(2, 11)).archived_at == at(1, 9)  # idempotent
    restored = unarchive_schedule(store, schedule.schedule_id, now=at(3, 12))
    assert restored.archived_at is None and restored.to_json()["archived"] is False
    # The slots that passed while archived (June 2nd and 3rd 10:00) are not owed.
    assert restored.next_run_at == at(4, 10)
    assert run_tick(store, at(3, 12, 1), recorder) == []
    assert [item.slot_at for item in run_tick(store, at(4, 10), recorder)] == [at(4, 10)]


def test_update_of_cadence_recomputes_the_next_fire_time(store: Store) -> None:
    schedule = create_schedule(store, daily(hour=10), now=CREATED)
    assert schedule.next_run_at == at(1, 10)
    updated = update_schedule(store, schedule.schedule_id,
                              ScheduleChanges.from_flags(frequency="weekly", days_of_week="3", hours="18", minutes="30"),
                              now=at(1, 9))
    assert (updated.spec.frequency, updated.spec.days_of_week, updated.spec.hours) == ("weekly", (3,), (18,))
    assert updated.next_run_at == at(4, 18, 30)  # the next Wednesday
    assert updated.updated_at == at(1, 9) and updated.created_at == CREATED
    retimed = update_schedule(store, schedule.schedule_id, ScheduleChanges.from_flags(timezone="Asia/Tokyo"),
                              now=at(1, 9))
    assert retimed.next_run_at == at(4, 9, 30)  # 18:30 JST
    recorder = Recorder()
    assert run_tick(store, at(1, 10), recorder) == []  # the old 10:00 slot is gone


def test_update_of_cadence_drops_a_slot_that_passed_before_the_change(store: Store) -> None:
    schedule = create_schedule(store, daily(hour=10), now=CREATED)
    # At 10:30 (no tick yet), move the schedule to 09:00: neither 10:00 nor 09:00 today is owed.
    update_schedule(store, schedule.schedule_id, ScheduleChanges.from_flags(hours=9), now=at(1, 10, 30))
    assert run_tick(store, at(1, 10, 31), Recorder()) == []
    assert get_schedule(store, schedule.schedule_id, now=at(1, 10, 31)).next_run_at == at(2, 9)


def test_enabled_false_pauses_and_true_resumes_without_a_backlog(store: Store) -> None:
    schedule = create_schedule(store, daily(), now=CREATED)
    paused = update_schedule(store, schedule.schedule_id, ScheduleChanges.from_flags(enabled="false"), now=at(1, 9))
    assert paused.spec.enabled is False and paused.next_run_at is None
    recorder = Recorder()
    assert run_tick(store, at(2, 10), recorder) == []
    resumed = update_schedule(store, schedule.schedule_id, ScheduleChanges.from_flags(enabled=True), now=at(2, 11))
    assert resumed.next_run_at == at(3, 10)
    assert run_tick(store, at(2, 11, 1), recorder) == []
    # An update that changes neither cadence nor enabled keeps a due slot due.
    renamed = update_schedule(store, schedule.schedule_id, ScheduleChanges.from_flags(title="Renamed", prompt=""),
                              now=at(3, 10, 5))
    assert renamed.spec.title == "Renamed" and renamed.next_run_at == at(3, 10)
    assert [item.slot_at for item in run_tick(store, at(3, 10, 6), recorder)] == [at(3, 10)]


def test_update_validates_the_merged_schedule(store: Store) -> None:
    schedule = create_schedule(store, daily(), now=CREATED)
    with pytest.raises(UsageError, match="--days-of-week is required for a weekly schedule"):
        update_schedule(store, schedule.schedule_id, ScheduleChanges.from_flags(frequency="weekly"), now=at(1, 9))
    with pytest.raises(UsageError, match="needs at least one flag"):
        update_schedule(store, schedule.schedule_id, ScheduleChanges(), now=at(1, 9))
    assert get_schedule(store, schedule.schedule_id).spec == schedule.spec


def test_schedule_runs_newest_first_with_limit_and_run_status(store: Store) -> None:
    schedule = create_schedule(store, ScheduleSpec("H", "a", "hourly", (0,)), now=CREATED)
    recorder = Recorder()
    for hour in (9, 10, 11):
        run_tick(store, at(1, hour), recorder)
    fires = schedule_runs(store, schedule.schedule_id, limit=2)
    assert [fire.slot_at for fire in fires] == [at(1, 11), at(1, 10)]
    assert fires[0].to_json()["runId"] == fires[0].run_id and fires[0].run_status is None  # fake runs: no row
    with pytest.raises(UsageError, match="--limit"):
        schedule_runs(store, schedule.schedule_id, limit=0)


def test_overlapping_ticks_in_one_process_fire_each_slot_once(store: Store) -> None:
    created = [create_schedule(store, ScheduleSpec(f"S{index}", "a", "hourly", (0,)), now=CREATED) for index in range(4)]
    recorder = Recorder()
    barrier = threading.Barrier(4)
    results: list[list[Fired]] = []

    def overlapping_tick() -> None:
        barrier.wait()
        results.append(run_tick(store, at(1, 9), recorder))

    threads = [threading.Thread(target=overlapping_tick) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    fired = sorted(item.schedule_id for result in results for item in result)
    assert fired == sorted(item.schedule_id for item in created)
    assert sorted(schedule_id for schedule_id, _ in recorder.runs()) == fired


_TICK_PROCESS = """
import json, sys
from datetime import datetime
from pathlib import Path
from halo_local.schedules import tick
from halo_local.store import Store

home, now, name = Path(sys.argv[1]), datetime.fromisoformat(sys.argv[2]), sys.argv[3]
print("ready", flush=True)
sys.stdin.readline()
fired = tick(Store(home), now, lambda schedule, slot: f"run_{name}_{schedule.schedule_id}",
             lambda sources, skip_invalid: None)
print(json.dumps([item.to_json() for item in fired]), flush=True)
"""


def test_overlapping_ticks_in_separate_processes_fire_each_slot_once(store: Store, isolated_home: Path) -> None:
    created = [create_schedule(store, ScheduleSpec(f"S{index}", "a", "hourly", (0,)), now=CREATED) for index in range(5)]
    processes = [
        subprocess.Popen([sys.executable, "-c", _TICK_PROCESS, str(isolated_home), at(1, 9).isoformat(), name],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name in ("a", "b", "c")
    ]
    try:
        for process in processes:  # every process has imported everything and waits for the start signal
            assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        outputs = [process.communicate(timeout=600) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    assert all(process.returncode == 0 for process in processes), outputs
    fired = [item for out, _ in outputs for item in json.loads(out)]
    assert sorted(item["scheduleId"] for item in fired) == sorted(item.schedule_id for item in created)
    for schedule in created:
        [record] = schedule_runs(store, schedule.schedule_id)
        [winner] = [item for item in fired if item["scheduleId"] == schedule.schedule_id]
        assert record.run_id == winner["runId"] and record.slot_at == at(1, 9)


def test_create_and_update_refuse_an_unknown_agent_or_a_source_matching_nothing(store: Store, exports: Path) -> None:
    with pytest.raises(NotFoundError) as unknown:  # exit 1, as every command says it (issue 18)
        create_schedule(store, replace(daily(), agent_uuid="agent-9"), now=CREATED)
    assert unknown.value.message == "no agent with UUID 'agent-9'"  # as `run create` says it
    assert unknown.value.hint is not None and "agent-1 (Checker, helper-service)" in unknown.value.hint
    with pytest.raises(UsageError) as unmatched:
        create_schedule(store, daily(sources=(f"{exports}/*.json", f"{exports}/nothing/*.jsonl")), now=CREATED)
    assert unmatched.value.message == f"no trace files match {exports}/nothing/*.jsonl"  # as `traces load` says it
    assert list_schedules(store, now=CREATED) == []

    by_name = create_schedule(store, replace(daily(), agent_uuid="Checker"), now=CREATED)
    assert by_name.spec.agent_uuid == "agent-1"  # stored as the UUID: a later namesake cannot make it ambiguous
    with pytest.raises(NotFoundError):
        update_schedule(store, by_name.schedule_id, ScheduleChanges.from_flags(agent_uuid="nosuch"), now=CREATED)
    with pytest.raises(UsageError):
        update_schedule(store, by_name.schedule_id, ScheduleChanges.from_flags(source=f"{exports}/nothing.jsonl"),
                        now=CREATED)
    moved = update_schedule(store, by_name.schedule_id, ScheduleChanges.from_flags(agent_uuid="Another"), now=CREATED)
    assert get_schedule(store, by_name.schedule_id).spec == moved.spec and moved.spec.agent_uuid == "a"


def test_an_agent_only_the_sources_hold_is_found_by_reading_them_without_storing(
        store: Store, tmp_path: Path, halo_capture_home: Path) -> None:
    [agent] = traces.list_agents(Store(halo_capture_home), time_range="all")  # HALO_FIXTURE's, loaded once per process
    exports = tmp_path / "live"
    exports.mkdir()
    shutil.copy(HALO_FIXTURE, exports / "today.jsonl")
    before = traces.stored_range(store)["spanCount"]

    for given in (agent["agentUuid"], "HaloCodeHelper"):
        created = create_schedule(store, replace(daily(), agent_uuid=given, sources=(str(exports),)), now=CREATED)
        assert created.spec.agent_uuid == agent["agentUuid"]
    assert traces.stored_range(store)["spanCount"] == before  # read to check, not loaded
    with pytest.raises(NotFoundError) as unknown:
        create_schedule(store, replace(daily(), agent_uuid="HaloCodeHelpr", sources=(str(exports),)), now=CREATED)
    assert unknown.value.message == "no agent with UUID 'HaloCodeHelpr'"
    assert unknown.value.hint is not None and agent["agentUuid"] in unknown.value.hint  # found in the sources


def test_skip_invalid_leaves_out_a_file_still_being_written_and_strict_fails_the_fire(
        store: Store, tmp_path: Path) -> None:
    exports = tmp_path / "live"
    exports.mkdir()
    shutil.copy(HALO_FIXTURE, exports / "done.jsonl")
    lines = HALO_FIXTURE.read_bytes().splitlines(keepends=True)
    (exports / "writing.jsonl").write_bytes(b"".join(lines[:3]) + lines[3][:40])  # a record cut short
    (exports / "writing.jsonl.gz").write_bytes(gzip.compress(HALO_FIXTURE.read_bytes())[:500])
    (exports / "labels.json").write_text('{"golden": "done", "error_spans": []}\n')  # beside them, no traces
    before = traces.stored_range(store)["spanCount"]
    forgiving = create_schedule(store, replace(daily(), agent_uuid="HaloCodeHelper", sources=(str(exports),)),
                                now=CREATED)
    assert forgiving.spec.skip_invalid is True and forgiving.to_json()["skipInvalid"] is True
    recorder = Recorder()

    [fired] = tick(store, at(1, 10), recorder.fire_run, load_trace_sources(store))
    assert fired.error is None and fired.run_id is not None
    unreadable = next(item for item in fired.warnings if "writing.jsonl.gz" in item)
    assert unreadable.startswith(f"left out {exports / 'writing.jsonl.gz'}: is not a readable gzip file")
    partial = next(item for item in fired.warnings if "writing.jsonl.gz" not in item)
    assert partial == (f"left out 1 record of {exports / 'writing.jsonl'}: first at line 4: "
                       "is truncated: the file ends in the middle of this record")
    assert len(fired.warnings) == 2 and fired.to_json()["warnings"] == list(fired.warnings)
    assert traces.stored_range(store)["spanCount"] == before + 58  # writing.jsonl's complete lines repeat done's

    (tmp_path / "strict").mkdir()
    shutil.copy(exports / "writing.jsonl", tmp_path / "strict" / "writing.jsonl")
    strict = create_schedule(store, replace(daily(hour=11), agent_uuid="HaloCodeHelper", skip_invalid=False,
                                            sources=(str(tmp_path / "strict"),)), now=CREATED)
    [failed] = [item for item in tick(store, at(1, 11), recorder.fire_run, load_trace_sources(store))
                if item.schedule_id == strict.schedule_id]
    assert failed.run_id is None and failed.error is not None
    assert "writing.jsonl:4: is truncated: the file ends in the middle of this record" in failed.error
    relaxed = update_schedule(store, strict.schedule_id, ScheduleChanges.from_flags(skip_invalid="true"), now=at(1, 12))
    assert relaxed.spec.skip_invalid is True


def test_schedules_made_before_skip_invalid_existed_keep_skipping(isolated_home: Path) -> None:
    database = duckdb.connect(str(isolated_home / "old.duckdb"))
    database.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
                     " applied_at TIMESTAMP NOT NULL DEFAULT now())")
    for version, name, path in migration_files():
        if version <= 3:
            database.execute(path.read_text(encoding="utf-8"))
            database.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name])
    database.execute("INSERT INTO schedules VALUES ('sch_000000000001', 'Old', 'a', 'hourly', [0], NULL, NULL, NULL,"
                     " 'UTC', NULL, NULL, 10000, 24, 3, 50, TRUE, NULL, [], now(), now(), now())")
    assert 5 in apply_migrations(database)
    assert database.execute("SELECT skip_invalid FROM schedules").fetchall() == [(True,)]
    database.close()


def test_each_tick_reads_only_the_lines_an_exporter_appended_since_the_last(store: Store, tmp_path: Path) -> None:
    exports = tmp_path / "collector"
    exports.mkdir()
    lines = HALO_FIXTURE.read_bytes().splitlines(keepends=True)
    live = exports / "spans.jsonl"
    live.write_bytes(b"".join(lines[:20]))
    create_schedule(store, replace(daily(), agent_uuid="HaloCodeHelper", sources=(str(exports),)), now=CREATED)
    recorder = Recorder()

    [first] = tick(store, at(1, 10), recorder.fire_run, load_trace_sources(store))
    with live.open("ab") as handle:
        handle.write(b"".join(lines[20:]))
    [second] = tick(store, at(2, 10), recorder.fire_run, load_trace_sources(store))

    assert first.error is None and second.error is None and second.warnings == ()
    with store.connect() as connection:
        loads = connection.execute("SELECT spans_read, spans_new, line_count FROM loaded_files WHERE path = ?"
                                   " ORDER BY loaded_at", [str(live.resolve())]).fetchall()
    assert loads == [(20, 20, 20), (38, 38, 58)]  # the second tick parsed the 38 new lines only


def test_creating_schedules_and_claiming_their_slots_open_the_store_seldom(
        store: Store, store_openings: Callable[[], int]) -> None:
    """Creating a schedule took 4 openings of the database (~20 ms of CPU each): it now takes 2 (its checks,
    then its write read back). A tick lists the schedules in 1, then claims each due slot just before firing
    it (1) and records the fire (1)."""
    before = store_openings()
    schedules = [create_schedule(store, replace(daily(), title=f"daily {index}"), now=CREATED) for index in range(3)]
    assert store_openings() - before == 2 * 3
    recorder = Recorder()
    before = store_openings()
    fired = run_tick(store, at(1, 10), recorder)
    assert sorted(item.schedule_id for item in fired) == sorted(item.schedule_id for item in schedules)
    assert store_openings() - before == 1 + 2 * 3
