"""A run's executed actions as task-file steps, each click named by what it was.

A click becomes, in this order of preference:
- `click: {role, name, within: {window}}` (with `nth` when the same role and name occur more
  than once there) from the element the run saw under the point before pressing;
- `click: {x, y, within: {window}}`, a point relative to the window it was in, with a comment
  saying why, when no element was there to name (a canvas, an app without an accessibility
  tree);
- a screen point, with a comment, only when no window was there either (the desktop).
Typed text keeps secrets as their placeholders (the run log never had their values) and
doubles other braces, which a task file would read as variables; the run's workdir is
written `{workdir}`. A wait of the script (an oracle's `wait_for`) is kept as a wait of the
time it took, with a margin: the log says how long, not what for. A window that came up and
took the keyboard focus after an action becomes a `wait_for` before the next step, so the
replay does not type into a window that is not there yet.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent.actions import Action, Click, Drag, KeyPress, Move, Scroll, TypeText, Wait
from agent.perception.pointed import window_pattern
from agent.record.events import ActionContext, ActionExecuted, Decided, LoggedEvent

if TYPE_CHECKING:
    from agent.learn.read_text import PointedText

# One step as the task file holds it: its kind, and the mapping or value under it.
StepData = dict[str, Any]


@dataclass(frozen=True, slots=True)
class LearnedStep:
    """One step of a learned task file, and why it is written so (a comment), if it needs it."""

    data: StepData
    comment: str = ""


@dataclass(frozen=True, slots=True)
class Executed:
    """An action carried out, and what was seen about it (None: nothing); for a click on no
    element, the text OCR read under it (a demonstration's)."""

    action: Action
    context: ActionContext | None
    text: PointedText | None = None


@dataclass(frozen=True, slots=True)
class _Waited:
    """A script's step that waited for a condition without acting (its `wait_for`)."""

    seconds: float


@dataclass(frozen=True, slots=True)
class WindowClosed:
    """The window an action was made in closed after it (a dialog's OK): the next step waits
    until it has, as the one who did it saw it go."""

    title: str


# A scripted wait shorter than this held nothing up: the condition held already.
WAITED_SECONDS = 0.05


def executed_actions(events: Iterable[LoggedEvent]) -> list[Executed | _Waited]:
    """The actions a run carried out, in order, each with what the run saw about it, and
    the waits of its script (a decision with no action and no model: a `wait_for`)."""
    executed: list[Executed | _Waited] = []
    for event in events:
        if isinstance(event, ActionExecuted) and isinstance(event.action, Action):
            executed.append(Executed(event.action, None))
        elif isinstance(event, ActionContext) and executed:
            last = executed[-1]
            if isinstance(last, Executed) and last.context is None:
                executed[-1] = Executed(last.action, event)
        elif (
            isinstance(event, Decided)
            and not event.actions
            and event.input_tokens == 0
            and event.decide_seconds >= WAITED_SECONDS
        ):
            executed.append(_Waited(event.decide_seconds))
    return executed


def learned_steps(events: Iterable[LoggedEvent], spelling: Spelling) -> list[LearnedStep]:
    """The steps that do again what a run did, its text written as `spelling` says."""
    return steps_of(executed_actions(events), spelling)


def steps_of(
    done_in_order: Iterable[Executed | _Waited | WindowClosed],
    spelling: Spelling,
    windows: tuple[str, ...] | None = None,
) -> list[LearnedStep]:
    """The steps that do these actions again (a run's, or a demonstration's), each with what
    was seen about it, its text written as `spelling` says; `windows`: the windows' titles
    before the first action, when known."""
    steps: list[LearnedStep] = []
    for done in done_in_order:
        if isinstance(done, _Waited):
            steps.append(_waited(done.seconds))
            continue
        if isinstance(done, WindowClosed):
            gone = {"window": spelling.window(done.title), "gone": True}
            steps.append(LearnedStep({"wait_for": gone}))
            continue
        steps.append(_step(done, spelling))
        context = done.context
        if context is None:
            windows = None
            continue
        focused = context.focused
        if windows is not None and focused and focused not in windows:
            steps.append(LearnedStep({"wait_for": {"window": spelling.window(focused)}}))
        windows = context.windows
    return steps


def _waited(seconds: float) -> LearnedStep:
    # What it waited for (a file, a window gone) is not in the log, only how long it took.
    margin = math.ceil((seconds * 1.5 + 0.3) * 10) / 10
    return LearnedStep({"wait": margin}, f"the run waited {seconds:.1f}s here for something")


def _step(done: Executed, spelling: Spelling) -> LearnedStep:
    match done.action:
        case Click() as click:
            return _click(click, done.context, spelling, done.text)
        case TypeText(text=text):
            return LearnedStep({"type": spelling.typed(text)})
        case KeyPress(keys=keys):
            return LearnedStep({"key": "+".join("space" if k == " " else k for k in keys)})
        case Wait(seconds=seconds):
            return LearnedStep({"wait": seconds})
        case Move(x=x, y=y):
            return LearnedStep({"move": {"x": x, "y": y}}, "a screen point, as the run moved")
        case Scroll(x=x, y=y, scroll_x=dx, scroll_y=dy):
            spec: dict[str, int] = {"x": x, "y": y}
            for name, amount in (("down", dy), ("up", -dy), ("right", dx), ("left", -dx)):
                if amount > 0:
                    spec[name] = amount
            return LearnedStep({"scroll": spec}, "a screen point, as the run scrolled")
        case Drag(path=path, button=button):
            drag: dict[str, Any] = {"path": [[p.x, p.y] for p in path]}
            if button != "left":
                drag["button"] = button
            return LearnedStep({"drag": drag}, "screen points, as the run dragged")
    raise AssertionError(f"not an input action: {done.action}")  # Done/Fail/AskBoss end a run


def _click(
    click: Click, context: ActionContext | None, spelling: Spelling, text: PointedText | None
) -> LearnedStep:
    kind = "double_click" if click.count == 2 else "click"
    extra: dict[str, Any] = {}
    if click.button != "left":
        extra["button"] = click.button
    if click.count == 3:
        extra["count"] = 3
    element = context.element if context is not None else None
    if element is not None:
        spec: dict[str, Any] = {"role": element.role}
        if element.name:
            spec["name"] = spelling.literal(element.name)
        spec["within"] = {"window": spelling.window(element.window)}
        if element.matches > 1:
            spec["nth"] = element.nth
        return LearnedStep({kind: {**spec, **extra}})
    if text is not None and element is None:
        spec = {
            "text": spelling.literal(text.text),
            "within": {"window": spelling.window(text.window)},
        }
        if text.matches > 1:
            spec["nth"] = text.nth
        why = "no accessible element was under the point: the text OCR read there"
        return LearnedStep({kind: {**spec, **extra}}, why)
    if context is not None and context.window and context.window_box is not None:
        box = context.window_box
        point = {"x": click.x - box.left, "y": click.y - box.top}
        within = {"within": {"window": spelling.window(context.window)}}
        why = "no accessible element was under the point: a point in its window"
        return LearnedStep({kind: {**point, **within, **extra}}, why)
    why = (
        "the run recorded no window here: a screen point"
        if context is None
        else "no window was under the point (the desktop): a screen point"
    )
    return LearnedStep({kind: {"x": click.x, "y": click.y, **extra}}, why)


def is_point(step: LearnedStep) -> bool:
    """Whether a click step is written as a point (no element was there to name)."""
    spec = step.data.get("click") or step.data.get("double_click")
    return isinstance(spec, dict) and "x" in spec


class Spelling:
    """How a run's text is written in a task file: braces doubled (a task file reads `{x}` as a
    variable), the run's workdir as `{workdir}` (each run gets its own), secrets' placeholders
    kept, and typed text that is a variable's whole value as that variable."""

    def __init__(
        self,
        variables: Mapping[str, str],
        secrets: Collection[str],
        workdir: str = "",
        titled: Collection[str] = (),
    ) -> None:
        self._variables = variables
        self._placeholders = {"{" + name + "}" for name in secrets}
        self._workdir = workdir
        # Text put back as `{name}` in window titles: the workdir, and these variables (a
        # file name typed, which the title then shows).
        self._in_titles = {
            value: name
            for name, value in [("workdir", workdir), *((n, variables[n]) for n in titled)]
            if value
        }

    def literal(self, text: str) -> str:
        doubled = text.replace("{", "{{").replace("}", "}}")
        return doubled.replace(self._workdir, "{workdir}") if self._workdir else doubled

    def window(self, title: str) -> str:
        """The regular expression for exactly this title, the workdir (and the variables
        put back in titles) in it as `{workdir}` (and `{name}`)."""
        shown = [value for value in self._in_titles if value in title]
        if not shown:
            return self.literal(window_pattern(title))
        longest_first = "|".join(map(re.escape, sorted(shown, key=len, reverse=True)))
        parts = re.split(f"({longest_first})", title)
        return (
            "^"
            + "".join(
                "{" + self._in_titles[part] + "}" if index % 2 else self.literal(re.escape(part))
                for index, part in enumerate(parts)
            )
            + "$"
        )

    def typed(self, text: str) -> str:
        for name, value in self._variables.items():
            if value and text == value:
                return "{" + name + "}"
        kept = "|".join(map(re.escape, self._placeholders))
        parts = re.split(f"({kept})", text) if kept else [text]
        return "".join(part if part in self._placeholders else self.literal(part) for part in parts)
