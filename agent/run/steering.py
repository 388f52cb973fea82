"""The employee's side of its control channel: watchers hear the run and steer it.

A `Steering` is an event sink (every event goes to every watcher, and to later ones when they
connect), the boss for the run when the office asks to be asked (approvals and the model's
questions wait for an answer from a watcher), and the handler of the watchers' commands:
pause, resume and stop set the run's StopToken; take over pauses it for one watcher at a
time; hand back resumes it and tells the model, through the runner's notes, that the screen
changed hands. Nothing a watcher sends is acted on before it is validated (agent/run/control.py).
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from agent.actions import describe_action
from agent.record.codec import encode_event
from agent.record.events import Event, HandedBack, Paused, Resumed, RunFinished, TakenOver
from agent.run.approvals import ApprovalRequest
from agent.run.control import (
    Answer,
    Close,
    Command,
    ControlServer,
    HandBack,
    Pause,
    Resume,
    Stop,
    TakeOver,
    Watcher,
)
from agent.stop import StopToken

State = Literal["starting", "working", "paused", "taken_over", "needs_you", "ended"]
# The longest a take-over waits for an action under way (a click's settle is at most 3 s).
TAKE_OVER_WAIT_SECONDS = 5.0


@dataclass
class _Question:
    id: int
    kind: Literal["approval", "question"]
    text: str
    step: int | None
    action: str | None
    answered: threading.Event = field(default_factory=threading.Event)
    approved: bool = False
    answer: str | None = None

    def message(self) -> dict[str, Any]:
        return {
            "type": "question",
            "id": self.id,
            "kind": self.kind,
            "text": self.text,
            "step": self.step,
            "action": self.action,
        }


class Steering:
    """Serves one run's control channel; see the module's account."""

    def __init__(
        self,
        path: Path,
        stop: StopToken,
        *,
        pause_after: float | None = None,
    ) -> None:
        self.path = path
        self.stop = stop
        self.notes: queue.SimpleQueue[str] = queue.SimpleQueue()  # for the runner
        self.pause_after = pause_after  # an unanswered question pauses the run after this
        self._lock = threading.Lock()
        self._questions: dict[int, _Question] = {}
        self._numbers = itertools.count(1)
        self._holder: Watcher | None = None
        self._held_since = 0.0
        self._state: State = "starting"
        self._detail = ""
        self._closed = threading.Event()
        self._server: ControlServer | None = None
        self._emit: Any = None  # the run's EventBus.emit, once the run is there

    def start(self, hello: Mapping[str, Any], emit: Any) -> None:
        """Open the socket; `hello` tells each watcher which run and screen this is; `emit`
        logs the boss's doings (pauses, take-overs) as events of the run."""
        self._emit = emit
        self._server = ControlServer(self.path, hello, self._command, self._left)
        self._set_state("working")

    # --- as an event sink ---------------------------------------------------------------

    def handle(self, event: Event) -> None:
        if self._server is None:
            return
        self._server.publish({"type": "event", "event": encode_event(event)}, keep=True)
        if isinstance(event, RunFinished):
            self._set_state("ended", f"{event.status}: {event.reason}")

    # --- as the boss for the run ---------------------------------------------------------

    def approve(self, request: ApprovalRequest) -> bool:
        """An action the guard held, or a model's safety checks: wait for a watcher's answer."""
        action = describe_action(request.action) if request.action is not None else None
        question = self._ask("approval", request.reason, request.step, action)
        return question is not None and question.approved

    def ask(self, step: int, text: str) -> str | None:
        """The model's question to the boss: wait for a watcher's answer (None: stopped)."""
        question = self._ask("question", text, step, None)
        return None if question is None else question.answer

    def _ask(
        self, kind: Literal["approval", "question"], text: str, step: int | None, action: str | None
    ) -> _Question | None:
        question = _Question(next(self._numbers), kind, text, step, action)
        with self._lock:
            self._questions[question.id] = question
        self._set_state("needs_you", text)
        self._publish(question.message(), keep=True)
        asked_at = time.monotonic()
        paused_by_us = False
        try:
            while not question.answered.wait(0.05):
                if self.stop.stopped:
                    return None
                waited = time.monotonic() - asked_at
                if self.pause_after is not None and waited > self.pause_after and not paused_by_us:
                    # Unanswered: the run holds as paused (it never guesses an answer).
                    paused_by_us = True
                    self.stop.pause()
                    self._log(Paused(f"no answer from the boss for {self.pause_after:g}s"))
            return question
        finally:
            with self._lock:
                self._questions.pop(question.id, None)
            self._publish({"type": "answered", "id": question.id}, keep=True)
            if paused_by_us and not self.stop.stopped:
                self.stop.resume()
                self._log(Resumed())
            self._set_state("taken_over" if self._holder else "working")

    # --- watchers' commands ---------------------------------------------------------------

    def _command(self, command: Command, watcher: Watcher) -> None:
        match command:
            case Pause():
                if not self.stop.paused:
                    self.stop.pause()
                    self._log(Paused("paused by the boss"))
                    self._set_state("paused", "paused by the boss")
            case Resume():
                if self._holder is not None:
                    self._refuse(watcher, "resume", "the boss holds the screen: hand it back")
                elif self.stop.paused:
                    self.stop.resume()
                    self._log(Resumed())
                    self._set_state("working")
            case Stop(reason=reason):
                self.stop.stop(reason)
            case TakeOver():
                self._take_over(watcher)
            case HandBack():
                self._hand_back(watcher)
            case Answer(id=number, approved=approved, text=text):
                with self._lock:
                    question = self._questions.get(number)
                if question is None:
                    self._refuse(watcher, "answer", f"no question {number} is waiting")
                    return
                question.approved = bool(approved)
                question.answer = text
                question.answered.set()
            case Close():
                self._closed.set()

    def _take_over(self, watcher: Watcher) -> None:
        with self._lock:
            if self._holder is not None and self._holder is not watcher:
                self._refuse(watcher, "take_over", f"{self._holder} holds the screen")
                return
            if self._holder is watcher:
                return
            self._holder = watcher
            self._held_since = time.monotonic()
        self.stop.pause()
        # An action under way finishes first (and is logged before the take-over): the boss's
        # input never mixes with the employee's.
        self.stop.wait_until_quiet(TAKE_OVER_WAIT_SECONDS)
        self._log(TakenOver("boss"))
        self._set_state("taken_over", f"held by {watcher}")

    def _hand_back(self, watcher: Watcher) -> None:
        with self._lock:
            if self._holder is not watcher:
                return
            self._holder = None
            held = time.monotonic() - self._held_since
        self._log(HandedBack(held))
        self.notes.put(
            f"The boss took over the screen for {held:.0f}s and handed it back. The screen may "
            "have changed: look at it again before you go on."
        )
        self.stop.resume()
        self._set_state("working")

    def _left(self, watcher: Watcher) -> None:
        self._hand_back(watcher)  # a holder that went away lets go

    # --- the rest ---------------------------------------------------------------------------

    def wait_for_close(self, timeout: float | None = None) -> bool:
        """Wait until a watcher says `close` (the boss closed the card), or the run is stopped."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._closed.wait(0.1):
            if self.stop.stopped or (deadline is not None and time.monotonic() > deadline):
                return False
        return True

    def close(self) -> None:
        if self._server is not None:
            self._server.close()

    def _set_state(self, state: State, detail: str = "") -> None:
        self._state, self._detail = state, detail
        self._publish({"type": "state", "state": state, "detail": detail})

    def _publish(self, message: dict[str, Any], *, keep: bool = False) -> None:
        if self._server is not None:
            self._server.publish(message, keep=keep)

    def _refuse(self, watcher: Watcher, command: str, reason: str) -> None:
        if self._server is not None:
            self._server.send(watcher, {"type": "refused", "command": command, "reason": reason})

    def _log(self, event: Event) -> None:
        if self._emit is not None:
            self._emit(event)
