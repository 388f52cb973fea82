"""Settle versus fixed sleeps: how long after an action each waits, and how often it looks too soon.

On the benchmark suite's own actions (the oracle steps of tasks/bench/*.yaml), this measures
the time from the end of an action to the observation an agent would act on next, for
Shain's settle (agent/desktop/settle.py: wait_until_settled) and for fixed sleeps of 0.5, 1
and 2 s, and the stale rate of each: how often that observation was taken before the screen
had finished changing.

    python bench/settle_vs_sleep.py [--tasks GLOB] [--seeds N] [--window SECONDS] [--json]

Method
------
Every task run (a task and a seed) is a child process on its own private virtual screen
(pyautogui binds one display per process), made by the code `shain run --virtual-display`
uses (private HOME and XDG folders, in-memory GSettings), then the task's setup
(launch/run/write_file/wait_for). Before the first action the screen must be quiet for a
second, so that an app still drawing its first window is not blamed on the first action.
Then the oracle runs as `--policy oracle` runs it (ScriptedPolicy picks each action, finding
click and drag targets on the screen), and every action is measured:

- After each action a trace records the screen continuously: settle runs ONLINE on that stream
  (its capture function records every frame it takes), so its answer is exactly what Shain
  would have observed; the frame captured right after it returns is its observation (Shain's
  next step captures then). After settle returns, capture goes on 15 ms after each grab
  (a frame about every 20 ms, settle samples about every 30 ms), so the apps draw under
  roughly the load a real run puts on them.
- The trace lasts at least --window seconds and until the screen has been quiet (by the noise
  rule below) for 0.5 s, at most 2.5 s longer. Its last frame is the ground truth, "final".
- Fixed sleeps are read from the same trace: the observation of "sleep s" is the first frame
  captured at or after s; its time to observation is s. One stream for all methods means they
  are compared on the very same app behaviour, not on four runs that may differ.
- An observation is stale when it differs from the final frame beyond the noise rule.
- `wait_for` steps run after the trace of the action before them, as the oracle needs;
  `wait:` steps (pauses written into a task) run but are not measured; an `expect: fail`
  task's `fail:` ends it. After the oracle the task's checks are evaluated, to show the
  measuring did not break the task.

Noise rule (caret blink)
------------------------
GTK text carets blink (gtk-cursor-blink-time 1200 ms: on for 0.8 s, off for 0.4 s, starting
about 1.2 s after the last key), so two frames of a resting text field can differ. Two frames
"differ" only when the bounding box of their changed pixels is wider than 2 px or taller than
48 px: here a caret is 1 px wide and 17-18 px high. A real change (a character, which also
moves the caret; a dialog; a moved slider) is wider. Measured: every caret-only difference in
the suite was 1 x 17 or 1 x 18 px. Not 3 px: GTK's overlay scrollbar indicator fades out in
3 px wide steps for up to a second after a scroll, and that is a change that ends (a cosmetic
one), not noise; with a 3 px rule it would count as stale or not depending on the caret's
phase. The same rule decides when the screen changed at all and when it came to rest.

Late changes
------------
An action whose screen changed again after resting for 0.75 s or more (a change that starts
>= 0.75 s after the previous one, or after the action when it is the first) is reported
separately and left out of the main table: a tooltip, a file chooser finishing its folder, a
timer may cause it, and every method whose observation came before it is stale "by
definition". (The longest quiet gap before a change that clearly belonged to its action was
about 0.45 s: a Save dialog closing after Enter.) They are listed so a reader can judge them.
Actions whose trace held more than 100 distinct screens (an animation) are left out too. The
table of all actions is printed as well.

Limits: a change that begins after the trace ends is not seen (the 2 s sleep is judged on at
least --window minus 2 s of look-ahead). The first frame comes about 30 ms after the action
(settle sleeps 25 ms first), so "screen at rest" cannot be shorter. Settle's time is the time
of its observation frame, after its last capture; a sleep's is nominal (a real agent also
pays the capture). Recording adds about 1 ms to each of settle's samples. Running task runs
in parallel (--parallel) loads the CPU and slows the apps a little; use --parallel 1 for a
quieter machine. One seed of the suite (23 tasks, about 110 actions) takes about 3 minutes on
2 cores; --seeds 2 doubles that.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image

from agent.actions import Action, Done, Fail, Wait, describe_action
from agent.benchmark.runs import BENCH_TASKS, find_tasks
from agent.desktop.apps import AppLauncher, private_screen
from agent.desktop.capture import ScreenCapture
from agent.desktop.current_frame import CurrentFrame
from agent.desktop.damage import ScreenDrawing
from agent.desktop.local import LocalDesktop
from agent.desktop.protocol import Frame
from agent.desktop.screen import Screen
from agent.desktop.settle import SettlePolicy, SettleResult, fingerprint, wait_until_settled
from agent.errors import AgentError, DesktopError
from agent.geometry import Box, Size
from agent.perception.locator import Locator
from agent.perception.screen_elements import default_text_reader, screen_locator
from agent.policy.protocol import Observation, StepRecord
from agent.policy.scripted import ScriptedPolicy, script_of
from agent.run.checks import evaluate_check
from agent.run.setup import run_setup
from agent.stop import StopToken
from agent.taskfile.task import Task, load_task

SCREEN = Size(1920, 1080)  # what `shain run --virtual-display` uses; task coordinates expect it
SLEEPS = (0.5, 1.0, 2.0)
# Quiet periods for a settle on drawing reports, simulated from the reports' times.
QUIET_CANDIDATES = (0.05, 0.1, 0.15, 0.2, 0.3)
DEFAULT_WINDOW = 2.5
# After settle returns: a frame 15 ms after each grab, a little more than settle's own load.
TRACE_INTERVAL = 0.015
# The final frame must have been at rest this long, the trace may grow this much for it.
QUIET_TAIL = 0.5
MAX_EXTENSION = 2.5
# The noise rule: a change whose bounding box is this narrow and this low is a caret blinking.
CARET_MAX_WIDTH = 2
CARET_MAX_HEIGHT = 48
# A change this long after the previous one (or the action) is a late change.
LATE_QUIET = 0.75
# More distinct screens than this in one trace: an animation; stop keeping them (8 MB each).
MAX_SCREENS = 100
# Before the first action: the screen must be quiet this long (within SETUP_QUIET_MAX).
SETUP_QUIET = 1.0
SETUP_QUIET_MAX = 10.0
CHILD_TIMEOUT = 600.0
SAVED_STALE_LIMIT = 12  # per task run, with --frames

Pixels = npt.NDArray[np.uint32]  # one screen, one packed BGRA value per pixel


# ---- comparing screens


def packed(frame: Frame) -> Pixels:
    """The frame's pixels as one 32-bit value each: comparing them is 4x less work."""
    return frame.pixels.view(np.uint32)[..., 0]


def difference_box(a: Pixels, b: Pixels) -> Box | None:
    """The bounding box of the pixels that differ, None when the screens are identical."""
    changed = a != b
    rows = np.flatnonzero(changed.any(axis=1))
    if rows.size == 0:
        return None
    columns = np.flatnonzero(changed.any(axis=0))
    return Box(
        int(columns[0]),
        int(rows[0]),
        int(columns[-1] - columns[0] + 1),
        int(rows[-1] - rows[0] + 1),
    )


def is_caret_noise(box: Box) -> bool:
    return box.width <= CARET_MAX_WIDTH and box.height <= CARET_MAX_HEIGHT


def differs(a: Pixels, b: Pixels) -> bool:
    """Whether two screens differ by more than a blinking caret (the noise rule)."""
    if np.array_equal(a, b):  # the common case, and much cheaper than the box
        return False
    box = difference_box(a, b)
    return box is not None and not is_caret_noise(box)


# ---- one action's trace


class Trace:
    """The frames captured after one action, by time since the action ended.

    Identical consecutive frames share one stored screen, so a 3 s trace of a resting screen
    costs one screen of memory, not two hundred. Recording a frame is one equality test
    (about a millisecond at 1080p); the noise rule runs later, outside settle's loop.
    """

    def __init__(self, before: Pixels, started: float) -> None:
        self.before = before  # the screen just before the action
        self.started = started  # time.monotonic() when the action ended
        self.times: list[float] = []  # per captured frame: seconds since the action ended
        self.shown: list[int] = []  # per captured frame: index into `screens`
        self.screens: list[Pixels] = []
        self.screen_times: list[float] = []  # when each screen was first captured
        self.overflowed = False  # more than MAX_SCREENS distinct screens: an animation
        self._changes: list[float] = []
        self._judged = 0  # screens already compared with the one before them
        self._lock = threading.Lock()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def record(self, frame: Frame) -> Frame:
        with self._lock:  # the tracer's frames and settle's observation come from two threads
            self._record(frame)
        return frame

    def record_observation(self, frame: Frame) -> int:
        """Record the frame Shain's next step observes; its position in the trace."""
        with self._lock:
            self._record(frame)
            return len(self.times) - 1

    def _record(self, frame: Frame) -> None:
        pixels = packed(frame)
        moment = frame.captured_at - self.started
        last = self.screens[-1] if self.screens else None
        if last is None or not np.array_equal(pixels, last):
            if len(self.screens) < MAX_SCREENS:
                self.screens.append(pixels.copy())  # the grab's buffer may be reused
                self.screen_times.append(moment)
            else:
                self.overflowed = True
        self.times.append(moment)
        self.shown.append(len(self.screens) - 1)

    def changes(self) -> list[float]:
        """When the screen changed beyond the noise rule, in seconds since the action ended."""
        for index in range(self._judged, len(self.screens)):
            previous = self.screens[index - 1] if index else self.before
            if differs(self.screens[index], previous):
                self._changes.append(self.screen_times[index])
        self._judged = len(self.screens)
        return self._changes

    def first_at_or_after(self, seconds: float) -> int:
        for position, moment in enumerate(self.times):
            if moment >= seconds:
                return position
        raise ValueError(f"the trace ends at {self.times[-1]:.2f}s, before {seconds:g}s")


class DrawingRecorder:
    """Every report of drawing on the screen while it runs, by monotonic time, on a thread of
    its own (its own X connection), for the simulated quiet periods."""

    def __init__(self, screen: Screen) -> None:
        self.times: list[float] = []
        self._done = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._record, args=(screen,), daemon=True)
        self._thread.start()
        self._ready.wait(5)

    def _record(self, screen: Screen) -> None:
        drawing = ScreenDrawing(screen)
        try:
            drawing.forget()
            self._ready.set()
            while not self._done.is_set():
                seen = drawing.latest
                latest = drawing.wait(0.05)
                if latest is not None and latest != seen:
                    self.times.append(latest)
        finally:
            drawing.close()

    def stop(self) -> list[float]:
        self._done.set()
        self._thread.join()
        return self.times


def trace_action(
    desktop: LocalDesktop, screen: Screen, action: Action, stop: StopToken, window: float
) -> tuple[Trace, SettleResult, int, list[float]]:
    """Run `action` and settle as Shain does (on drawing reports) while a thread records the
    screen; (trace, settle, the observation's frame, when drawing was reported)."""
    drawing = desktop.drawing
    if drawing is None:
        raise DesktopError("this X server reports no drawing (no DAMAGE extension)")
    before = desktop.capture()
    recorder = DrawingRecorder(screen)
    drawing.forget()
    desktop.execute(action, stop)
    trace = Trace(packed(before), time.monotonic())
    settled = threading.Event()

    def record() -> None:
        with ScreenCapture(screen) as capture:
            while not (settled.is_set() and trace_complete(trace, window)):
                trace.record(capture.grab())
                due = trace.times[-1] + TRACE_INTERVAL
                time.sleep(max(0.0, due - trace.elapsed()))

    tracer = threading.Thread(target=record, daemon=True)
    tracer.start()
    # The loop's looks: settle's capture at rest is given again to the next look while the
    # X server reports no drawing since (agent/desktop/current_frame.py).
    screen_now = CurrentFrame(desktop)
    settle = wait_until_settled(
        screen_now, fingerprint(before), stop, drawing=drawing, action=action
    )
    # What Shain's next step observes: its look right after settle returned.
    observed = trace.record_observation(screen_now())
    settled.set()
    tracer.join()
    drawn = [moment - trace.started for moment in recorder.stop()]
    return trace, settle, observed, drawn


def trace_complete(trace: Trace, window: float) -> bool:
    elapsed = trace.elapsed()
    if elapsed < window:
        return False
    changes = trace.changes()
    last_change = changes[-1] if changes else 0.0
    return elapsed - last_change >= QUIET_TAIL or elapsed >= window + MAX_EXTENSION


# ---- judging a trace


@dataclass(frozen=True)
class Observed:
    seconds: float  # time from the end of the action to the observation
    stale: bool
    difference: tuple[int, int, int, int] | None  # left, top, width, height against final


@dataclass
class ActionResult:
    task: str
    seed: int
    step: int  # the oracle step's number, from 1
    action: str
    settle_seconds: float  # what wait_until_settled returned
    settle_settled: bool  # False: it hit its ceiling
    settle_changed: bool  # whether settle saw a change (it samples 1 pixel in 64)
    drawn: list[float]  # when drawing was reported, seconds after the action
    observed: dict[str, Observed]  # method -> its observation
    changed: bool  # the screen changed beyond the noise rule
    at_rest: float  # when the screen reached its final state (ground truth)
    changes: list[float]  # when it changed beyond the noise rule
    late: bool
    animated: bool
    frames: int
    screens: int
    seconds: float  # the trace's length
    median_spacing_ms: float

    @property
    def measured(self) -> bool:
        """In the main table: no late change, no animation."""
        return not self.late and not self.animated


def method_name(sleep: float) -> str:
    return f"sleep {sleep:g} s"


def quiet_name(quiet: float) -> str:
    return f"drawing quiet {quiet:g} s (simulated)"


SAMPLING = "sampling, as before (simulated)"
METHODS = (
    "settle",
    SAMPLING,
    *(quiet_name(quiet) for quiet in QUIET_CANDIDATES),
    *(method_name(sleep) for sleep in SLEEPS),
)


def sampled_observation(trace: Trace, policy: SettlePolicy = SettlePolicy()) -> int:
    """The frame the sampling settle would have observed (a fingerprint every
    `policy.interval`, at rest after `quiet_intervals` equal ones), simulated on the trace.
    Its real samples come a capture later each (about 1-2 ms), so this flatters it a little."""
    previous, quiet, changed = trace.before[::4, ::4], 0, False
    for tick in itertools.count(1):
        moment = tick * policy.interval
        if moment > trace.times[-1]:
            return len(trace.times) - 1
        position = trace.first_at_or_after(moment)
        current = trace.screens[trace.shown[position]][::4, ::4]
        if np.array_equal(current, previous):
            quiet += 1
        else:
            changed, quiet, previous = True, 0, current
        at_rest = quiet >= policy.quiet_intervals and (
            changed or moment >= policy.first_change_grace
        )
        if at_rest or moment >= policy.ceiling:
            return position
    raise AssertionError("unreachable")


def drawing_rest_time(drawn: Sequence[float], quiet: float, grace: float) -> float:
    """When a settle on drawing reports with this quiet period returns (seconds after the
    action), from the reports' times: `quiet` after the last drawing that came before it."""
    rest = max(quiet, grace)
    for moment in sorted(drawn):
        if moment > rest:
            break
        rest = max(rest, moment + quiet)
    return rest


def has_late_change(changes: Sequence[float]) -> bool:
    previous = 0.0  # the action itself
    for moment in changes:
        if moment - previous >= LATE_QUIET:
            return True
        previous = moment
    return False


def judge(
    trace: Trace,
    settle: SettleResult,
    observed: int,
    drawn: Sequence[float],
    label: tuple[str, int, int, str],
) -> ActionResult:
    final = trace.screens[trace.shown[-1]]
    matches_final = [not differs(screen, final) for screen in trace.screens]

    def observation(position: int, seconds: float) -> Observed:
        screen = trace.shown[position]
        if matches_final[screen]:
            return Observed(round(seconds, 4), False, None)
        box = difference_box(trace.screens[screen], final)
        assert box is not None
        return Observed(round(seconds, 4), True, (box.left, box.top, box.width, box.height))

    observations = {"settle": observation(observed, trace.times[observed])}
    sampled = sampled_observation(trace)
    observations[SAMPLING] = observation(sampled, trace.times[sampled])
    grace = SettlePolicy().first_change_grace
    for quiet in QUIET_CANDIDATES:
        rest = drawing_rest_time(drawn, quiet, grace)
        position = trace.first_at_or_after(min(rest, trace.times[-1]))
        observations[quiet_name(quiet)] = observation(position, trace.times[position])
    for sleep in SLEEPS:
        observations[method_name(sleep)] = observation(trace.first_at_or_after(sleep), sleep)
    at_rest_position = len(trace.shown)
    while at_rest_position > 0 and matches_final[trace.shown[at_rest_position - 1]]:
        at_rest_position -= 1
    spacing = np.diff(trace.times) * 1000
    changes = trace.changes()
    task, seed, step, action = label
    return ActionResult(
        task=task,
        seed=seed,
        step=step,
        action=action,
        settle_seconds=round(settle.seconds, 4),
        settle_settled=settle.settled,
        settle_changed=settle.changed,
        drawn=[round(moment, 4) for moment in drawn],
        observed=observations,
        changed=bool(changes),
        # The first frame of the final run; the action's end when it never changed.
        at_rest=round(trace.times[at_rest_position], 4) if changes else 0.0,
        changes=[round(moment, 4) for moment in changes],
        late=has_late_change(changes),
        animated=trace.overflowed,
        frames=len(trace.times),
        screens=len(trace.screens),
        seconds=round(trace.times[-1], 3),
        median_spacing_ms=round(float(np.median(spacing)), 1) if spacing.size else 0.0,
    )


def save_stale_frames(folder: Path, result: ActionResult, trace: Trace, observed: int) -> None:
    """Each stale observation of one action, in full and cropped next to the final frame."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{result.task}-seed{result.seed}-step{result.step:02d}"
    final = to_image(trace.screens[trace.shown[-1]])
    final.save(folder / f"{stem}-final.png")
    for method, seen in result.observed.items():
        if seen.difference is None:
            continue
        position = observed if method == "settle" else trace.first_at_or_after(seen.seconds)
        image = to_image(trace.screens[trace.shown[position]])
        name = f"{stem}-{method.replace(' ', '')}"
        image.save(folder / f"{name}.png")
        side_by_side(image, final, Box(*seen.difference)).save(folder / f"{name}-vs-final.png")


def to_image(pixels: Pixels) -> Image.Image:
    height, width = pixels.shape
    return Image.frombuffer("RGB", (width, height), np.ascontiguousarray(pixels), "raw", "BGRX")


def side_by_side(
    observed: Image.Image, final: Image.Image, box: Box, margin: int = 30
) -> Image.Image:
    """The area that differs, observed on the left, final on the right, a red bar between."""
    area = (
        max(0, box.left - margin),
        max(0, box.top - margin),
        min(observed.width, box.left + box.width + margin),
        min(observed.height, box.top + box.height + margin),
    )
    left, right = observed.crop(area), final.crop(area)
    both = Image.new("RGB", (left.width * 2 + 8, left.height), "red")
    both.paste(left, (0, 0))
    both.paste(right, (left.width + 8, 0))
    return both


# ---- one task run (the child process)


def wait_until_quiet(desktop: LocalDesktop, stop: StopToken) -> None:
    """Wait until the screen has not changed (beyond a caret) for SETUP_QUIET seconds."""
    started = quiet_since = time.monotonic()
    previous = packed(desktop.capture())
    while time.monotonic() - quiet_since < SETUP_QUIET:
        if time.monotonic() - started > SETUP_QUIET_MAX:
            return  # go on: a late change will show in the first action's trace
        stop.sleep(0.05)
        current = packed(desktop.capture())
        if differs(current, previous):
            quiet_since = time.monotonic()
        previous = current


@dataclass
class TaskRunResult:
    task: str
    seed: int
    actions: list[ActionResult] = field(default_factory=list)
    checks_passed: bool | None = None  # None: the oracle did not finish
    error: str = ""
    seconds: float = 0.0


def run_oracle(
    task: Task,
    desktop: LocalDesktop,
    locator: Locator,
    screen: Screen,
    window: float,
    frames: Path | None,
    result: TaskRunResult,
) -> None:
    """The oracle as `--policy oracle` runs it, each action it decides on traced.

    ScriptedPolicy itself picks the actions: it waits on `wait_for` (after the trace of the
    action before), finds click and drag targets, and so cannot drift from a real run.
    """
    stop = StopToken()
    policy = ScriptedPolicy(script_of(task.oracle, locator), stop, screen, locator=locator)
    history: list[StepRecord] = []
    saved = 0
    for number in itertools.count(1):  # one oracle step per decision
        decision = policy.decide(Observation(number, desktop.capture(), desktop.size), history)
        for action in decision.actions:
            match action:
                case Done():
                    return
                case Fail(reason=reason):
                    if task.expect == "fail":  # a task that cannot be done: saying so is right
                        return
                    raise DesktopError(f"the oracle failed: {reason}")
                case Wait():
                    desktop.execute(action, stop)  # a pause written into the task, not a UI action
                    continue
            trace, settle, observed, drawn = trace_action(desktop, screen, action, stop, window)
            label = (task.name, result.seed, number, describe_action(action))
            measured = judge(trace, settle, observed, drawn, label)
            result.actions.append(measured)
            stale = any(seen.stale for seen in measured.observed.values())
            if frames is not None and stale and saved < SAVED_STALE_LIMIT:
                save_stale_frames(frames, measured, trace, observed)
                saved += 1
        history.append(StepRecord(number, decision.actions, decision.thought))


def run_task(path: Path, seed: int, window: float, frames: Path | None) -> TaskRunResult:
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="shain-settle-work-"))
    loaded = load_task(path, builtins={"workdir": str(workdir)}, seed=seed)
    task = loaded.task
    result = TaskRunResult(task.name, seed)
    try:
        with private_screen(SCREEN) as screen:
            launcher = AppLauncher(screen)
            try:
                with LocalDesktop(screen) as desktop:
                    locator, elements = screen_locator(
                        screen, desktop.capture, default_text_reader()
                    )
                    try:
                        # The task's setup as TaskSession runs it, without the run log.
                        run_setup(
                            task.setup,
                            screen=screen,
                            desktop=desktop,
                            launcher=launcher,
                            workdir=workdir,
                            locator=locator,
                            stop=StopToken(),
                            emit=lambda event: None,
                        )
                        wait_until_quiet(desktop, StopToken())
                        run_oracle(task, desktop, locator, screen, window, frames, result)
                        checks = [evaluate_check(c, screen, locator) for c in task.checks]
                        result.checks_passed = all(check.passed for check in checks)
                        failed = [f"{c.description}: {c.detail}" for c in checks if not c.passed]
                        result.error = "; ".join(failed)
                    finally:
                        elements.close()
            finally:
                launcher.close_all()
    except AgentError as error:
        result.error = f"{type(error).__name__}: {error}"
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    result.seconds = round(time.monotonic() - started, 2)
    return result


def task_run_from_json(data: dict[str, Any]) -> TaskRunResult:
    actions = []
    for item in data.pop("actions"):
        observed = {
            method: Observed(
                seen["seconds"],
                seen["stale"],
                tuple(seen["difference"]) if seen["difference"] else None,
            )
            for method, seen in item.pop("observed").items()
        }
        actions.append(ActionResult(observed=observed, **item))
    return TaskRunResult(actions=actions, **data)


# ---- the whole suite (the parent process)


def run_child(path: Path, seed: int, args: argparse.Namespace) -> TaskRunResult:
    """One task run in its own process: pyautogui binds one display per process."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--one-task",
        str(path),
        "--seed",
        str(seed),
        "--window",
        str(args.window),
    ]
    if args.frames is not None:
        command += ["--frames", str(args.frames)]
    try:
        child = subprocess.run(command, capture_output=True, text=True, timeout=CHILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        return TaskRunResult(path.stem, seed, error=f"hung for {CHILD_TIMEOUT:g}s")
    try:
        return task_run_from_json(json.loads(child.stdout.strip().splitlines()[-1]))
    except (IndexError, json.JSONDecodeError, TypeError, KeyError):
        tail = (child.stderr or child.stdout).strip()[-600:]
        return TaskRunResult(path.stem, seed, error=f"exit code {child.returncode}: {tail}")


def run_suite(args: argparse.Namespace) -> list[TaskRunResult]:
    tasks = find_tasks(BENCH_TASKS, args.tasks)
    planned = [(task.path, seed) for task in tasks for seed in range(1, args.seeds + 1)]
    results: list[TaskRunResult | None] = [None] * len(planned)
    finished = 0
    lock = threading.Lock()

    def work(index: int) -> None:
        nonlocal finished
        path, seed = planned[index]
        result = run_child(path, seed, args)
        with lock:
            results[index] = result
            finished += 1
            print(progress_line(finished, len(planned), result), file=sys.stderr, flush=True)

    with ThreadPoolExecutor(max_workers=args.parallel) as pool:
        for future in [pool.submit(work, index) for index in range(len(planned))]:
            future.result()
    return [result for result in results if result is not None]


def progress_line(done: int, total: int, result: TaskRunResult) -> str:
    stale = sum(action.observed["settle"].stale for action in result.actions)
    checks = {True: "checks hold", False: "CHECKS FAIL", None: "did not finish"}
    line = (
        f"[{done}/{total}] {result.task} seed {result.seed}: {len(result.actions)} actions, "
        f"settle stale {stale}, {checks[result.checks_passed]}, {result.seconds:.0f}s"
    )
    return line + (f" ({result.error})" if result.error else "")


# ---- the report


def percentile(values: Sequence[float], share: float) -> float:
    return float(np.percentile(values, share)) if values else float("nan")


def summarise(actions: Sequence[ActionResult]) -> dict[str, dict[str, float]]:
    summary = {}
    for method in METHODS:
        seconds = [action.observed[method].seconds for action in actions]
        stale = sum(action.observed[method].stale for action in actions)
        summary[method] = {
            "actions": len(actions),
            "median_s": round(statistics.median(seconds), 3) if seconds else float("nan"),
            "p90_s": round(percentile(seconds, 90), 3),
            "stale": stale,
            "stale_rate": round(stale / len(actions), 4) if actions else float("nan"),
        }
    rest = [action.at_rest for action in actions if action.changed]
    summary["screen at rest (truth)"] = {
        "actions": len(rest),
        "median_s": round(statistics.median(rest), 3) if rest else float("nan"),
        "p90_s": round(percentile(rest, 90), 3),
    }
    return summary


def report(results: Sequence[TaskRunResult], args: argparse.Namespace) -> dict[str, Any]:
    actions = [action for result in results for action in result.actions]
    measured = [action for action in actions if action.measured]
    return {
        "settings": {
            "tasks": args.tasks or "all",
            "seeds": args.seeds,
            "window_s": args.window,
            "parallel": args.parallel,
            "screen": str(SCREEN),
            "noise_rule": f"changes within {CARET_MAX_WIDTH}x{CARET_MAX_HEIGHT} px are a caret",
            "late_quiet_s": LATE_QUIET,
        },
        "measured": summarise(measured),
        "all": summarise(actions),
        "counts": {
            "task_runs": len(results),
            "task_runs_checks_hold": sum(result.checks_passed is True for result in results),
            "actions": len(actions),
            "measured": len(measured),
            "measured_changed_screen": sum(action.changed for action in measured),
            "late": sum(action.late for action in actions),
            "animated": sum(action.animated for action in actions),
            "settle_hit_ceiling": sum(not action.settle_settled for action in actions),
            # Its fingerprint samples 1 pixel in 64: a thin change can slip between them.
            "settle_missed_change": sum(
                action.changed and not action.settle_changed for action in actions
            ),
        },
        "task_runs": [asdict(result) for result in results],
    }


def markdown_table(summary: dict[str, dict[str, float]]) -> list[str]:
    settle_median = summary["settle"]["median_s"]
    lines = [
        "| method | median | p90 | stale | stale rate | median vs settle |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for method in METHODS:
        row = summary[method]
        ratio = row["median_s"] / settle_median if settle_median else float("nan")
        lines.append(
            f"| {method} | {row['median_s']:.3f} s | {row['p90_s']:.3f} s | "
            f"{row['stale']:.0f}/{row['actions']:.0f} | {row['stale_rate']:.1%} | {ratio:.1f}x |"
        )
    truth = summary["screen at rest (truth)"]
    lines.append(
        f"| screen at rest (truth, {truth['actions']:.0f} that changed) | "
        f"{truth['median_s']:.3f} s | {truth['p90_s']:.3f} s | | | |"
    )
    return lines


BOX_NOTE = (
    "Box: where the first stale observation differs from the final frame (left, top, width, "
    "height); times in seconds after the action."
)


def describe(action: ActionResult) -> str:
    """One line: which observations were stale, where they differed, when the screen moved."""
    stale = [method for method, seen in action.observed.items() if seen.stale]
    first = action.observed[stale[0]] if stale else action.observed["settle"]
    settle = action.observed["settle"].seconds
    # Long runs of changes (an animation) are summed up by their first and last.
    moments = [f"{moment:.2f}" for moment in action.changes]
    if len(moments) > 6:
        moments = [*moments[:3], f"... ({len(moments) - 5} more)", *moments[-2:]]
    return (
        f"- {action.task} seed {action.seed} step {action.step} `{action.action}`: "
        f"stale: {', '.join(stale) or 'none'}; box {first.difference}; settle looked at "
        f"{settle:.2f} s; changes at {', '.join(moments) or 'none'} s; at rest "
        f"{action.at_rest:.2f} s"
    )


def format_report(result: dict[str, Any], actions: Sequence[ActionResult]) -> str:
    counts, settings = result["counts"], result["settings"]
    lines = [
        f"# Settle vs fixed sleeps: {counts['task_runs']} task runs ({settings['tasks']}, "
        f"seeds 1-{settings['seeds']}), window {settings['window_s']:g} s, "
        f"{settings['screen']}",
        "",
        f"Time from the end of an action to the observation, and stale rate, over "
        f"{counts['measured']} actions ({counts['measured_changed_screen']} changed the screen; "
        f"left out: {counts['late']} with a late change, {counts['animated']} animated):",
        "",
        *markdown_table(result["measured"]),
        "",
        f"All {counts['actions']} actions:",
        "",
        *markdown_table(result["all"]),
        "",
        f"Noise rule: {settings['noise_rule']}. Task runs whose checks hold: "
        f"{counts['task_runs_checks_hold']}/{counts['task_runs']}. Settle hit its ceiling: "
        f"{counts['settle_hit_ceiling']}; saw no change where the screen changed: "
        f"{counts['settle_missed_change']}.",
    ]
    stale = [a for a in actions if a.measured and any(seen.stale for seen in a.observed.values())]
    if stale:
        lines += ["", f"Stale observations (measured actions). {BOX_NOTE}", *map(describe, stale)]
    late = [a for a in actions if a.late]
    if late:
        lines += ["", f"Left out for a late change. {BOX_NOTE}", *map(describe, late)]
    return "\n".join(lines)


# ---- the command line


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python bench/settle_vs_sleep.py",
        description=(
            "On the benchmark suite's oracle actions, compare Shain's settle with fixed sleeps "
            "of 0.5, 1 and 2 s: median and p90 time from an action to the observation, and "
            "the stale rate (observations taken before the screen finished changing, found by "
            "comparing each with the last frame of a trace recorded after the action). Each "
            "task run is a child process on its own 1920x1080 virtual screen."
        ),
        epilog=(
            "A blinking caret is not a change: two frames differ only when the bounding box "
            f"of their changed pixels is wider than {CARET_MAX_WIDTH} px or taller than "
            f"{CARET_MAX_HEIGHT} px. Needs Xvfb, openbox, D-Bus, at-spi2-core and the apps "
            "the tasks launch. Progress goes to stderr, the report to stdout."
        ),
    )
    parser.add_argument(
        "--tasks", metavar="GLOB", help="only tasks whose name or file name matches (default all)"
    )
    parser.add_argument(
        "--seeds", type=int, default=1, metavar="N", help="run each task with seeds 1..N (1)"
    )
    parser.add_argument(
        "--window",
        type=float,
        default=DEFAULT_WINDOW,
        metavar="SECONDS",
        help=(
            f"record at least this long after each action (default {DEFAULT_WINDOW:g}); "
            f"longer while the screen still changes, by up to {MAX_EXTENSION:g} s. Must exceed "
            f"{max(SLEEPS):g}: the last frame judges the sleeps"
        ),
    )
    parser.add_argument(
        "--parallel", type=int, default=2, metavar="N", help="task runs at once (default 2)"
    )
    parser.add_argument(
        "--frames",
        type=Path,
        metavar="DIR",
        help="save stale observations and the final frame of their action as PNGs here",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    # Internal: a child process runs one task and prints its result as JSON.
    parser.add_argument("--one-task", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")
    if args.parallel < 1:
        parser.error("--parallel must be at least 1")
    if args.window <= max(SLEEPS):
        parser.error(f"--window must be longer than the longest sleep, {max(SLEEPS):g} s")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not sys.platform.startswith("linux"):
        print("this benchmark needs Linux (it runs its own Xvfb displays)", file=sys.stderr)
        return 2
    if args.one_task is not None:
        result = run_task(args.one_task, args.seed, args.window, args.frames)
        print(json.dumps(asdict(result)))
        return 0
    started = time.monotonic()
    results = run_suite(args)
    print(f"finished in {time.monotonic() - started:.0f}s", file=sys.stderr)
    summary = report(results, args)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        actions = [action for result in results for action in result.actions]
        print(format_report(summary, actions))
    return 0


if __name__ == "__main__":
    sys.exit(main())
