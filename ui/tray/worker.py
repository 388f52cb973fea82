"""One task, run on a worker thread on this desktop, with the boss's stop hotkey watched.

The worker owns the run's StopToken: Stop, Pause and Resume only set it. A BossWatcher runs for
the length of the run (the hotkey stops, and, where the run's desktop can tell the agent's own
input apart, the boss's hands on the mouse or keys pause). `finished` carries a WorkerOutcome.

With `ask_boss`, what the guard holds is asked of the boss: `approval_needed` carries a
PendingApproval to the GUI thread while the run's thread waits for its answer; meanwhile the
boss's hands on the mouse (answering the card) do not pause the run.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from agent.desktop.boss_input import DEFAULT_HOTKEY, BossWatcher, InjectionWindow
from agent.desktop.exclusions import ExcludedRegions
from agent.desktop.local import LocalDesktop
from agent.desktop.screen import Screen
from agent.policy.choose import PolicyRequest
from agent.record.events import EventSink
from agent.run.approvals import ApprovalRequest
from agent.run.session import TaskSession
from agent.run.verdict import RunResult
from agent.stop import StopToken
from ui.tray.approvals import BossApprover
from ui.tray.request import TaskRequest

# After an answer, the boss's clicks on the card may still be on their way to the watcher.
ANSWER_GRACE_SECONDS = 0.5


@dataclass(frozen=True)
class WorkerOutcome:
    request: TaskRequest
    result: RunResult | None  # None: the run did not start, or crashed
    error: str = ""


class TaskWorker(QObject):
    finished = Signal(object)  # WorkerOutcome, queued to the GUI thread
    boss_input = Signal(str)  # "you moved the mouse"...: the run paused itself
    approval_needed = Signal(object)  # PendingApproval (with ask_boss), queued to the GUI

    def __init__(
        self,
        request: TaskRequest,
        *,
        runs_dir: Path,
        sinks: Sequence[EventSink] = (),
        hotkey: str = DEFAULT_HOTKEY,
        screen: Screen | None = None,
        ask_boss: bool = False,
        excluded: ExcludedRegions | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.excluded = excluded
        self.request = request
        self.runs_dir = runs_dir
        self.sinks = list(sinks)
        self.screen = screen  # None: the desktop the tray was started on, when the run starts
        self.stop_token = StopToken()
        self.hotkey = hotkey
        self._thread: threading.Thread | None = None
        self.ask_boss = ask_boss  # False: the task file answers approvals, as headless
        self.approver = BossApprover(self.stop_token)
        self.approver.asked.connect(self.approval_needed)
        self._watcher: BossWatcher | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="shain-task", daemon=True)
        self._thread.start()

    def stop(self, reason: str = "stopped by the boss") -> None:
        self.stop_token.stop(reason)

    def pause(self) -> None:
        self.stop_token.pause()

    def resume(self) -> None:
        self.stop_token.resume()

    def wait(self, timeout: float | None = None) -> bool:
        """Join the worker thread; whether it has ended."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running

    def _run(self) -> None:
        try:
            outcome = WorkerOutcome(self.request, self._session())
        except Exception as error:
            outcome = WorkerOutcome(self.request, None, f"{type(error).__name__}: {error}")
        self.finished.emit(outcome)

    def _session(self) -> RunResult:
        screen = self.screen or Screen.of_this_session()
        injection = InjectionWindow()  # the desktop says what it injects; the watcher listens
        watcher = BossWatcher(
            self.stop_token,
            screen,
            hotkey=self.hotkey,
            injection=injection,
            on_boss_input=self.boss_input.emit,
        )
        watcher.start()
        self._watcher = watcher
        try:
            self.request.workdir.mkdir(mode=0o700, parents=True, exist_ok=True)
            session = TaskSession(
                self.request.loaded,
                screen,
                runs_dir=self.runs_dir,
                workdir=self.request.workdir,
                policy=PolicyRequest(self.request.profile),
                sinks=self.sinks,
                stop=self.stop_token,
                approver=self._ask if self.ask_boss else None,
                open_desktop=functools.partial(
                    LocalDesktop, injection=injection, excluded=self.excluded
                ),
            )
            return session.run()
        finally:
            self._watcher = None
            watcher.stop_watching()

    def _ask(self, request: ApprovalRequest) -> bool:
        """On the run's thread: wait for the boss's answer; their clicks do not pause the run."""
        watcher = self._watcher
        pausing = watcher is not None and watcher.pause_on_boss_input
        if watcher is not None:
            watcher.pause_on_boss_input = False
        try:
            return self.approver(request)
        finally:
            if watcher is not None and pausing:
                if not self.stop_token.stopped:
                    time.sleep(ANSWER_GRACE_SECONDS)
                watcher.pause_on_boss_input = True
