"""Secrets typed only where they belong, and never shown to the model.

A task's secrets reach its steps and its model as placeholders, `{MAIL_PASSWORD}` (the task
file keeps them so, agent/taskfile/lines.py). A `type` action that carries a placeholder is
checked here before it runs: by default a secret goes only into a field the accessibility tree
calls a password field; a task file may name the windows it may go into instead. Anywhere else
the action waits for the boss (headless: denied), and the reason says which secret and where,
never the value. Only when the action runs is the value put in.

A secret typed into a field that shows it (a plain entry of a window the task allows) would
be on every later screenshot: from then on, what shows it is painted over in each frame before
the frame reaches the model or the log. Where it shows is known two ways: the part of the
screen that changed as it was typed (any app), and the accessible elements whose text holds it
(when the field moves later).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from agent.actions import Action, TypeText
from agent.desktop.protocol import Frame
from agent.desktop.windows import WindowInfo
from agent.geometry import Box
from agent.guard import ALLOW, Guard, Verdict
from agent.perception.atspi import Element

PASSWORD_ROLE = "password text"
PAINT = (48, 48, 48, 255)  # BGRA: what covers a secret on a frame


@dataclass(frozen=True, slots=True)
class Secret:
    name: str
    value: str
    windows: str | None  # a regular expression for window titles; None: password fields only

    @property
    def placeholder(self) -> str:
        return "{" + self.name + "}"

    def place(self) -> str:
        if self.windows is None:
            return "a password field"
        return f"a window titled /{self.windows}/"


@dataclass(frozen=True, slots=True)
class Focus:
    """Where typing goes now: the focused window's title and the focused element."""

    window: str
    element: Element | None

    def describe(self) -> str:
        role = f" ({self.element.role})" if self.element is not None else ""
        return f"the window {self.window!r}{role}" if self.window else f"no window{role}"


class SecretKeeper:
    """The guard for secrets' places, the one that puts their values in, and the painter."""

    def __init__(
        self,
        secrets: Sequence[Secret],
        elements: Callable[[], list[Element]],
        windows: Callable[[], list[WindowInfo]],
        capture: Callable[[], Frame],
    ) -> None:
        self.secrets = tuple(secret for secret in secrets if secret.value)
        self._elements = elements
        self._windows = windows
        self._capture = capture
        self._shown = False  # a secret went into a field that shows it
        self._before: Frame | None = None  # the screen before one was typed there
        self._shows: list[Box] = []  # what changed on the screen as it was typed

    def named_in(self, action: Action) -> list[Secret]:
        match action:
            case TypeText(text=text):
                return [secret for secret in self.secrets if secret.placeholder in text]
        return []

    def check(self, action: Action) -> Verdict:
        """Allow typing a secret only into its place; anything else waits for the boss."""
        named = self.named_in(action)
        if not named:
            return ALLOW
        focus = self.focus()
        for secret in named:
            if not self._belongs(secret, focus):
                return Verdict(
                    "ask",
                    f"types the secret {secret.name} into {focus.describe()}; it may go only "
                    f"into {secret.place()}",
                )
        return ALLOW

    def resolve(self, action: Action) -> Action:
        """The action to carry out: its placeholders replaced by the secrets' values."""
        named = self.named_in(action)
        if not named or not isinstance(action, TypeText):
            return action
        focus = self.focus()
        if focus.element is None or focus.element.role != PASSWORD_ROLE:
            self._shown = True
            before = self._capture()  # (a copy: a capture may share its grab's buffer)
            self._before = replace(before, pixels=before.pixels.copy())
        text = action.text
        for secret in named:
            text = text.replace(secret.placeholder, secret.value)
        return replace(action, text=text)

    def settled(self) -> None:
        """After an action and its settle: where a secret just typed in the clear shows."""
        if self._before is None:
            return
        before, self._before = self._before, None
        after = self._capture()
        if before.pixels.shape != after.pixels.shape:
            return
        changed = np.any(before.pixels[:, :, :3] != after.pixels[:, :, :3], axis=2)
        rows, columns = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
        if rows.size and columns.size:
            margin = 4  # the field's border and a glyph's antialiasing
            left, top = int(columns[0]) - margin, int(rows[0]) - margin
            right, bottom = int(columns[-1]) + margin, int(rows[-1]) + margin
            self._shows.append(Box(left, top, right - left + 1, bottom - top + 1))

    def censor(self, frame: Frame) -> Frame:
        """The frame with every box that shows a secret painted over."""
        if not self._shown:
            return frame
        boxes = list(self._shows)
        for element in self._elements():
            shown = f"{element.name}\n{element.text or ''}"
            if any(secret.value in shown for secret in self.secrets):
                boxes.append(element.box)
        if not boxes:
            return frame
        pixels = frame.pixels.copy()
        for box in boxes:
            left, top = max(box.left, 0), max(box.top, 0)
            right, bottom = (
                min(box.left + box.width, frame.width),
                min(box.top + box.height, frame.height),
            )
            if right > left and bottom > top:
                pixels[top:bottom, left:right] = np.array(PAINT, dtype=np.uint8)
        return replace(frame, pixels=pixels)

    def focus(self) -> Focus:
        windows = self._windows()
        focused = next((w for w in windows if w.focused), None) or next(
            (w for w in windows if w.active), None
        )
        element = next((e for e in self._elements() if "focused" in e.states), None)
        return Focus(focused.title if focused is not None else "", element)

    def _belongs(self, secret: Secret, focus: Focus) -> bool:
        if secret.windows is not None:
            return re.search(secret.windows, focus.window) is not None
        return focus.element is not None and focus.element.role == PASSWORD_ROLE


class Guards:
    """Several guards as one: the strictest verdict wins (reject, then ask, then allow)."""

    def __init__(self, *guards: Guard) -> None:
        self._guards = guards

    def check(self, action: Action) -> Verdict:
        verdicts = [guard.check(action) for guard in self._guards]
        for outcome in ("reject", "ask"):
            for verdict in verdicts:
                if verdict.outcome == outcome:
                    return verdict
        return ALLOW
