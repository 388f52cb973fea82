"""Secrets are masked before anything sees an event; the run log writes and reads back runs."""

from __future__ import annotations

import json
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from agent.actions import Click, Drag, KeyPress, TypeText, parse_action
from agent.desktop.protocol import Frame
from agent.geometry import Point, Size
from agent.record.events import (
    ActionExecuted,
    CheckEvaluated,
    Decided,
    Event,
    EventBus,
    Observed,
    RunFinished,
    RunStarted,
    StepStarted,
)
from agent.record.log import SCHEMA, RunLog, find_run, iter_runs, read_run
from agent.record.secrets import MASK, SecretMasker
from agent.record.status import RunStatus
from tests.run_json import read_run_json

SECRET = "hunter2-パス"


class ListSink:
    def __init__(self) -> None:
        self.events: list[Event] = []

    def handle(self, event: Event) -> None:
        self.events.append(event)


def _frame(width: int = 64, height: int = 48) -> Frame:
    return Frame(np.zeros((height, width, 4), dtype=np.uint8), time.monotonic())


# ---- secrets


def test_mask_text_replaces_every_occurrence() -> None:
    masker = SecretMasker([SECRET])
    assert masker.mask_text(f"a {SECRET} b {SECRET}") == f"a {MASK} b {MASK}"
    assert masker.mask_text("nothing here") == "nothing here"


def test_longest_secret_is_masked_first() -> None:
    masker = SecretMasker(["abc", "abcdef"])
    assert masker.mask_text("x abcdef y abc") == f"x {MASK} y {MASK}"
    # Whatever the order they were given or added in.
    added = SecretMasker(["abc"])
    added.add("abcdef")
    assert added.mask_text("abcdef") == MASK


def test_empty_secrets_are_ignored() -> None:
    masker = SecretMasker(["", "s"])
    masker.add("")
    assert masker.mask_text("as") == f"a{MASK}"
    assert SecretMasker([""]).mask_text("text") == "text"


def test_decided_event_with_the_secret_in_a_typed_text_is_masked() -> None:
    event = Decided(3, (Click(1, 2), TypeText(f"password: {SECRET}\n")), f"type {SECRET} now", 0.5)
    masked = SecretMasker([SECRET]).mask(event)
    assert masked.actions == (Click(1, 2), TypeText(f"password: {MASK}\n"))
    assert masked.thought == f"type {MASK} now"
    assert (masked.step, masked.decide_seconds, masked.at) == (3, 0.5, event.at)
    # The original is untouched.
    assert event.actions[1] == TypeText(f"password: {SECRET}\n")


@dataclass(frozen=True)
class _Inner:
    values: list[str]
    mapping: dict[str, object]


@dataclass(frozen=True)
class _Outer:
    inner: _Inner
    items: tuple[object, ...]
    number: int


def test_nested_dataclasses_lists_and_dicts_are_masked() -> None:
    value = _Outer(
        _Inner([SECRET, "ok"], {"key": f"x{SECRET}x", "deep": [{"n": (SECRET,)}], "n": 5}),
        (SECRET, 1, None, [SECRET]),
        7,
    )
    masked = SecretMasker([SECRET]).mask(value)
    assert masked == _Outer(
        _Inner([MASK, "ok"], {"key": f"x{MASK}x", "deep": [{"n": (MASK,)}], "n": 5}),
        (MASK, 1, None, [MASK]),
        7,
    )
    assert isinstance(masked.items, tuple)
    assert SECRET not in repr(masked)


def test_frames_pass_through_unchanged() -> None:
    frame = _frame()
    masked = SecretMasker([SECRET]).mask(Observed(1, frame, 0.01))
    assert masked.frame is frame


def test_without_secrets_the_value_is_returned_as_is() -> None:
    event = StepStarted(1)
    assert SecretMasker().mask(event) is event


def test_bus_masks_before_any_sink_sees_the_event() -> None:
    first, second = ListSink(), ListSink()
    bus = EventBus([first, second], SecretMasker([SECRET]))
    bus.emit(Decided(1, (TypeText(SECRET), KeyPress(("ctrl", "s"))), f"typing {SECRET}", 0.1))
    bus.emit(RunFinished(RunStatus.FAILED, 1, f"could not use {SECRET}", 1, 2.0))
    for sink in (first, second):
        assert len(sink.events) == 2
        assert SECRET not in repr(sink.events)
        decided = sink.events[0]
        assert isinstance(decided, Decided)
        assert decided.actions == (TypeText(MASK), KeyPress(("ctrl", "s")))
        finished = sink.events[1]
        assert isinstance(finished, RunFinished)
        assert finished.reason == f"could not use {MASK}"


def test_bus_without_a_masker_delivers_events_in_order() -> None:
    sink = ListSink()
    bus = EventBus([sink])
    events = [StepStarted(1), StepStarted(2)]
    for event in events:
        bus.emit(event)
    assert sink.events == events


def test_secret_never_reaches_the_run_log(tmp_path: Path) -> None:
    log = RunLog.create(tmp_path / "runs", "secret task", {})
    bus = EventBus([log], SecretMasker([SECRET]))
    bus.emit(Decided(1, (TypeText(SECRET),), f"type {SECRET}", 0.1))
    bus.emit(ActionExecuted(1, TypeText(SECRET), 0.1, 0.2, True, True))
    bus.emit(RunFinished(RunStatus.SUCCESS, 0, f"typed {SECRET}", 1, 1.0))
    log.close()
    for path in log.folder.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    assert MASK in (log.folder / "events.jsonl").read_text("utf-8")


# ---- the run log


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _lines(log: RunLog) -> list[dict[str, object]]:
    text = (log.folder / "events.jsonl").read_text("utf-8")
    return [json.loads(line) for line in text.splitlines()]


def test_create_makes_private_folders(tmp_path: Path) -> None:
    runs = tmp_path / "deep" / "runs"
    log = RunLog.create(runs, "save note / äö", {"task_file": "t.yaml"})
    log.close()
    assert runs.is_dir() and _mode(runs) == 0o700
    assert log.folder.parent == runs
    assert _mode(log.folder) == 0o700
    assert _mode(log.folder / "frames") == 0o700
    assert log.run_id == log.folder.name
    assert "save-note" in log.run_id
    assert "/" not in log.run_id


def test_existing_runs_dir_is_made_private(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir(mode=0o755)
    os.chmod(runs, 0o755)
    RunLog.create(runs, "t", {}).close()
    assert _mode(runs) == 0o700


def test_first_line_is_the_header(tmp_path: Path) -> None:
    log = RunLog.create(tmp_path / "runs", "my-task", {"task_file": "/x/t.yaml"})
    log.close()
    header = _lines(log)[0]
    assert header["schema"] == SCHEMA == "shain.runlog"
    assert header["version"] == 1
    assert header["run_id"] == log.run_id
    assert header["task"] == "my-task"
    assert header["task_file"] == "/x/t.yaml"


def test_observed_frame_is_written_as_a_jpeg_and_referenced(tmp_path: Path) -> None:
    log = RunLog.create(tmp_path / "runs", "t", {})
    log.handle(StepStarted(1))
    log.handle(Observed(1, _frame(64, 48), 0.01))
    log.close()
    image = log.folder / "frames" / "step-0001.jpg"
    assert image.read_bytes()[:3] == b"\xff\xd8\xff"
    observed = _lines(log)[2]
    assert observed["kind"] == "observed"
    assert observed["frame"] == "frames/step-0001.jpg"
    assert observed["step"] == 1
    assert (log.folder / str(observed["frame"])).is_file()


def test_events_are_written_as_json_as_they_happen(tmp_path: Path) -> None:
    log = RunLog.create(tmp_path / "runs", "t", {})
    log.handle(RunStarted(log.run_id, "t", "a goal", "scripted", Size(1920, 1080), "/w"))
    drag = Drag((Point(1, 2), Point(3, 4)))
    log.handle(ActionExecuted(1, drag, 0.1, 0.2, True, False))
    # Flushed at once: readable before the log is closed.
    started, executed = _lines(log)[1:]
    log.close()
    assert started["kind"] == "run_started"
    assert started["screen"] == {"width": 1920, "height": 1080}
    assert executed["kind"] == "action_executed"
    assert parse_action(executed["action"]) == drag  # type: ignore[arg-type]


def test_run_finished_writes_the_summary(tmp_path: Path) -> None:
    log = RunLog.create(tmp_path / "runs", "t", {})
    log.handle(RunStarted(log.run_id, "t", None, "scripted", Size(64, 48), "/work"))
    log.handle(CheckEvaluated("file note.txt exists", True, ""))
    log.handle(CheckEvaluated("note.txt equals 'hi'", False, "it holds 'ho'"))
    assert not (log.folder / "summary.json").exists()
    log.handle(RunFinished(RunStatus.FAILED, 1, "1 of 2 checks failed", 4, 12.34567))
    log.close()
    summary = json.loads((log.folder / "summary.json").read_text("utf-8"))
    assert summary["status"] == "failed"
    assert summary["exit_code"] == 1
    assert summary["reason"] == "1 of 2 checks failed"
    assert summary["steps"] == 4
    assert summary["seconds"] == 12.346
    assert summary["task"] == "t"
    assert summary["workdir"] == "/work"
    assert summary["checks"] == [
        {"check": "file note.txt exists", "passed": True, "detail": ""},
        {"check": "note.txt equals 'hi'", "passed": False, "detail": "it holds 'ho'"},
    ]
    assert not (log.folder / "summary.json.partial").exists()


def _run(tmp_path: Path, *, finish: bool, steps: int = 2) -> RunLog:
    log = RunLog.create(tmp_path / "runs", "t", {})
    for step in range(1, steps + 1):
        log.handle(StepStarted(step))
        log.handle(ActionExecuted(step, Click(step, step), 0.01, 0.02, True, True))
    if finish:
        log.handle(RunFinished(RunStatus.SUCCESS, 0, "done", steps, 1.0))
    log.close()
    return log


def test_read_run_reads_back_what_was_written(tmp_path: Path) -> None:
    log = _run(tmp_path, finish=True)
    record = read_run_json(log.folder)
    assert record.run_id == log.run_id
    assert record.header["schema"] == SCHEMA
    assert record.status == "success"
    assert record.steps_completed == 2
    assert [e["kind"] for e in record.events] == [
        "step_started",
        "action_executed",
        "step_started",
        "action_executed",
        "run_finished",
    ]
    assert len(record.events_of("action_executed")) == 2


def test_read_run_skips_a_torn_last_line_and_reports_incomplete(tmp_path: Path) -> None:
    log = _run(tmp_path, finish=False, steps=3)
    with open(log.folder / "events.jsonl", "a", encoding="utf-8") as events:
        events.write('{"kind": "action_executed", "step": 4, "act')
    record = read_run_json(log.folder)
    assert record.summary is None
    assert record.status == "incomplete"
    assert record.steps_completed == 3
    assert record.events[-1]["kind"] == "action_executed"
    assert record.events[-1]["step"] == 3


def test_read_run_of_a_folder_without_a_log(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not a run folder"):
        read_run(tmp_path)


def _fake_run(runs: Path, name: str) -> Path:
    folder = runs / name
    folder.mkdir(parents=True)
    header = {"schema": SCHEMA, "version": 1, "run_id": name, "task": name}
    (folder / "events.jsonl").write_text(json.dumps(header) + "\n", "utf-8")
    return folder


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    runs = tmp_path / "runs"
    for name in (
        "20240101-090000-alpha-aaaa",
        "20240101-100000-beta-bbbb",
        "20240102-080000-gamma-cccc",
    ):
        _fake_run(runs, name)
    (runs / "not-a-run").mkdir()  # no events.jsonl: ignored
    (runs / "stray.txt").write_text("x")
    return runs


def test_find_run_by_full_id(runs: Path) -> None:
    assert find_run("20240101-100000-beta-bbbb", runs) == runs / "20240101-100000-beta-bbbb"


def test_find_run_by_unique_prefix(runs: Path) -> None:
    assert find_run("20240102", runs) == runs / "20240102-080000-gamma-cccc"
    assert find_run("20240101-09", runs) == runs / "20240101-090000-alpha-aaaa"


def test_find_run_last_is_the_newest(runs: Path) -> None:
    assert find_run("last", runs) == runs / "20240102-080000-gamma-cccc"


def test_find_run_by_folder_path(runs: Path, tmp_path: Path) -> None:
    elsewhere = _fake_run(tmp_path / "elsewhere", "some-run")
    assert find_run(str(elsewhere), runs) == elsewhere


def test_find_run_ambiguous_prefix_names_the_matches(runs: Path) -> None:
    with pytest.raises(FileNotFoundError) as caught:
        find_run("20240101", runs)
    message = str(caught.value)
    assert "'20240101' matches 2 runs" in message
    assert "20240101-090000-alpha-aaaa" in message
    assert "20240101-100000-beta-bbbb" in message


def test_find_run_missing(runs: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no run 'nosuchrun' in"):
        find_run("nosuchrun", runs)
    with pytest.raises(FileNotFoundError, match="no run 'not-a-run'"):
        find_run("not-a-run", runs)
    with pytest.raises(FileNotFoundError, match="no run 'last'"):
        find_run("last", tmp_path / "missing")


def test_iter_runs_newest_first(runs: Path) -> None:
    assert [record.run_id for record in iter_runs(runs)] == [
        "20240102-080000-gamma-cccc",
        "20240101-100000-beta-bbbb",
        "20240101-090000-alpha-aaaa",
    ]
    assert all(record.status == "incomplete" for record in iter_runs(runs))


def test_iter_runs_of_a_missing_folder_is_empty(tmp_path: Path) -> None:
    assert list(iter_runs(tmp_path / "missing")) == []


def test_last_is_the_newest_run_even_within_the_same_second(tmp_path: Path) -> None:
    # Run ids carry the start time to the second; two runs started in one second (a script
    # running tasks back to back, a task refused at once) must still list newest first.
    for attempt in range(5):
        runs = tmp_path / f"runs-{attempt}"
        older = RunLog.create(runs, "zebra", {})
        newer = RunLog.create(runs, "apple", {})
        older.close()
        newer.close()
        if older.run_id[:15] == newer.run_id[:15]:  # same YYYYmmdd-HHMMSS
            break
    assert [r.run_id for r in iter_runs(runs)] == [newer.run_id, older.run_id]
    assert find_run("last", runs) == newer.folder
