"""Runs read back as the events that were written: a run folder made by the code before run
records were typed (tests/fixtures/runs/make_run.py) reads back as typed events, and `shain
show`, `shain export` and `shain report` print what they printed then."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import shutil
import time
import typing
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from agent.actions import AskBoss, Click, Done, Drag, Fail, KeyPress, Move, Scroll, TypeText, Wait
from agent.desktop.protocol import Frame
from agent.geometry import Box, Point, Size
from agent.perception.pointed import PointedElement
from agent.record.codec import decode_event, encode_event
from agent.record.console import ConsoleSink
from agent.record.deciders import MODEL, SCRIPT, Healed, Unmet
from agent.record.events import (
    ActionContext,
    ActionExecuted,
    ActionFailed,
    ActionRejected,
    ApprovalAnswered,
    ApprovalRequested,
    CheckEvaluated,
    Decided,
    Event,
    HandedBack,
    ModelRetried,
    Observed,
    Paused,
    QuestionAnswered,
    QuestionAsked,
    RepairProposed,
    ReplyRejected,
    Resumed,
    RunFinished,
    RunStarted,
    SetupDone,
    StepStarted,
    TakenOver,
    UnknownEvent,
    UnreadableAction,
)
from agent.record.log import RunLog, read_run
from agent.record.status import RunStatus
from agent.record.steps import FAILED, OK, REJECTED, StepFolder
from agent.report.writer import render_report
from tests.fixtures.runs.make_run import GOLDEN, fixture_folder, report_markup
from tests.helpers import run_shain

FIXTURE = fixture_folder()
PLACEHOLDER = "<run folder>"


def _golden(name: str, folder: Path) -> str:
    return (GOLDEN / name).read_text("utf-8").replace(PLACEHOLDER, str(folder))


def _shain(*arguments: str) -> str:
    result = run_shain(*arguments)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / FIXTURE.name
    shutil.copytree(FIXTURE, folder)
    return folder


# ---- the fixture, read back


def test_the_logged_run_reads_back_as_the_events_that_were_written() -> None:
    record = read_run(FIXTURE)
    counts = Counter(type(event) for event in record.events)
    assert counts == {
        RunStarted: 1,
        SetupDone: 4,
        StepStarted: 12,
        Observed: 12,
        Decided: 11,
        ReplyRejected: 1,
        ModelRetried: 1,
        ApprovalRequested: 1,
        ApprovalAnswered: 1,
        ActionRejected: 1,
        ActionExecuted: 6,
        ActionFailed: 1,
        CheckEvaluated: 2,
        RunFinished: 1,
    }
    (started,) = record.events_of(RunStarted)
    assert started.screen == Size(1920, 1080) and started.policy == "openai-chat (fixture-model)"
    actions = [action for decided in record.events_of(Decided) for action in decided.actions]
    assert actions[:5] == [
        Click(640, 360),
        TypeText("echo shain\n"),
        Drag((Point(300, 300), Point(500, 420), Point(700, 380))),
        Scroll(900, 500, scroll_y=3),
        KeyPress(("ctrl", "a")),
    ]
    assert isinstance(actions[-1], Fail)
    (asked,) = record.events_of(ApprovalRequested)
    assert asked.step == 7 and asked.action == TypeText("sudo true")
    (answered,) = record.events_of(ApprovalAnswered)
    assert (answered.approved, answered.by) == (False, "task file")
    (refused,) = record.events_of(ActionRejected)
    assert refused.action == KeyPress(("super", "l")) and "locks the screen" in refused.reason
    (retried,) = record.events_of(ModelRetried)
    assert retried.attempt == 1 and "HTTP 429" in retried.reason and retried.wait_seconds == 0.2
    (failed,) = record.events_of(ActionFailed)
    assert failed.action == Click(5000, 10) and "outside the 1920x1080 screen" in failed.error
    assert [check.passed for check in record.events_of(CheckEvaluated)] == [True, False]
    for observed in record.events_of(Observed):
        assert observed.frame is None and observed.frame_file is not None
        assert (FIXTURE / observed.frame_file).read_bytes()[:3] == b"\xff\xd8\xff"
    (finished,) = record.events_of(RunFinished)
    assert finished.status is RunStatus.FAILED and record.status is RunStatus.FAILED
    assert (finished.input_tokens, finished.output_tokens) == (2900, 110)
    spent = sum(decided.cost_usd for decided in record.events_of(Decided))
    assert spent == pytest.approx(finished.cost_usd) == 0.00668


def test_every_line_encodes_back_to_what_the_log_holds() -> None:
    lines = (FIXTURE / "events.jsonl").read_text("utf-8").splitlines()[1:]
    for line, event in zip(lines, read_run(FIXTURE).events, strict=True):
        assert json.dumps(encode_event(event), ensure_ascii=False) == line


def test_the_steps_fold_from_the_logged_run() -> None:
    steps = StepFolder.of(read_run(FIXTURE).events).in_number_order()
    assert [step.status for step in steps] == [OK] * 5 + [REJECTED] * 3 + [OK, OK, FAILED, OK]
    assert steps[6].errors == ["not approved: typing 'sudo': runs a command with more rights"]
    assert steps[7].errors == ["key super+l refused: super+l locks the screen"]
    assert steps[5].retries and steps[5].rejections


# ---- what a newer version (or a damaged file) wrote


def test_an_unknown_kind_reads_as_an_unknown_event_and_the_rest_still_reads(
    tmp_path: Path,
) -> None:
    folder = _copy(tmp_path)
    lines = (folder / "events.jsonl").read_text("utf-8").splitlines(keepends=True)
    newer = {"kind": "screen_recorded", "step": 3, "seconds": 2.5, "at": 1.0}
    misfit = {"kind": "step_started", "step": "three", "at": 1.0}
    added = [json.dumps(newer) + "\n", json.dumps(misfit) + "\n"]
    (folder / "events.jsonl").write_text("".join([*lines[:20], *added, *lines[20:]]), "utf-8")

    record = read_run(folder)
    unknown = record.events_of(UnknownEvent)
    assert unknown == [UnknownEvent("screen_recorded", newer), UnknownEvent("step_started", misfit)]
    known = [event for event in record.events if not isinstance(event, UnknownEvent)]
    assert known == read_run(FIXTURE).events
    # Shown as before, and written back as they were.
    assert _shain("show", str(folder)) == _golden("show.txt", folder)
    events = json.loads(_shain("show", str(folder), "--json"))["events"]
    assert events[19:21] == [newer, misfit]


def test_an_action_that_no_longer_parses_is_kept_and_shown_as_unreadable(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    path = folder / "events.jsonl"
    teleport = {"kind": "teleport", "to": "the moon"}
    text = path.read_text("utf-8").replace(
        '"actions": [{"kind": "click", "x": 640, "y": 360, "button": "left", "count": 1}]',
        f'"actions": [{json.dumps(teleport)}]',
    )
    path.write_text(text, "utf-8")

    first = read_run(folder).events_of(Decided)[0]
    (action,) = first.actions
    assert isinstance(action, UnreadableAction) and action.data == teleport
    assert "teleport" in action.error
    assert encode_event(first)["actions"] == [teleport]
    step = StepFolder.of(read_run(folder).events).in_number_order()[0]
    assert step.action_lines == ['unreadable action {"kind": "teleport", "to": "the moon"}']
    assert "unreadable action {&quot;kind&quot;: &quot;teleport&quot;" in render_report(folder)


# ---- the outputs that must not change


def test_show_prints_what_it_printed() -> None:
    assert _shain("show", str(FIXTURE)) == _golden("show.txt", FIXTURE)
    assert _shain("show", str(FIXTURE), "--json") == _golden("show.json", FIXTURE)


def test_export_writes_what_it_wrote(tmp_path: Path) -> None:
    output = tmp_path / "trajectory.jsonl"
    _shain("export", str(FIXTURE), "-o", str(output))
    assert output.read_text("utf-8") == _golden("trajectory.jsonl", FIXTURE)


def test_the_report_shows_what_it_showed(tmp_path: Path) -> None:
    output = tmp_path / "report.html"
    result = run_shain("report", str(FIXTURE), "-o", str(output), env=_utc())
    assert result.returncode == 0, result.stderr
    assert report_markup(output.read_text("utf-8")) == _golden("report.html", FIXTURE)


def _utc() -> dict[str, str]:
    """The report shows local times: the golden was made in UTC."""
    return {**os.environ, "TZ": "UTC"}


def test_the_console_prints_the_lines_show_prints() -> None:
    record = read_run(FIXTURE)
    console = io.StringIO()
    sink = ConsoleSink(console)
    for event in record.events:
        assert not isinstance(event, UnknownEvent)
        sink.handle(event)
    shown = _golden("show.txt", FIXTURE).splitlines()
    printed = console.getvalue().splitlines()
    assert printed[0] == f"run {record.run_id}: task 'every-event' on a 1920x1080 screen"
    assert printed[1:] == shown[1:-1]  # show's own first and last lines sum the run up


# ---- every kind of event, written and read back


def _every_event() -> list[Event]:
    frame = Frame(np.zeros((48, 64, 4), np.uint8), time.monotonic())
    drag = Drag((Point(1, 2), Point(30, 40), Point(50, 45)), button="right")
    return [
        RunStarted(
            "run-1", "every kind", "a goal — ゴール", "scripted", Size(64, 48), "/w", at=1.0
        ),
        SetupDone("launch xterm", 0.25, at=1.5),
        StepStarted(1, at=2.0),
        Observed(1, frame, 0.01, at=2.1),
        Decided(
            1,
            (Click(10, 20, "right", 2), TypeText("こんにちは\n"), drag, Wait(0.5)),
            "thinking",
            1.25,
            1200,
            40,
            0.0036,
            '{"raw": true}',
            Healed(3, "click on button 'Send'", Unmet.NOT_FOUND, "nothing matches — 何も"),
            at=2.2,
        ),
        ReplyRejected(1, "not JSON", 0.5, at=2.3),
        ModelRetried(2, "HTTP 429", 1.5, at=2.4),
        ApprovalRequested("typing 'sudo'", 1, TypeText("sudo true"), at=2.5),
        ApprovalRequested("the model raised safety checks", at=2.55),
        ApprovalAnswered(False, "task file", at=2.6),
        ActionRejected(1, KeyPress(("super", "l")), "locks the screen", at=2.7),
        ActionExecuted(1, Scroll(5, 6, scroll_x=-1, scroll_y=3), 0.1, 0.2, False, True, at=2.8),
        ActionExecuted(1, Move(7, 8), 0.1, 0.2, True, False, at=2.85),
        ActionContext(
            1,
            "Send — Mail",
            Box(10, 20, 300, 200),
            PointedElement("button", "Send", "Send — Mail", 2, 3, Box(40, 50, 60, 24)),
            ("Send — Mail", "galculator"),
            "Send — Mail",
            at=2.86,
        ),
        ActionContext(1, windows=("galculator",), at=2.87),
        RepairProposed("/tasks/mail.healed.yaml", (3,), "-  name: Send\n+  name: Submit", at=2.88),
        ActionFailed(1, drag, "no pointer", at=2.9),
        Decided(
            2, (Done("all done"), Fail("no"), AskBoss("which one?")), "", 0.0, by=SCRIPT, at=3.0
        ),
        Decided(2, (), "", 0.0, by=MODEL, at=3.005),
        QuestionAsked(2, "which one?", at=3.01),
        Paused("no answer from the boss for 120s", at=3.02),
        Resumed(at=3.03),
        QuestionAnswered(2, "the second — 二つ目", "boss", at=3.04),
        TakenOver("boss", at=3.05),
        HandedBack(4.5, at=3.06),
        CheckEvaluated("file note.txt exists", False, "it does not", at=3.1),
        RunFinished(RunStatus.CRASHED, 1, "internal error", 2, 3.5, 1200, 40, 0.0036, at=3.2),
    ]


def test_every_event_class_written_reads_back_equal(tmp_path: Path) -> None:
    events = _every_event()
    assert {type(event) for event in events} == set(typing.get_args(Event))
    log = RunLog.create(tmp_path / "runs", "every kind", {})
    for event in events:
        log.handle(event)
    log.close()

    record = read_run(log.folder)
    expected = [
        dataclasses.replace(event, frame=None, frame_file=f"frames/step-{event.step:04d}.jpg")
        if isinstance(event, Observed)
        else event
        for event in events
    ]
    assert record.events == expected
    assert record.status is RunStatus.CRASHED
    assert [decode_event(encode_event(event)) for event in expected] == expected


def test_who_decided_reads_back_and_an_older_log_says_nothing() -> None:
    healed = Healed(1, "wait for a window titled /Mail/", Unmet.TIMED_OUT, "waited 5s")
    decided = Decided(4, (Click(1, 2),), "", 0.1, by=healed, at=1.0)
    written = encode_event(decided)
    assert written["by"] == {
        "kind": "healed", "step": 1, "what": "wait for a window titled /Mail/",
        "why": "timed_out", "detail": "waited 5s",
    }  # fmt: skip
    assert decode_event(written) == decided
    assert decode_event({**written, "by": {"kind": "script"}}) == dataclasses.replace(
        decided, by=SCRIPT
    )
    # An older log does not say, and is written back without it; a kind from a newer version
    # reads as not said; a healed step with no reason this version knows does not fit.
    older = {key: value for key, value in written.items() if key != "by"}
    assert decode_event(older) == dataclasses.replace(decided, by=None)
    assert encode_event(decode_event(older)) == older
    assert decode_event({**written, "by": {"kind": "oracle-v2"}}) == dataclasses.replace(
        decided, by=None
    )
    broken = {**written, "by": {**written["by"], "why": "bored"}}
    assert decode_event(broken) == UnknownEvent("decided", broken)
