"""The replay policy: an earlier run's decisions from its run log, again, in order."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from agent.actions import Action, Click, Done, Drag, KeyPress, Scroll, TypeText, Wait
from agent.desktop.protocol import Frame
from agent.errors import ConfigError
from agent.geometry import Point, Size
from agent.policy.protocol import Observation, StepRecord
from agent.policy.replay import ReplayPolicy
from agent.record.events import Decided, RunFinished, StepStarted
from agent.record.log import RunLog
from agent.record.status import RunStatus

SCREEN = Size(64, 48)
OBSERVATION = Observation(1, Frame(np.zeros((48, 64, 4), np.uint8), time.monotonic()), SCREEN)

RECORDED: list[tuple[tuple[Action, ...], str]] = [
    ((Click(10, 20), TypeText("hello boss — こんにちは")), "click the field, then type"),
    ((), "nothing to do yet"),  # a decision with no actions: skipped
    ((KeyPress(("ctrl", "s")),), "save"),
    ((Drag((Point(1, 2), Point(30, 40), Point(50, 45))), Scroll(5, 6, scroll_y=-3)), "tidy"),
    ((Wait(0.5), Click(63, 47, button="right", count=2)), ""),
]


def _write_run(runs_dir: Path, decisions: list[tuple[tuple[Action, ...], str]]) -> Path:
    log = RunLog.create(runs_dir, "replay me", {"policy": "scripted"})
    try:
        for step, (actions, thought) in enumerate(decisions, start=1):
            log.handle(StepStarted(step))
            log.handle(Decided(step, actions, thought, decide_seconds=0.01))
        log.handle(RunFinished(RunStatus.SUCCESS, 0, "done", len(decisions), 1.0))
    finally:
        log.close()
    return log.folder


def _replay_all(policy: ReplayPolicy, limit: int = 20) -> list[tuple[Action, ...]]:
    history: list[StepRecord] = []
    decided = []
    for step in range(1, limit + 1):
        decision = policy.decide(OBSERVATION, history)
        decided.append(decision.actions)
        history.append(StepRecord(step, decision.actions, decision.thought))
        if any(isinstance(action, Done) for action in decision.actions):
            break
    return decided


def test_the_recorded_actions_come_back_step_by_step(tmp_path: Path) -> None:
    folder = _write_run(tmp_path, RECORDED)
    policy = ReplayPolicy(folder)
    assert policy.name == "replay"
    assert policy.source == folder.name

    decided = _replay_all(policy)
    with_actions = [actions for actions, _ in RECORDED if actions]
    assert decided[:-1] == with_actions
    assert decided[-1] == (Done(f"replayed 4 decisions of {folder.name}"),)


def test_the_thoughts_say_where_the_replay_is(tmp_path: Path) -> None:
    policy = ReplayPolicy(_write_run(tmp_path, RECORDED))
    thoughts = [policy.decide(OBSERVATION, ()).thought for _ in range(4)]
    assert thoughts[0] == "replay 1/4: click the field, then type"
    assert thoughts[1] == "replay 2/4: save"
    assert thoughts[3] == "replay 4/4: "


def test_after_the_last_decision_the_replay_keeps_saying_done(tmp_path: Path) -> None:
    folder = _write_run(tmp_path, RECORDED[:1])
    policy = ReplayPolicy(folder)
    policy.decide(OBSERVATION, ())
    done = (Done(f"replayed 1 decisions of {folder.name}"),)
    assert policy.decide(OBSERVATION, ()).actions == done
    assert policy.decide(OBSERVATION, ()).actions == done


def test_two_replays_of_one_run_are_alike(tmp_path: Path) -> None:
    folder = _write_run(tmp_path, RECORDED)
    assert _replay_all(ReplayPolicy(folder)) == _replay_all(ReplayPolicy(folder))


def test_a_run_cut_off_mid_line_replays_what_was_written(tmp_path: Path) -> None:
    folder = _write_run(tmp_path, RECORDED[:3])
    with open(folder / "events.jsonl", "a", encoding="utf-8") as events:
        events.write('{"kind": "decided", "step": 4, "actions": [{"kind": "cli')  # torn
    decided = _replay_all(ReplayPolicy(folder))
    assert decided[:-1] == [RECORDED[0][0], RECORDED[2][0]]


def test_a_run_with_no_decisions_is_a_config_error(tmp_path: Path) -> None:
    folder = _write_run(tmp_path, [])
    with pytest.raises(ConfigError) as raised:
        ReplayPolicy(folder)
    assert str(raised.value) == f"{folder}: the run recorded no actions to replay"


def test_a_run_whose_decisions_were_all_empty_is_a_config_error(tmp_path: Path) -> None:
    folder = _write_run(tmp_path, [((), "looking"), ((), "still looking")])
    with pytest.raises(ConfigError, match="recorded no actions to replay"):
        ReplayPolicy(folder)


def test_a_missing_folder_is_a_config_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-run"
    with pytest.raises(ConfigError) as raised:
        ReplayPolicy(missing)
    message = str(raised.value)
    assert str(missing) in message
    assert "not a run folder" in message


def test_a_folder_that_is_not_a_run_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"no events\.jsonl"):
        ReplayPolicy(tmp_path)


def test_a_recorded_action_that_no_longer_parses_names_its_step(tmp_path: Path) -> None:
    folder = _write_run(tmp_path, RECORDED[:1])
    bad = {"kind": "decided", "step": 2, "actions": [{"kind": "teleport", "x": 1}]}
    with open(folder / "events.jsonl", "a", encoding="utf-8") as events:
        events.write(json.dumps(bad) + "\n")
    with pytest.raises(ConfigError) as raised:
        ReplayPolicy(folder)
    message = str(raised.value)
    assert str(folder) in message
    assert "step 2" in message
    assert "teleport" in message
