"""A real run whose steps were decided three ways, for the report's and the viewer's tests:
by the script, by the model (an `ai:` step) and by the model standing in for a script step
whose button was renamed (`--heal`: "Send" now reads "Submit").

Its steps: 1 the script presses Tab; 2-3 the model, on the `ai:` step, presses Tab and says
done; 4-5 the script's click on "Send" finds nothing, and the model clicks "Submit" in its
place and says done; 6 the script waits for the dialog's answer; 7 the script is done.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import TaskRun, run_task
from tests.model_server import ModelServer, chat_tool_call, click_the_mark_named

TASK = """\
name: decided-three-ways
goal: Send the report from the Mail dialog.
setup:
  - launch: >-
      sh -c 'zenity --question --title Mail --text "Send the report?" --ok-label Submit
      --cancel-label Later; echo $? > {workdir}/exit_code'
  - wait_for: {window: "^Mail$", timeout: 20}
steps:
  - key: tab
  - ai: Press Tab once to move the keyboard focus, then say done.
  - click: {role: button, name: Send, within: {window: "^Mail$"}, timeout: 1}
  - wait_for: {file: "{workdir}/exit_code", timeout: 5}
checks:
  - file_equals: {path: "{workdir}/exit_code", text: "0"}
budget: {max_steps: 12, max_seconds: 60}
"""
# (runner step, who decided) as the run log must say it
DECIDED = [(1, "script"), (2, "model"), (3, "model"), (4, "healed"), (5, "healed"),
           (6, "script"), (7, "script")]  # fmt: skip
HOW = "step 3 (click on {role: 'button', name: 'Send', within window: '^Mail$'}): target not found"


def run_decided_three_ways(tmp: Path) -> TaskRun:
    """The run, made in `tmp` (the task file, its proposed repair, runs/ and the workdir)."""
    task = tmp / "mail.yaml"
    task.write_text(TASK, encoding="utf-8")
    with ModelServer() as server:
        server.script(
            chat_tool_call("computer", {"type": "keypress", "keys": ["TAB"]}),
            chat_tool_call("done", {"summary": "moved the focus"}),
            click_the_mark_named("Submit"),
            chat_tool_call("done", {"summary": "sent"}),
        )
        run = run_task(
            task, tmp, "--heal", "--policy", "openai-chat", "--marks", "--base-url",
            server.base_url, env={"OPENAI_API_KEY": "sk-test-three-ways"}, leaves_nothing=False,
        )  # fmt: skip
    assert run.code == 0, (run.result, run.stderr[-2000:])
    return run
