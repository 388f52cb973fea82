"""A model run through `shain run` against a real HTTP server speaking the OpenAI protocol:
retries, timeouts, malformed replies, an unreachable server, and the API key kept secret."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import run_shain, run_task
from tests.model_server import (
    Hang,
    ModelServer,
    chat_tool_call,
    error_reply,
    responses_computer_call,
    responses_message,
)
from tests.run_json import read_run_json

pytestmark = pytest.mark.desktop

API_KEY = "sk-test-Sh41nK3y-do-not-log-0123456789"

TASK = """\
name: model-task
goal: Check that the screen is there, then say done.
budget: {max_steps: 10, max_seconds: 60}
"""


@pytest.fixture
def server() -> Iterator[ModelServer]:
    with ModelServer() as running:
        yield running


def _run(
    tmp_path: Path, base_url: str, *extra: str, config: str = "", task_text: str = TASK
) -> tuple[int, dict[str, object], str]:
    (tmp_path / "config.toml").write_text(config)
    environment = {"OPENAI_API_KEY": API_KEY, "SHAIN_CONFIG": str(tmp_path / "config.toml")}
    model = ("--policy", "openai-chat", "--model", "test-model", "--base-url", base_url)
    run = run_task(task_text, tmp_path, *model, *extra, env=environment, leaves_nothing=False)
    return run.code, run.result, run.stderr


def _folder(data: dict[str, object]) -> Path:
    return Path(str(data["run_folder"]))


def _no_key_anywhere(folder: Path, *texts: str) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            assert API_KEY.encode() not in path.read_bytes(), f"the API key is in {path}"
    for text in texts:
        assert API_KEY not in text


def test_two_429s_then_success(server: ModelServer, tmp_path: Path) -> None:
    server.script(
        error_reply(429, "slow down", retry_after=0.2),
        error_reply(429, "slow down again", retry_after=0.2),
        chat_tool_call("done", {"summary": "the screen is there"}, usage=(1200, 30)),
    )
    code, data, stderr = _run(tmp_path, server.base_url)
    assert code == 0, (data, stderr)
    record = read_run_json(_folder(data))
    retries = record.events_of("model_retried")
    assert [event["attempt"] for event in retries] == [1, 2]
    assert all("HTTP 429" in event["reason"] and event["wait_seconds"] == 0.2 for event in retries)
    # Retry-After was honoured: the three requests are at least 0.2 s apart.
    times = [request.received_at for request in server.requests]
    assert times[1] - times[0] >= 0.19 and times[2] - times[1] >= 0.19
    assert data["input_tokens"] == 1200 and data["output_tokens"] == 30
    (decided,) = record.events_of("decided")
    assert "the screen is there" in decided["raw_reply"]  # the reply as the model gave it
    _no_key_anywhere(_folder(data), stderr, json.dumps(data))


def test_a_500_and_a_request_that_hangs_are_retried(server: ModelServer, tmp_path: Path) -> None:
    server.script(
        error_reply(500, "the server had an error"),
        Hang(3.0),
        chat_tool_call("done", {"summary": "ok"}),
    )
    config = '[profiles.quick]\npolicy = "openai-chat"\ntimeout_seconds = 0.7\n'
    code, data, stderr = _run(tmp_path, server.base_url, "--profile", "quick", config=config)
    assert code == 0, (data, stderr)
    reasons = [event["reason"] for event in read_run_json(_folder(data)).events_of("model_retried")]
    assert len(reasons) == 2
    assert "HTTP 500" in reasons[0] and "no answer within 0.7s" in reasons[1]


def test_three_malformed_replies_end_the_run_and_nothing_runs(
    server: ModelServer, tmp_path: Path
) -> None:
    server.script(
        chat_tool_call("computer", '{"type": "click", "x": 10, '),  # not JSON
        chat_tool_call("computer", {"type": "clik", "x": 10, "y": 10}),  # no such action
        chat_tool_call("computer", {"type": "click", "x": 5000, "y": 10}),  # off the image
    )
    code, data, stderr = _run(tmp_path, server.base_url)
    assert code == 1, (data, stderr)
    assert "3 unusable model replies in a row" in str(data["reason"])
    assert "outside the 1280x720 screenshot" in str(data["reason"])
    record = read_run_json(_folder(data))
    rejected = record.events_of("reply_rejected")
    assert len(rejected) == 3
    assert "not valid JSON" in rejected[0]["error"] and "'clik'" in rejected[1]["error"]
    assert record.events_of("action_executed") == [] and record.events_of("action_failed") == []
    # Each error went back to the model in the next request.
    second = json.dumps(server.requests[1].body, ensure_ascii=False)
    assert "not valid JSON" in second
    _no_key_anywhere(_folder(data), stderr)


def test_an_unreachable_server_is_an_environment_error_naming_the_url(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again when the block ends: nobody listens
    url = f"http://127.0.0.1:{port}/v1"
    code, data, stderr = _run(tmp_path, url)
    assert code == 4, (data, stderr)
    assert f"cannot reach the model at {url}" in str(data["reason"])
    assert "Traceback" not in stderr


def test_the_same_action_with_no_change_three_times_is_stuck(
    server: ModelServer, tmp_path: Path
) -> None:
    click = chat_tool_call("computer", {"type": "move", "x": 600, "y": 300})
    server.script(click, click, click, chat_tool_call("done", {"summary": "never reached"}))
    code, data, _ = _run(tmp_path, server.base_url)
    assert code == 1
    assert "repeated 3 times with no change on the screen" in str(data["reason"])
    assert len(read_run_json(_folder(data)).events_of("action_executed")) == 3


def test_a_cost_budget_ends_the_run_with_exit_3_saying_which(
    server: ModelServer, tmp_path: Path
) -> None:
    move = chat_tool_call("computer", {"type": "move", "x": 600, "y": 300}, usage=(1000, 200))
    server.script(move, chat_tool_call("done", {"summary": "never reached"}))
    config = (
        '[profiles.priced]\npolicy = "openai-chat"\n'
        "price_input_per_million = 10.0\nprice_output_per_million = 30.0\n"
    )
    task = TASK.replace("max_steps: 10", "max_steps: 10, max_cost_usd: 0.01")
    code, data, _ = _run(
        tmp_path, server.base_url, "--profile", "priced", config=config, task_text=task
    )
    assert code == 3
    assert "cost budget of $0.01 used up" in str(data["reason"])
    assert data["cost_usd"] == pytest.approx(0.016)  # 1000 x $10/M + 200 x $30/M
    assert json.loads((_folder(data) / "summary.json").read_text())["cost_usd"] == 0.016


CHECK = {
    "id": "sc_1",
    "code": "malicious_instructions",
    "message": "The screen asks to wire money.",
}


@pytest.mark.parametrize("answer", ["deny", "approve"])
def test_safety_checks_are_answered_by_the_task_file(
    server: ModelServer, tmp_path: Path, answer: str
) -> None:
    server.script(
        responses_computer_call(
            {"type": "move", "x": 640, "y": 360}, pending_safety_checks=[CHECK], call_id="c1"
        ),
        responses_message("All done."),
    )
    task = TASK if answer == "deny" else TASK + "approvals: approve\n"
    code, data, _ = _run(tmp_path, server.base_url, "--policy", "openai-cua", task_text=task)
    record = read_run_json(_folder(data))
    (asked,) = record.events_of("approval_requested")
    (answered,) = record.events_of("approval_answered")
    assert "malicious_instructions" in asked["reason"]
    assert answered["by"] == "task file"
    if answer == "deny":
        assert code == 1
        assert "the boss did not approve: malicious_instructions" in str(data["reason"])
        assert answered["approved"] is False
        assert record.events_of("action_executed") == []
        assert len(server.requests) == 1
    else:
        assert code == 0, data
        assert answered["approved"] is True
        assert [e["action"]["kind"] for e in record.events_of("action_executed")] == ["move"]
        (output,) = server.requests[1].body["input"][:1]
        assert output["acknowledged_safety_checks"] == [CHECK]


def test_a_run_exports_as_a_trajectory(server: ModelServer, tmp_path: Path) -> None:
    server.script(
        chat_tool_call("computer", {"type": "clik", "x": 1, "y": 1}),
        chat_tool_call("computer", {"type": "move", "x": 640, "y": 360}, content="Moving."),
        chat_tool_call("done", {"summary": "finished"}, usage=(500, 5)),
    )
    code, data, _ = _run(tmp_path, server.base_url)
    assert code == 0
    output = tmp_path / "trajectory.jsonl"
    result = run_shain("export", str(data["run_folder"]), "-o", str(output))
    assert result.returncode == 0 and "3 steps" in result.stdout
    steps = [json.loads(line) for line in output.read_text().splitlines()]
    assert [entry["step"] for entry in steps] == [1, 2, 3]
    assert "'clik'" in steps[0]["rejected"] and steps[0]["actions"] == []
    assert steps[1]["thought"] == "Moving."
    assert steps[1]["actions"] == [{"kind": "move", "x": 960, "y": 540}]  # screen pixels
    assert steps[1]["results"][0]["ok"] is True
    assert all(Path(entry["screenshot"]).is_file() for entry in steps)
    assert steps[2]["usage"]["input_tokens"] == 500
