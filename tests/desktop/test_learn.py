"""`shain learn`: a successful run becomes a task file that does the task again with no model.

Benchmark tasks are done by a (fake) model whose judgement is the task's oracle: the oracle
runs first, and the fake answers each request with what it did there, in the screenshot's
pixels. Each model run is turned into a file, and the file run on a fresh virtual screen: it
must succeed (the task's own checks), as a plain script with no model. Runs go in parallel
threads, each its own `shain run --virtual-display` process and screen.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from tests.helpers import REPO, TaskRun, run_shain, run_task
from tests.model_server import (
    ModelServer,
    chat_tool_call,
    click_the_mark_named,
    doing_as_the_oracle_did,
    the_oracles_actions,
)
from tests.run_json import read_run_json

pytestmark = pytest.mark.desktop

BENCH = REPO / "tasks" / "bench"
# Tasks whose oracle clicks by name, types, presses keys, drags, scrolls and waits.
LEARNED_TASKS = (
    "galculator-mouse",  # clicks on buttons by role and name
    "galculator-keys",
    "zenity-question",
    "zenity-entry",
    "zenity-checklist",
    "mousepad-type-save",  # a window that came up: wait_for
    "mousepad-find-replace",
    "mousepad-save-as",  # the oracle's wait for a file: a wait of its length
    "switch-windows",  # a click on a title bar: a point in its window
    "copy-between-apps",  # the run's workdir in window titles
)
SEED = "2"
PARALLEL = 6


def _model_learned_replayed(name: str, tmp_path: Path) -> tuple[str, TaskRun | str, Path]:
    """(task, the replay of the file learned from its model run or why there is none, the
    learned file)."""
    folder = tmp_path / name
    folder.mkdir()
    learned = folder / "learned.yaml"
    task = BENCH / f"{name}.yaml"
    oracle = run_task(task, folder, "--policy", "oracle", "--seed", SEED, workdir="oracle",
                      leaves_nothing=False)  # fmt: skip
    if oracle.code != 0:
        return name, f"the oracle failed: {oracle.result} {oracle.stderr[-300:]}", learned
    with ModelServer() as server:
        server.script(*doing_as_the_oracle_did(*the_oracles_actions(oracle.run_folder)))
        model = run_task(
            task, folder, "--policy", "openai-chat", "--base-url", server.base_url, "--seed",
            SEED, workdir="model", env={"OPENAI_API_KEY": "sk-test-learn"}, leaves_nothing=False,
        )  # fmt: skip
    if model.code != 0:
        return name, f"the model run failed: {model.result} {model.stderr[-300:]}", learned
    written = run_shain("learn", str(model.run_folder), "-o", str(learned))
    if written.returncode != 0:
        return name, f"learn failed: {written.stderr}", learned
    replay = run_task(learned, folder, "--seed", SEED, workdir="replay", leaves_nothing=False)
    return name, replay, learned


def test_model_runs_learned_replay_with_success_and_no_model(tmp_path: Path) -> None:
    with ThreadPoolExecutor(PARALLEL) as pool:
        results = list(pool.map(lambda n: _model_learned_replayed(n, tmp_path), LEARNED_TASKS))
    failures = {
        name: replay
        if isinstance(replay, str)
        else (replay.result.get("reason"), replay.stderr[-500:], learned.read_text())
        for name, replay, learned in results
        if isinstance(replay, str) or replay.code != 0
    }
    assert not failures, json.dumps(failures, indent=1)
    for name, replay, learned in results:
        assert not isinstance(replay, str)
        record = read_run_json(replay.run_folder)
        assert record.events_of("run_started")[0]["policy"] == "scripted", name
        assert replay.result["input_tokens"] == 0, name
        steps = yaml.safe_load(learned.read_text())["steps"]
        # Clicks name what they hit; none is a bare screen point.
        clicks = [s.get("click") or s.get("double_click") for s in steps]
        assert all("role" in c or "within" in c for c in clicks if c), (name, clicks)
    # The model clicked points; the file names what was under them.
    galculator = yaml.safe_load((tmp_path / "galculator-mouse" / "learned.yaml").read_text())
    first = galculator["steps"][0]["click"]
    assert first["role"] == "button" and first["within"] == {"window": "^galculator$"}
    assert first["name"] == galculator["vars"]["a_tens"]
    switch = yaml.safe_load((tmp_path / "switch-windows" / "learned.yaml").read_text())
    assert set(switch["steps"][0]["click"]) == {"x", "y", "within"}  # on the title bar
    for name in LEARNED_TASKS:
        runs = sorted((tmp_path / name / "runs").iterdir())
        model_run = next(
            record
            for record in map(read_run_json, runs)
            if record.events_of("run_started")[0]["policy"].startswith("openai-chat")
        )
        assert model_run.summary is not None and model_run.summary["input_tokens"] > 0, name
        assert {e["by"]["kind"] for e in model_run.events_of("decided")} == {"model"}, name


# A step recorded against a dialog whose button read "Send"; the dialog now reads {label}.
MAIL_TASK = """\
name: send-mail
goal: Send the report from the Mail dialog.
vars: {label: Send}
setup:
  - launch: >-
      sh -c 'zenity --question --title Mail --text "Send the report?" --ok-label {label}
      --cancel-label Later; echo $? > {workdir}/exit_code'
  - wait_for: {window: "^Mail$", timeout: 20}
steps:
  - click: {role: button, name: Send, within: {window: "^Mail$"}, timeout: 2}
  - wait_for: {file: "{workdir}/exit_code", timeout: 5}
checks:
  - file_equals: {path: "{workdir}/exit_code", text: "0"}
budget: {max_steps: 10, max_seconds: 60}
"""


def test_a_step_whose_button_was_renamed_fails_and_heals(tmp_path: Path) -> None:
    task = tmp_path / "mail.yaml"
    task.write_text(MAIL_TASK, encoding="utf-8")
    original = task.read_text()
    broken = run_task(task, tmp_path, "--var", "label=Submit", workdir="broken",
                      leaves_nothing=False)  # fmt: skip
    assert broken.code == 1, broken.result
    assert broken.result["reason"].startswith("step 1: nothing on the screen matches"), (
        broken.result
    )
    assert "'Send'" in broken.result["reason"]
    script = [e["by"] for e in read_run_json(broken.run_folder).events_of("decided")]
    assert script == [{"kind": "script"}]  # without --heal, the script's own failure
    with ModelServer() as server:
        server.script(click_the_mark_named("Submit"), chat_tool_call("done", {"summary": "sent"}))
        healed = run_task(
            task, tmp_path, "--var", "label=Submit", "--heal", "--policy", "openai-chat",
            "--marks", "--base-url", server.base_url, workdir="healed", leaves_nothing=False,
            env={"OPENAI_API_KEY": "sk-test-heal"},
        )  # fmt: skip
        asked = [json.dumps(request.body) for request in server.requests]
    assert healed.code == 0, (healed.result, healed.stderr)
    assert len(asked) == 2 and "Send" in asked[0] and "Send the report from" in asked[0]
    assert task.read_text() == original  # never changed
    proposed = tmp_path / "mail.healed.yaml"
    record = read_run_json(healed.run_folder)
    [event] = record.events_of("repair_proposed")
    assert event["path"] == str(proposed) and event["steps"] == [1]
    assert "+  - {click: {role: button, name: Submit" in event["diff"]
    # Each step says who decided it: the model in step 1's place (a click, then done), and
    # the script for the rest; `shain show` says how the step was healed.
    decided = [e["by"] for e in record.events_of("decided")]
    assert [by["kind"] for by in decided] == ["healed", "healed", "script", "script"]
    assert decided[0] == decided[1]
    assert (decided[0]["step"], decided[0]["why"]) == (1, "not_found")
    assert "'Send'" in decided[0]["what"] and "nothing on the screen" in decided[0]["detail"]
    shown = run_shain("show", str(healed.run_folder)).stdout.splitlines()
    assert "step    1 healed: the model did step 1 (click on" in shown[4]
    assert "): target not found" in shown[4] and "click left" in shown[5]
    assert shown[-2] == "decided: 2 script, 2 healed, 0 model"
    steps = yaml.safe_load(proposed.read_text())["steps"]
    assert steps[0] == {
        "click": {"role": "button", "name": "Submit", "within": {"window": "^Mail$"}}
    }
    assert steps[1] == {"wait_for": {"file": "{workdir}/exit_code", "timeout": 5}}
    # The proposed file replays against the renamed dialog with no model.
    again = run_task(proposed, tmp_path, "--var", "label=Submit", workdir="again",
                     leaves_nothing=False)  # fmt: skip
    assert again.code == 0, again.result
