"""`shain learn`: a successful run becomes a task file that does the task again with no model.

Benchmark tasks are solved by their oracle, each run turned into a file, and the file run on a
fresh virtual screen: it must succeed (the task's own checks), as a plain script. Runs go in
parallel threads, each its own `shain run --virtual-display` process and screen.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from tests.helpers import REPO, TaskRun, run_shain, run_task
from tests.model_server import ModelServer, Reply, Request, chat_tool_call, click_the_mark_named
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


def _learn(run: TaskRun, output: Path) -> str:
    assert run.code == 0, (run.result, run.stderr)
    learned = run_shain("learn", str(run.run_folder), "-o", str(output))
    assert learned.returncode == 0, learned.stderr
    return learned.stdout


def _oracle_learned_replayed(name: str, tmp_path: Path) -> tuple[str, TaskRun | str, Path]:
    """(task, the replay of its learned file or why there is none, the learned file)."""
    folder = tmp_path / name
    folder.mkdir()
    learned = folder / "learned.yaml"
    oracle = run_task(BENCH / f"{name}.yaml", folder, "--policy", "oracle", "--seed", SEED,
                      workdir="oracle", leaves_nothing=False)  # fmt: skip
    if oracle.code != 0:
        return name, f"the oracle failed: {oracle.result} {oracle.stderr[-300:]}", learned
    written = run_shain("learn", str(oracle.run_folder), "-o", str(learned))
    if written.returncode != 0:
        return name, f"learn failed: {written.stderr}", learned
    replay = run_task(learned, folder, "--seed", SEED, workdir="replay", leaves_nothing=False)
    return name, replay, learned


def _galculator_by_marks(request: Request) -> Reply:
    """The model's judgement on galculator-mouse: from the goal's sum, the next button to
    click by its mark (the listing names them), then ctrl+c, then done."""
    text = json.dumps(request.body, ensure_ascii=False)
    total = re.search(r"compute (\d+) \+ (\d+)", text)
    assert total is not None, text[:800]
    plan = [*total.group(1), "+", *total.group(2), "="]
    taken = len(re.findall(r"step \d+: ", text))  # the prompt's "Steps so far" lines
    if taken < len(plan):
        label = re.escape(plan[taken])
        mark = re.search(rf"\[(\d+)\] [a-z ]+'{label}' in 'galculator'", text)
        assert mark is not None, text[-1500:]
        return chat_tool_call("computer", {"type": "click", "mark": int(mark.group(1))})
    if taken == len(plan):
        return chat_tool_call("computer", {"type": "keypress", "keys": ["CTRL", "C"]})
    return chat_tool_call("done", {"summary": "copied the sum"})


def _model_learned_replayed(tmp_path: Path) -> tuple[str, TaskRun | str, Path]:
    """galculator-mouse done by a (fake) model, learned, and replayed without it."""
    folder = tmp_path / "by-model"
    folder.mkdir()
    learned = folder / "learned.yaml"
    with ModelServer() as server:
        server.script(*([_galculator_by_marks] * 12))
        model = run_task(
            BENCH / "galculator-mouse.yaml", folder, "--policy", "openai-chat", "--marks",
            "--base-url", server.base_url, "--seed", SEED, workdir="model",
            env={"OPENAI_API_KEY": "sk-test-learn"}, leaves_nothing=False,
        )  # fmt: skip
    if model.code != 0:
        return "by-model", f"the model run failed: {model.result} {model.stderr[-300:]}", learned
    written = run_shain("learn", str(model.run_folder), "-o", str(learned))
    if written.returncode != 0:
        return "by-model", f"learn failed: {written.stderr}", learned
    replay = run_task(learned, folder, "--seed", SEED, workdir="replay", leaves_nothing=False)
    return "by-model", replay, learned


def test_oracle_and_model_runs_learned_replay_with_success_and_no_model(tmp_path: Path) -> None:
    with ThreadPoolExecutor(PARALLEL) as pool:
        model = pool.submit(_model_learned_replayed, tmp_path)
        results = list(pool.map(lambda n: _oracle_learned_replayed(n, tmp_path), LEARNED_TASKS))
        results.append(model.result())
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
    for folder in ("galculator-mouse", "by-model"):
        galculator = yaml.safe_load((tmp_path / folder / "learned.yaml").read_text())
        first = galculator["steps"][0]["click"]
        assert first["role"] == "button" and first["within"] == {"window": "^galculator$"}
        assert first["name"] == galculator["vars"]["a_tens"]
    switch = yaml.safe_load((tmp_path / "switch-windows" / "learned.yaml").read_text())
    assert set(switch["steps"][0]["click"]) == {"x", "y", "within"}  # on the title bar
    model_run = read_run_json(min((tmp_path / "by-model" / "runs").iterdir()))  # the first
    assert model_run.summary is not None and model_run.summary["input_tokens"] > 0
    assert {e["by"]["kind"] for e in model_run.events_of("decided")} == {"model"}


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
