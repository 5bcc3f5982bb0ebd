"""The detector registry: every entry is complete, and everything keyed by category derives from it."""

from __future__ import annotations

import dataclasses

import pytest

from halo_local import report
from halo_local.config import Thresholds
from halo_local.heuristics import CATEGORIES, DETECTORS, detector_files
from halo_local.resources import resource_dir


def _coverage_counters() -> set[str]:
    text = (resource_dir("sql") / "heuristics" / "_coverage.sql").read_text(encoding="utf-8")
    select = text.split("SELECT", 1)[1].split("FROM halo_h_totals", 1)[0]
    return {line.strip().rstrip(",").split(" AS ")[-1] for line in select.splitlines() if line.strip()}


def test_categories_are_the_registry_in_order() -> None:
    assert tuple(item.category for item in DETECTORS) == CATEGORIES
    assert len(set(CATEGORIES)) == len(CATEGORIES)
    assert tuple(detector_files()) == CATEGORIES


@pytest.mark.parametrize("entry", DETECTORS, ids=lambda item: item.category)
def test_each_detector_entry_is_complete(entry: object) -> None:
    assert entry.sql_file.is_file()
    assert entry.counter in _coverage_counters()
    names = {field.name for field in dataclasses.fields(Thresholds)}
    assert set(entry.thresholds) <= names
    sql = entry.sql_file.read_text(encoding="utf-8")
    for name in entry.thresholds:
        assert f"${name}" in sql or _used_by_shared_sql(name), name
    module = report.environment().get_template(entry.guidance).module
    assert callable(module.likely_cause) and callable(module.fix)
    assert entry.words and entry.unit and entry.singular and entry.healthy and entry.missing


def _used_by_shared_sql(name: str) -> bool:
    folder = resource_dir("sql") / "heuristics"
    return any(f"${name}" in path.read_text(encoding="utf-8") for path in folder.glob("_*.sql"))


def test_every_threshold_belongs_to_a_detector() -> None:
    claimed = {name for entry in DETECTORS for name in entry.thresholds}
    assert {field.name for field in dataclasses.fields(Thresholds)} <= claimed


def test_guidance_dispatches_through_the_registry() -> None:
    module = report.environment().get_template("report/guidance.md.j2").module
    finding = {"category": "loop", "subject": "search", "title": "t", "metric": "m"}
    assert "search" in str(module.fix(finding))
    unknown = {"category": "not_a_detector", "subject": None, "title": "Something odd", "metric": "m"}
    assert str(module.likely_cause(unknown)) == "Something odd."
