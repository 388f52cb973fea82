"""The boss answers an approval from the GUI while the run's thread waits for it.

`BossApprover` is the TaskSession's approver: called on the worker thread, it hands a
`PendingApproval` to the GUI thread (a queued Qt signal) and blocks until the GUI answers it,
or the run is stopped some other way (the hotkey, Quit), which counts as a denial.
"""

from __future__ import annotations

import enum
import threading

from PySide6.QtCore import QObject, Signal

from agent.run.approvals import ApprovalRequest
from agent.stop import StopToken

STOP_REASON = "stopped by the boss at the approval card"
POLL_SECONDS = 0.05


class Answer(enum.Enum):
    APPROVE = "approve"
    DENY = "deny"
    STOP = "stop"


class PendingApproval:
    """One question to the boss; answered once, from any thread."""

    def __init__(self, request: ApprovalRequest, stop: StopToken) -> None:
        self.request = request
        self.stop = stop
        self.answer: Answer | None = None
        self._done = threading.Event()

    @property
    def answered(self) -> bool:
        return self._done.is_set()

    @property
    def approved(self) -> bool:
        return self.answer is Answer.APPROVE

    def give(self, answer: Answer) -> None:
        """Approve, deny, or stop the run (and deny). A second answer changes nothing."""
        if self._done.is_set():
            return
        if answer is Answer.STOP:
            self.stop.stop(STOP_REASON)
        self.answer = answer
        self._done.set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)


class BossApprover(QObject):
    """Asks the GUI (the `asked` signal) and blocks the calling thread for its answer."""

    asked = Signal(object)  # PendingApproval, queued to receivers in the GUI thread

    def __init__(self, stop: StopToken, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.stop = stop

    def __call__(self, request: ApprovalRequest) -> bool:
        pending = PendingApproval(request, self.stop)
        self.asked.emit(pending)
        while not pending.wait(POLL_SECONDS):
            if self.stop.stopped:  # stopped elsewhere: nobody will answer; deny
                pending.give(Answer.DENY)
        return pending.approved
