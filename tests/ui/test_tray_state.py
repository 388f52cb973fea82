"""The tray icon's state machine over event sequences (plain Python, no Qt)."""

from __future__ import annotations

from agent.actions import TypeText
from agent.geometry import Size
from agent.record.events import (
    ApprovalAnswered,
    ApprovalRequested,
    Event,
    RunFinished,
    RunStarted,
    StepStarted,
)
from agent.record.status import RunStatus
from ui.tray.state import TrayState, TrayStatus


def _started(name: str = "save-note") -> RunStarted:
    return RunStarted("run-1", name, None, "scripted", Size(800, 600), "/tmp/work")


def _finished(status: str, reason: str = "done") -> RunFinished:
    return RunFinished(RunStatus(status), 0 if status == "success" else 1, reason, 3, 1.5)


def _state(status: TrayStatus) -> TrayState:
    """The state, read afresh (mypy would keep it narrowed across calls that change it)."""
    return status.state


def _feed(*events: Event) -> TrayStatus:
    status = TrayStatus()
    for event in events:
        status.on_event(event)
    return status


def test_idle_before_any_task() -> None:
    status = TrayStatus()
    assert status.state is TrayState.IDLE
    assert status.tooltip == "Idle — no task yet"


def test_working_with_the_step_in_the_tooltip() -> None:
    status = _feed(_started())
    assert status.state is TrayState.WORKING
    assert status.tooltip == "Working on 'save-note' — setting up"
    status.on_event(StepStarted(3))
    assert status.tooltip == "Working on 'save-note' — step 3"


def test_paused_by_the_boss_and_resumed() -> None:
    status = _feed(_started(), StepStarted(2))
    status.paused("you moved the mouse")
    assert status.state is TrayState.PAUSED
    assert status.tooltip.startswith("Paused: you moved the mouse")
    status.resumed()
    assert _state(status) is TrayState.WORKING


def test_pause_when_idle_changes_nothing() -> None:
    status = TrayStatus()
    status.paused("you moved the mouse")
    assert status.state is TrayState.IDLE


def test_approval_asked_then_answered() -> None:
    asked = ApprovalRequested("typing a password", 4, TypeText("x"))
    status = _feed(_started(), StepStarted(4), asked)
    assert status.state is TrayState.NEEDS_APPROVAL
    assert "typing a password" in status.tooltip
    status.on_event(ApprovalAnswered(False, "boss"))
    assert _state(status) is TrayState.WORKING


def test_pause_while_waiting_for_approval_returns_to_it() -> None:
    status = _feed(_started(), ApprovalRequested("risky"))
    status.paused("you pressed Pause")
    status.resumed()
    assert status.state is TrayState.NEEDS_APPROVAL


def test_failures_stay_until_the_next_task() -> None:
    for bad in ("failed", "crashed", "environment_error", "bad_input"):
        status = _feed(_started(), _finished(bad, "a check failed"))
        assert status.state is TrayState.FAILED, bad
        assert status.tooltip == f"Failed: 'save-note' — {bad}: a check failed"
        status.on_event(StepStarted(9))
        assert status.state is TrayState.FAILED
        status.on_event(_started("next"))
        assert _state(status) is TrayState.WORKING


def test_success_and_stop_go_back_to_idle() -> None:
    status = _feed(_started(), StepStarted(1), _finished("success"))
    assert status.state is TrayState.IDLE
    assert status.tooltip == "Idle — last task 'save-note' ended success: done"
    stopped = _feed(_started(), _finished("stopped", "stopped by the hotkey"))
    assert stopped.state is TrayState.IDLE


def test_a_task_that_could_not_start_fails() -> None:
    status = TrayStatus()
    status.task_failed("save-note", "EnvironmentProblem: no RECORD")
    assert status.state is TrayState.FAILED
    assert "no RECORD" in status.tooltip
