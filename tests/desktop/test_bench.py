"""`shain bench` and the task-file features benchmark tasks use, run for real on virtual screens.

The suite's own controls (oracle 100%, do-nothing 0%, another seed's oracle 0%) are one test
over every task in tasks/bench; the fake model stands in only for a model's judgement.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO, environment_without_display, left_behind, run_shain, run_task
from tests.model_server import ModelServer, Request, chat_tool_call

pytestmark = pytest.mark.desktop

BENCH = REPO / "tasks" / "bench"


def _run(task_text: str, tmp_path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    run = run_task(task_text, tmp_path, *extra)
    return run.code, run.result


SETUP_TASK = """\
name: setup-demo
goal: nothing to do
setup:
  - write_file: {path: "notes/a.txt", text: "{word}"}
  - run: "cp notes/a.txt notes/b.txt && {last}"
steps:
  - wait: 0
checks:
  - file_equals: {path: "{workdir}/notes/b.txt", text: "{word}"}
vars: {word: tanuki}
"""


def test_setup_writes_files_and_runs_commands_in_the_workdir(tmp_path: Path) -> None:
    code, result = _run(SETUP_TASK, tmp_path, "--var", "last=true")
    assert (code, result["status"]) == (0, "success"), result


def test_a_failing_setup_command_is_an_environment_error_naming_it(tmp_path: Path) -> None:
    code, result = _run(SETUP_TASK, tmp_path, "--var", "last=echo disk full >&2; exit 3")
    assert code == 4
    assert "exit 3' exited with 3: disk full" in result["reason"]


INFEASIBLE = """\
name: infeasible-demo
goal: Send the report by fax
steps:
  - wait: 0
oracle:
  - fail: there is no fax machine here
checks:
  - command: {run: "true"}
expect: fail
"""


@pytest.mark.parametrize(
    ("policy", "code", "status", "declared"),
    [("oracle", 0, "success", "fail"), ("do-nothing", 1, "failed", "done")],
)
def test_an_impossible_task_succeeds_only_when_the_agent_says_fail(
    tmp_path: Path, policy: str, code: int, status: str, declared: str
) -> None:
    exit_code, result = _run(INFEASIBLE, tmp_path, "--policy", policy)
    assert (exit_code, result["status"], result["declared"]) == (code, status, declared)
    if policy == "do-nothing":
        assert "cannot be done, yet the agent said done" in result["reason"]


def _bench(
    tmp_path: Path, *arguments: str, env: dict[str, str] | None = None
) -> tuple[int, str, dict[str, Any]]:
    environment = env or environment_without_display()
    result = run_shain(
        "bench", "-o", str(tmp_path / "bench"), *arguments, env=environment, timeout=900
    )
    assert not left_behind(environment)
    summary_file = tmp_path / "bench" / "summary.json"
    summary = json.loads(summary_file.read_text()) if summary_file.exists() else {}
    return result.returncode, result.stdout + result.stderr, summary


def test_the_controls_hold_on_every_task_for_two_seeds(tmp_path: Path) -> None:
    tasks = sorted(BENCH.glob("*.yaml"))
    assert len(tasks) >= 20, [task.name for task in tasks]
    code, output, summary = _bench(tmp_path, "--controls", "--seeds", "2", "--parallel", "3")
    broken = [line for line in output.splitlines() if "control broken" in line]
    assert code == 0 and summary["controls_hold"], "\n".join(broken) or output[-3000:]
    groups = summary["groups"]
    assert groups["oracle"]["overall"]["success_rate"] == 1.0
    assert groups["do-nothing"]["overall"]["success_rate"] == 0.0
    assert groups["other-seed"]["overall"]["success_rate"] == 0.0
    assert groups["oracle"]["overall"]["runs"] == 2 * len(tasks)
    markdown = (tmp_path / "bench" / "summary.md").read_text()
    assert "all controls hold" in markdown and "| mousepad-type-save |" in markdown


def test_a_task_whose_checks_ignore_the_seed_breaks_a_control(tmp_path: Path) -> None:
    folder = tmp_path / "tasks"
    folder.mkdir()
    # The check looks neither at the work nor at {word}: do-nothing and the other seed's
    # oracle pass it too, and the controls say so.
    (folder / "weak.yaml").write_text(
        "name: weak\ngoal: write {word} into a file\nsteps:\n  - wait: 0\n"
        "oracle:\n  - wait_for: {file: '{workdir}', timeout: 1}\n"
        "checks:\n  - command: {run: 'test -d {workdir}'}\n"
        "params:\n  word: [ant, bee, cat, dog, eel]\n",
        encoding="utf-8",
    )
    code, output, summary = _bench(
        tmp_path, "--controls", "--seeds", "2", "--tasks-dir", str(folder)
    )
    assert code == 1
    assert not summary["controls_hold"]
    assert set(summary["broken_controls"]) == {
        f"weak seed {seed} {control}: success"
        for seed in (1, 2)
        for control in ("do-nothing", "other-seed")
    }
    assert "control broken" in output


def _solve_by_reading_the_goal(request: Request) -> Any:
    """The model's judgement: type the sentence the goal quotes, save, say done."""
    text = json.dumps(request.body)
    turns = len(re.findall(r"step \d+: ", text))  # the prompt's "Steps so far" lines
    sentence = re.search(r'the sentence \\"(.+?)\\"', text)
    assert sentence is not None, text[:500]
    actions = [
        ("computer", {"type": "type", "text": sentence.group(1)}),
        ("computer", {"type": "keypress", "keys": ["CTRL", "S"]}),
        ("done", {"summary": "typed and saved"}),
    ]
    name, arguments = actions[min(turns, 2)]
    return chat_tool_call(name, arguments, usage=(1000, 50))


def test_bench_scores_a_model_endpoint(tmp_path: Path) -> None:
    environment = environment_without_display()
    environment["OPENAI_API_KEY"] = "sk-bench-secret-key"
    environment["SHAIN_CONFIG"] = str(tmp_path / "config.toml")
    with ModelServer() as server:
        server.script(*[_solve_by_reading_the_goal] * 3, chat_tool_call("done", {"summary": "x"}))
        code, output, summary = _bench(
            tmp_path, "--policy", "openai-chat", "--base-url", server.base_url,
            "--tasks", "mousepad-type-save", "--seeds", "2", env=environment,
        )  # fmt: skip
    assert code == 0, output[-2000:]
    overall = summary["groups"]["openai-chat"]["overall"]
    # Seed 1 solved in 3 steps; seed 2's model said done at once: a false done.
    assert (overall["runs"], overall["successes"]) == (2, 1), output[-2000:]
    assert overall["false_done_rate"] == 0.5
    assert overall["input_tokens"] == 3 * 1000 + 100 and overall["output_tokens"] == 3 * 50 + 20
    assert overall["model_seconds"] > 0 and overall["environment_seconds"] > 0
    assert "sk-bench-secret-key" not in (tmp_path / "bench" / "summary.json").read_text()
