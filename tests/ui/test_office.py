"""The office in this process (real Qt offscreen): real employees, each a `shain run` process on
a screen of its own, followed through their control channels. A question from a model reaches
the boss's card and the answer reaches the model; an employee killed outright shows as crashed
and leaves nothing behind; an app that will not start fails only its own task."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from agent.config.profiles import Config
from agent.office.employee import EmployeeOrder
from agent.record.events import RunFinished
from agent.record.log import read_run
from tests.helpers import (
    ARTIFACTS,
    MARKER,
    REPO,
    environment_without_display,
    left_behind,
    living_processes,
)
from tests.model_server import ModelServer, Reply, Request, chat_tool_call
from ui.office.office import CRASHED, DONE, FAILED, NEEDS_YOU, WORKING, Employee, Office
from ui.office.office_window import OfficeWindow
from ui.tray.task_dialog import TaskDialog

pytestmark = pytest.mark.desktop

WAITS = """\
name: waits-for-a-sign
goal: Wait until the sign file is there.
setup:
  - launch: {command: "xterm -title waiting -e top", window: 20}
steps:
  - wait_for: {file: "{workdir}/sign", timeout: 90}
budget: {max_steps: 5, max_seconds: 120}
"""
QUESTION = "Which name should the report file have?"
ANSWER = "quarterly-report-2026.txt"
ASKS = """\
name: asks-the-boss
goal: Ask the boss what to name the report, then say done.
setup:
  - launch: {command: "xterm -title notes", window: 20}
budget: {max_steps: 6, max_seconds: 120}
"""


@pytest.fixture
def office(qtbot: QtBot, tmp_path: Path) -> Iterator[tuple[Office, OfficeWindow]]:
    office = Office(slots=3)
    window = OfficeWindow(office, tmp_path / "runs")
    qtbot.addWidget(window)
    window.show()
    yield office, window
    office.quit()
    window.shut()


def _order(tmp_path: Path, name: str, task: Path, *arguments: str, **env: str) -> EmployeeOrder:
    marker = environment_without_display()[MARKER]  # its processes carry it: count what is left
    return EmployeeOrder(
        task_file=task,
        workdir=tmp_path / f"work-{name}",
        runs_dir=tmp_path / "runs",
        model_arguments=arguments,
        environment={MARKER: marker, **env},
    )


def _task(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _save(window: OfficeWindow, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    assert window.grab().save(str(ARTIFACTS / name))


def test_kill_9_of_one_employee_shows_crashed_and_leaves_nothing_the_others_finish(
    office: tuple[Office, OfficeWindow], qtbot: QtBot, tmp_path: Path
) -> None:
    hired, window = office
    bench = REPO / "tasks" / "bench"
    doomed_order = _order(tmp_path, "doomed", _task(tmp_path, "waits", WAITS))
    doomed = hired.hire("waits for a sign", doomed_order)
    others = [
        hired.hire(name, _order(tmp_path, name, bench / f"{name}.yaml", "--policy", "oracle"))
        for name in ("galculator-keys", "zenity-question")
    ]
    qtbot.waitUntil(lambda: doomed.state == WORKING and doomed.step >= 1, timeout=60_000)
    # The three cards, with their screens, while they work.
    qtbot.waitUntil(
        lambda: all(window.cards[e.number].latest_picture for e in [doomed, *others]),
        timeout=10_000,
    )
    _save(window, "office-three-employees.png")
    assert doomed.process.pid is not None
    os.kill(doomed.process.pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: doomed.state == CRASHED, timeout=2_000)
    card = window.cards[doomed.number]
    assert card.state.text() == CRASHED
    assert "killed by signal 9" in card.detail.toolTip()
    # Its screen, window manager, buses and apps: gone.
    assert not left_behind(dict(doomed_order.environment), timeout=5)
    qtbot.waitUntil(lambda: all(e.is_over for e in others), timeout=120_000)
    assert [e.state for e in others] == [DONE, DONE], [e.detail for e in others]


def _answered_request(server: ModelServer) -> Reply:
    """The fake model's second turn: done, once it has been told the boss's answer."""
    return chat_tool_call("done", {"summary": f"the report is named {ANSWER}"})


def test_a_models_question_reaches_the_boss_and_the_answer_reaches_the_model(
    office: tuple[Office, OfficeWindow], qtbot: QtBot, tmp_path: Path
) -> None:
    hired, window = office
    with ModelServer() as server:
        server.script(
            chat_tool_call("ask_boss", {"question": QUESTION}),
            lambda request: _answered_request(server),
        )
        model = ("--policy", "openai-chat", "--model", "test-model", "--base-url", server.base_url)
        order = _order(
            tmp_path, "asks", _task(tmp_path, "asks", ASKS), *model, OPENAI_API_KEY="sk-office"
        )
        employee: Employee = hired.hire("asks the boss", order)
        qtbot.waitUntil(lambda: bool(window.questions), timeout=60_000)
        assert employee.state == NEEDS_YOU
        card = next(iter(window.questions.values()))
        assert employee.name in card.title.text()
        assert card.text.text() == QUESTION
        qtbot.waitUntil(
            lambda: card.isVisible() and not card.picture.pixmap().isNull(), timeout=5_000
        )
        _save(window, "office-question-card.png")
        assert card.answer_box is not None
        qtbot.keyClicks(card.answer_box, ANSWER)
        card.send.click()
        qtbot.waitUntil(lambda: employee.is_over, timeout=60_000)
        assert employee.state == DONE, employee.detail
        assert not window.questions
        asked_again: Request = server.requests[-1]
        assert ANSWER in json.dumps(asked_again.body, ensure_ascii=False)
        assert ANSWER not in json.dumps(server.requests[0].body, ensure_ascii=False)


def test_an_app_that_will_not_start_fails_its_task_and_touches_no_other(
    office: tuple[Office, OfficeWindow], qtbot: QtBot, tmp_path: Path
) -> None:
    hired, _ = office
    bench = REPO / "tasks" / "bench"
    broken_order = _order(tmp_path, "broken", bench / "galculator-keys.yaml", "--policy", "oracle")
    broken_order = EmployeeOrder(**{**broken_order.__dict__, "apps": ("shain-no-such-app",)})
    broken = hired.hire("with a missing app", broken_order)
    fine = hired.hire(
        "galculator-keys",
        _order(tmp_path, "fine", bench / "galculator-keys.yaml", "--policy", "oracle"),
    )
    qtbot.waitUntil(lambda: broken.is_over and fine.is_over, timeout=120_000)
    assert broken.state == FAILED
    assert "cannot launch 'shain-no-such-app': program not found" in broken.detail
    assert fine.state == DONE, fine.detail


def test_the_dialog_refuses_a_shared_folder_that_is_missing_or_not_writable(
    qtbot: QtBot, tmp_path: Path
) -> None:
    dialog = TaskDialog(Config(), apps=[])
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.by_file.setChecked(True)
    dialog.path.setText(str(REPO / "tasks" / "examples" / "xterm-command.yaml"))
    for folder, problem in (
        (tmp_path / "missing", "does not exist"),
        (Path("/proc"), "is not writable"),  # no one may create files there, root included
    ):
        dialog.placement.folder.setText(str(folder))
        dialog.accept()
        assert dialog.isVisible() and dialog.request is None
        assert problem in dialog.problem.text()
    dialog.placement.folder.setText(str(tmp_path))
    dialog.accept()
    assert dialog.request is not None and dialog.request.own_screen is not None
    assert dialog.request.workdir == tmp_path.resolve()


KEEPS_WAITING = (
    """\
name: keeps-waiting
goal: Wait, a second at a time.
steps:
"""
    + "  - wait: 1\n" * 30
)


def test_an_employees_screen_that_dies_is_an_environment_error_naming_the_step(
    office: tuple[Office, OfficeWindow], qtbot: QtBot, tmp_path: Path
) -> None:
    hired, _ = office
    order = _order(tmp_path, "victim", _task(tmp_path, "keeps-waiting", KEEPS_WAITING))
    employee = hired.hire("keeps waiting", order)
    qtbot.waitUntil(lambda: employee.step >= 2, timeout=60_000)
    screens = living_processes({"Xvfb"}, marker=order.environment[MARKER])
    assert len(screens) == 1
    os.kill(next(iter(screens)), signal.SIGKILL)
    qtbot.waitUntil(lambda: employee.is_over, timeout=15_000)
    assert employee.state == FAILED, employee.process.stderr_tail()[-3000:]
    assert employee.finished is not None and employee.finished.exit_code == 4
    assert "the screen went away at step" in employee.detail
    assert "internal error" not in employee.detail
    assert employee.finished.steps >= 2
    assert not left_behind(dict(order.environment), timeout=5)


def test_quitting_stops_every_employee_cleanly_and_each_log_ends_with_its_last_event(
    qtbot: QtBot, tmp_path: Path
) -> None:
    office = Office(slots=2)
    orders = [_order(tmp_path, f"quit-{n}", _task(tmp_path, "waits", WAITS)) for n in range(2)]
    employees = [office.hire(f"waits {n}", order) for n, order in enumerate(orders)]
    qtbot.waitUntil(lambda: all(e.run_folder and e.step >= 1 for e in employees), timeout=60_000)
    office.quit()
    for employee, order in zip(employees, orders, strict=True):
        assert employee.run_folder is not None
        record = read_run(Path(employee.run_folder))
        ended = f"{record.status}; its stderr: {employee.process.stderr_tail()[-3000:]}"
        assert record.status == "stopped", ended
        assert isinstance(record.events[-1], RunFinished)
        assert not left_behind(dict(order.environment), timeout=5)


GUARDED = """\
name: guarded
goal: Write a word into a file from a terminal.
setup:
  - launch: {command: "xterm -title guarded", window: 20}
steps:
  - type: "echo sudo is only a word here > {workdir}/done.txt\\n"
  - wait_for: {file: "{workdir}/done.txt", timeout: 10}
checks:
  - file_contains: {path: "{workdir}/done.txt", text: "only a word"}
"""


def test_an_action_the_guard_holds_waits_for_the_boss_on_a_card_naming_the_employee(
    office: tuple[Office, OfficeWindow], qtbot: QtBot, tmp_path: Path
) -> None:
    hired, window = office
    employee = hired.hire("guarded", _order(tmp_path, "guarded", _task(tmp_path, "g", GUARDED)))
    qtbot.waitUntil(lambda: bool(window.questions), timeout=60_000)
    card = next(iter(window.questions.values()))
    assert card.question.kind == "approval" and employee.state == NEEDS_YOU
    assert employee.name in card.title.text() and "approval" in card.title.text()
    assert "sudo" in card.question.text and card.question.action is not None
    assert card.approve is not None
    card.approve.click()
    qtbot.waitUntil(lambda: employee.is_over, timeout=60_000)
    assert employee.state == DONE, employee.detail
    assert (tmp_path / "work-guarded" / "done.txt").read_text() == "sudo is only a word here\n"


def test_a_kept_screen_stays_after_the_task_until_the_card_is_closed(
    office: tuple[Office, OfficeWindow], qtbot: QtBot, tmp_path: Path
) -> None:
    hired, window = office
    bench = REPO / "tasks" / "bench" / "zenity-question.yaml"
    order = _order(tmp_path, "kept", bench, "--policy", "oracle")
    order = EmployeeOrder(**{**order.__dict__, "keep_screen": True})
    employee = hired.hire("kept", order)
    qtbot.waitUntil(lambda: employee.state == DONE, timeout=60_000)
    marker = order.environment[MARKER]
    qtbot.wait(1500)
    assert living_processes({"Xvfb"}, marker=marker), "the screen went with the task"
    assert employee.process.alive
    window.close_card(employee)
    qtbot.waitUntil(lambda: not employee.process.alive, timeout=15_000)
    assert not left_behind(dict(order.environment), timeout=5)


def test_on_a_wayland_session_my_desktop_is_refused_with_the_reason(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    dialog = TaskDialog(Config(), apps=[])
    qtbot.addWidget(dialog)
    dialog.show()
    placement = dialog.placement
    assert placement.own_screen.isChecked()
    assert not placement.my_desktop.isEnabled()
    assert placement.why_not_desktop.isVisible()
    assert "Wayland session without X" in placement.why_not_desktop.text()
