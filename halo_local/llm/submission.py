"""What the model submits: parsing its notes, and removing the ids it cited that name nothing."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from halo_local.sandbox import SpanSandbox

MAX_NOTES = 20
MAX_SUMMARY_CHARS = 20000
UNVERIFIED_ID = "[unverified id]"
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{24}|[0-9a-fA-F]{16})(?![0-9A-Za-z])")


@dataclass(frozen=True)
class IssueNote:
    """The LLM's explanation of one finding (or of a new issue it found)."""

    finding_key: str | None
    title: str
    rank: int
    likely_cause: str
    fix: str
    trace_ids: tuple[str, ...]
    span_ids: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"findingKey": self.finding_key, "title": self.title, "rank": self.rank,
                "likelyCause": self.likely_cause, "fix": self.fix,
                "traceIds": list(self.trace_ids), "spanIds": list(self.span_ids)}


@dataclass
class Outcome:
    summary: str
    notes: list[IssueNote]


def parse_submission(raw: Any, finding_keys: set[str]) -> tuple[Outcome | None, list[str]]:
    """The submission as an outcome (invalid notes dropped) and the problems found, for the model to fix."""
    if not isinstance(raw, Mapping):
        return None, ["the input must be an object with summary and notes"]
    problems: list[str] = []
    summary = raw.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        problems.append("summary must be a non-empty string")
        summary = None
    raw_notes = raw.get("notes", [])
    if not isinstance(raw_notes, list):
        problems.append("notes must be an array")
        raw_notes = []
    if len(raw_notes) > MAX_NOTES:
        problems.append(f"at most {MAX_NOTES} notes")
        raw_notes = raw_notes[:MAX_NOTES]
    ranked: list[tuple[int, int, IssueNote]] = []
    for index, item in enumerate(raw_notes, start=1):
        note, note_problems = _parse_note(item, finding_keys)
        problems.extend(f"note {index}: {problem}" for problem in note_problems)
        if note is not None:
            ranked.append((note.rank, index, note))
    ranked.sort(key=lambda entry: entry[:2])
    notes = [_replace_rank(note, position) for position, (_, _, note) in enumerate(ranked, start=1)]
    if summary is None:
        if not notes:
            return None, problems
        summary = "; ".join(note.title for note in notes)
    return Outcome(summary=summary.strip(), notes=notes), problems


def _parse_note(item: Any, finding_keys: set[str]) -> tuple[IssueNote | None, list[str]]:
    if not isinstance(item, Mapping):
        return None, ["must be an object"]
    problems = []
    title = item.get("title")
    if not isinstance(title, str) or not title.strip():
        return None, ["title must be a non-empty string"]
    rank = item.get("rank")
    if isinstance(rank, str) and rank.strip().isdigit():
        rank = int(rank.strip())
    if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
        problems.append("rank must be a whole number from 1")
        rank = 10_000
    key = item.get("finding_key") or None
    if key is not None and key not in finding_keys:
        problems.append(f"finding_key {key!r} is not a finding's key (use null for a new issue)")
        key = None
    texts = {}
    for name in ("likely_cause", "fix"):
        value = item.get(name)
        if value is not None and not isinstance(value, str):
            problems.append(f"{name} must be a string")
            value = None
        texts[name] = (value or "").strip()[:4000]
    id_lists = {}
    for name in ("trace_ids", "span_ids"):
        value = item.get(name) or []
        if not isinstance(value, list) or not all(isinstance(entry, str) for entry in value):
            problems.append(f"{name} must be an array of strings")
            value = []
        id_lists[name] = tuple(dict.fromkeys(entry.strip().lower() for entry in value if entry.strip()))[:20]
    note = IssueNote(finding_key=key, title=title.strip()[:300], rank=rank, likely_cause=texts["likely_cause"],
                     fix=texts["fix"], trace_ids=id_lists["trace_ids"], span_ids=id_lists["span_ids"])
    return note, problems


def _replace_rank(note: IssueNote, rank: int) -> IssueNote:
    return IssueNote(note.finding_key, note.title, rank, note.likely_cause, note.fix, note.trace_ids, note.span_ids)


def verified(sandbox: SpanSandbox, outcome: Outcome) -> tuple[Outcome, int]:
    """The outcome with every id that names nothing in the snapshot removed, and how many were."""
    texts = [outcome.summary] + [part for note in outcome.notes for part in (note.title, note.likely_cause, note.fix)]
    cited = {match.lower() for text in texts for match in _ID_IN_TEXT.findall(text) if _looks_like_id(match)}
    for note in outcome.notes:
        cited.update(note.trace_ids)
        cited.update(note.span_ids)
    traces, spans = sandbox.known_ids(sorted(cited))
    removed = 0

    def scrub(text: str) -> str:
        def replace(match: re.Match[str]) -> str:
            nonlocal removed
            token = match.group(0)
            if not _looks_like_id(token) or token.lower() in traces or token.lower() in spans:
                return token
            removed += 1
            return UNVERIFIED_ID

        return _ID_IN_TEXT.sub(replace, text)

    notes = []
    for note in outcome.notes:
        listed = note.trace_ids + note.span_ids
        trace_ids = tuple(dict.fromkeys(item for item in listed if item in traces))
        span_ids = tuple(dict.fromkeys(item for item in listed if item in spans and item not in traces))
        removed += sum(1 for item in listed if item not in traces and item not in spans)
        notes.append(IssueNote(note.finding_key, scrub(note.title), note.rank, scrub(note.likely_cause),
                               scrub(note.fix), trace_ids, span_ids))
    summary = scrub(outcome.summary[:MAX_SUMMARY_CHARS])
    return Outcome(summary=summary, notes=notes), removed


def _looks_like_id(token: str) -> bool:
    """Hex of an id's length with both a digit and a letter (so a 16-digit number is not an id)."""
    return any(char.isdigit() for char in token) and any(char.isalpha() for char in token)
