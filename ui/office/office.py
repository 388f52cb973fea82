"""The office: employees on screens of their own, up to N at work at once, the rest waiting.

Each `Employee` is a `shain run` process (agent/office/employee.py) and the boss's end of its
control channel (ui/office/channel.py: messages arrive as signals on the GUI thread, commands
go out without waiting): the GUI thread never waits on an employee. Everything a card shows is
folded here from the run's own events (the one StepFolder).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QObject, Signal

from agent.office.employee import EmployeeOrder, EmployeeProcess
from agent.record.events import LoggedEvent, RunFinished
from agent.record.status import RunStatus
from agent.record.steps import StepFolder
from agent.run.control import Hello, QuestionMessage, StateMessage
from ui.office.channel import EmployeeChannel
from ui.tray.queue import QueuedTask, TaskQueue

# How long quitting waits for each employee to end cleanly before it is killed.
QUIT_GRACE_SECONDS = 10.0

# What a card says an employee is doing.
WAITING, STARTING, WORKING, NEEDS_YOU, PAUSED, TAKEN_OVER = (
    "waiting",
    "starting",
    "working",
    "needs you",
    "paused",
    "taken over",
)
DONE, FAILED, STOPPED, CRASHED = "done", "failed", "stopped", "crashed"
ENDED = frozenset({DONE, FAILED, STOPPED, CRASHED})
RUNNING_STATES = {
    "starting": STARTING,
    "working": WORKING,
    "paused": PAUSED,
    "taken_over": TAKEN_OVER,
    "needs_you": NEEDS_YOU,
}


def ended_state(status: RunStatus) -> str:
    """A finished run's status as the office says it."""
    match status:
        case RunStatus.SUCCESS:
            return DONE
        case RunStatus.STOPPED:
            return STOPPED
        case RunStatus.CRASHED | RunStatus.INCOMPLETE:
            return CRASHED
    return FAILED


class Employee(QObject):
    """One employee, as the boss's side knows it."""

    changed = Signal()  # anything its card shows
    question_asked = Signal(object)  # QuestionMessage
    question_closed = Signal(int)  # its id: answered (here or by another watcher) or moot
    refused = Signal(str)  # the employee refused a command, saying why
    ended = Signal()
    _exited = Signal(int)  # the process's exit code, from its waiter thread

    def __init__(self, number: int, label: str, order: EmployeeOrder) -> None:
        super().__init__()
        self.number = number
        self.label = label
        self.order = order
        self.state = WAITING
        self.detail = ""
        self.hello: Hello | None = None
        self.fold = StepFolder()
        self.questions: dict[int, QuestionMessage] = {}
        self.finished: RunFinished | None = None
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self.process = EmployeeProcess(order, self._exited.emit)
        self.channel = EmployeeChannel(self)
        self.channel.hello_received.connect(self._on_hello)
        self.channel.event_received.connect(self._on_event)
        self.channel.state_changed.connect(self._on_state)
        self.channel.question_asked.connect(self._on_question)
        self.channel.question_answered.connect(self._on_answered)
        self.channel.command_refused.connect(lambda refused: self.refused.emit(refused.reason))
        self._exited.connect(self._on_exit)

    # --- what the card shows ---

    @property
    def name(self) -> str:
        return f"Employee {self.number}"

    @property
    def is_over(self) -> bool:
        return self.state in ENDED

    @property
    def step(self) -> int:
        return max((step.number for step in self.fold.steps), default=0)

    @property
    def seconds(self) -> float:
        if self.started_at is None:
            return 0.0
        return (self.ended_at or time.monotonic()) - self.started_at

    @property
    def display(self) -> str | None:
        return self.hello.display if self.hello is not None else None

    @property
    def run_folder(self) -> str | None:
        return self.hello.run_folder if self.hello is not None else None

    # --- the boss's commands ---

    def start(self) -> None:
        self.state, self.started_at = STARTING, time.monotonic()
        self.process.start()
        self.channel.connect_to(self.process.control, alive=lambda: self.process.alive)
        self.changed.emit()

    def pause(self) -> None:
        self.channel.pause()

    def resume(self) -> None:
        self.channel.resume()

    def stop(self) -> None:
        """Stop cleanly, as Ctrl-C would: the run's log ends with its last event."""
        self.process.stop()

    def answer(
        self, question: int, *, approved: bool | None = None, text: str | None = None
    ) -> bool:
        if approved is not None:
            return self.channel.answer_approval(question, approved)
        return text is not None and self.channel.answer_question(question, text)

    def close_screen(self) -> None:
        """The boss closed the card: a screen kept for inspection can go now."""
        self.channel.close_screen()

    # --- what the employee says ---

    def _on_hello(self, hello: Hello) -> None:
        self.hello = hello
        self.changed.emit()

    def _on_state(self, message: StateMessage) -> None:
        if not self.is_over and message.state in RUNNING_STATES:
            self.state, self.detail = RUNNING_STATES[message.state], message.detail
            self.changed.emit()

    def _on_question(self, question: QuestionMessage) -> None:
        self.questions[question.id] = question
        self.question_asked.emit(question)
        self.changed.emit()

    def _on_answered(self, number: int) -> None:
        if self.questions.pop(number, None) is not None:
            self.question_closed.emit(number)
            self.changed.emit()

    def _on_event(self, event: LoggedEvent) -> None:
        self.fold.feed([event])
        if isinstance(event, RunFinished):
            self.finished = event
            self.state, self.detail = ended_state(event.status), event.reason
        self.changed.emit()

    def _on_exit(self, code: int) -> None:
        self.ended_at = time.monotonic()
        if self.finished is None:
            how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
            last = self.process.stderr_tail().strip().splitlines()[-1:] or [""]
            self.state = CRASHED
            self.detail = f"the employee's process ended without finishing ({how}) {last[0]}"
        for number in list(self.questions):
            self.questions.pop(number)
            self.question_closed.emit(number)
        self.channel.close()
        self.changed.emit()
        self.ended.emit()


class Office(QObject):
    """The employees, and the queue of those still waiting for a slot."""

    hired = Signal(object)  # Employee: a card to show
    employee_ended = Signal(object)  # Employee

    def __init__(self, slots: int) -> None:
        super().__init__()
        self.queue = TaskQueue(self._start, slots=slots)
        self.employees: list[Employee] = []
        self._numbers = itertools.count(1)
        self._tasks: dict[int, QueuedTask] = {}

    def hire(self, label: str, order: EmployeeOrder) -> Employee:
        employee = Employee(next(self._numbers), label, order)
        employee.ended.connect(lambda: self._ended(employee))
        self.employees.append(employee)
        self.hired.emit(employee)
        task = self.queue.add(label, employee)
        self._tasks[employee.number] = task
        return employee

    def working(self) -> list[Employee]:
        return [e for e in self.employees if e.state not in ENDED and e.state != WAITING]

    def quit(self, on_each: Callable[[Employee], None] | None = None) -> None:
        """Stop every employee cleanly (each log ends with its last event), wait, then kill
        what is left; the ones still waiting never start."""
        for task in self.queue.waiting:
            self.queue.remove(task.id)
        working = [e for e in self.employees if e.process.alive]
        for employee in working:
            employee.stop()
        deadline = time.monotonic() + QUIT_GRACE_SECONDS
        for employee in working:
            if not employee.process.wait(max(0.0, deadline - time.monotonic())):
                employee.process.kill()
                employee.process.wait(2.0)
            if on_each is not None:
                on_each(employee)
        # Their ends were queued to this thread: hear them now, before the loop is gone.
        deadline = time.monotonic() + 2.0
        while any(e.ended_at is None for e in working) and time.monotonic() < deadline:
            QCoreApplication.processEvents()
            time.sleep(0.01)

    def _start(self, task: QueuedTask) -> None:
        employee: Employee = task.payload
        employee.start()

    def _ended(self, employee: Employee) -> None:
        task = self._tasks.pop(employee.number, None)
        if task is not None:
            self.queue.task_finished(task.id)
        self.employee_ended.emit(employee)
