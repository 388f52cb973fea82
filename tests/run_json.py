"""A run read back by `read_run`, with its events in their JSON form: what events.jsonl holds,
field by field, for tests that check what a run wrote down (encoded again by the codec, so
reading and writing back is part of what they check)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.record.codec import encode_event
from agent.record.log import RunRecord, read_run
from agent.record.status import RunStatus


@dataclass(frozen=True)
class RunJson:
    record: RunRecord

    @property
    def events(self) -> list[dict[str, Any]]:
        return [encode_event(event) for event in self.record.events]

    def events_of(self, kind: str) -> list[dict[str, Any]]:
        return [event for event in self.events if event.get("kind") == kind]

    @property
    def folder(self) -> Path:
        return self.record.folder

    @property
    def run_id(self) -> str:
        return self.record.run_id

    @property
    def header(self) -> dict[str, Any]:
        return self.record.header

    @property
    def summary(self) -> dict[str, Any] | None:
        return self.record.summary

    @property
    def status(self) -> RunStatus:
        return self.record.status

    @property
    def steps_completed(self) -> int:
        return self.record.steps_completed


def read_run_json(folder: Path) -> RunJson:
    return RunJson(read_run(folder))
