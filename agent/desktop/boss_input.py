"""The boss's hands on the keyboard and mouse: a global stop hotkey, and a pause on takeover.

`BossWatcher` runs pynput's keyboard and mouse listeners (X RECORD on X11). Those report every
input event, the agent's own included, and on X11 their `injected` flag is always False: it is
the SendEvent bit, and XTest input (pyautogui, xdotool, agent.desktop.x11_keymap) never sets
it. So the desktop tells the watcher what it injects: it runs each action inside
`InjectionWindow.active(action)`, and an event is the agent's own when it is of a kind that
action injects (keys for typing; pointer events at the action's own points for moves, clicks,
scrolls and drags), seen while the action runs or within a short grace after. Anything else
is the boss. Where pynput does flag injected input (macOS, Windows) a flagged event is never
the boss. The hotkey counts whoever presses it.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from agent.actions import Action, Click, Drag, KeyPress, Move, Scroll, TypeText
from agent.desktop.screen import Screen
from agent.errors import ActionError, EnvironmentProblem
from agent.keys import MODIFIERS, canonical_key, parse_key_combination
from agent.stop import StopToken

DEFAULT_HOTKEY = "ctrl+alt+escape"
_log = logging.getLogger(__name__)
_MODIFIER_KEYS = frozenset(MODIFIERS)
ToInput = Callable[[int, int], tuple[int, int]]


@dataclass(frozen=True, slots=True)
class _Expected:
    kinds: frozenset[str] | None  # "move", "button", "scroll", "key"; None: any kind
    points: frozenset[tuple[int, int]] | None  # where its pointer events land; None: anywhere


def _expected(action: Action | None, to_input: ToInput | None) -> _Expected:
    if action is None:
        return _Expected(None, None)
    convert: ToInput = to_input or (lambda x, y: (x, y))
    match action:
        case Move(x=x, y=y):
            return _Expected(frozenset({"move"}), frozenset({convert(x, y)}))
        case Click(x=x, y=y):
            return _Expected(frozenset({"move", "button"}), frozenset({convert(x, y)}))
        case Scroll(x=x, y=y):
            return _Expected(frozenset({"move", "scroll"}), frozenset({convert(x, y)}))
        case Drag(path=path):
            points = frozenset(convert(p.x, p.y) for p in path)
            return _Expected(frozenset({"move", "button"}), points)
        case TypeText() | KeyPress():
            return _Expected(frozenset({"key"}), None)
    return _Expected(frozenset(), None)  # Wait, Done...: no input at all


class InjectionWindow:
    """What the agent is injecting now, and what it injected in the last `grace` seconds.

    Thread-safe; the desktop enters `active(action)` around each action, the watcher asks
    `owns(kind, x, y)` from its listener threads.
    """

    def __init__(self, grace: float = 0.1, tolerance: int = 2) -> None:
        self.grace = grace  # events arrive on the listener thread a little after injection
        self.tolerance = tolerance  # pixels around a point the agent moved to
        self._lock = threading.Lock()
        self._active: dict[int, _Expected] = {}
        self._recent: list[tuple[float, _Expected]] = []  # (counts until, expected)
        self._next = 0

    @contextlib.contextmanager
    def active(
        self, action: Action | None = None, to_input: ToInput | None = None
    ) -> Iterator[None]:
        """Input inside is the agent's: all of it, or only what `action` injects (at its points,
        mapped by the desktop's `to_input` from capture pixels to input coordinates)."""
        expected = _expected(action, to_input)
        with self._lock:
            token = self._next
            self._next += 1
            self._active[token] = expected
        try:
            yield
        finally:
            with self._lock:
                del self._active[token]
                now = time.monotonic()
                self._recent = [(until, e) for until, e in self._recent if until > now]
                self._recent.append((now + self.grace, expected))

    @property
    def injecting(self) -> bool:
        with self._lock:
            return bool(self._active)

    def owns(self, kind: str, x: int | None = None, y: int | None = None) -> bool:
        """Whether an event of `kind` (move, button, scroll, key) seen now is the agent's."""
        now = time.monotonic()
        with self._lock:
            candidates = [*self._active.values(), *(e for u, e in self._recent if u >= now)]
        return any(self._matches(expected, kind, x, y) for expected in candidates)

    def _matches(self, expected: _Expected, kind: str, x: int | None, y: int | None) -> bool:
        if expected.kinds is not None and kind not in expected.kinds:
            return False
        if expected.points is None or kind == "key" or x is None or y is None:
            return True
        near = range(-self.tolerance, self.tolerance + 1)
        return any((x + dx, y + dy) in expected.points for dx in near for dy in near)


def _key_name(key: Any) -> str | None:
    """A pynput Key or KeyCode -> a canonical key name (agent.keys), or None."""
    char = getattr(key, "char", None)
    if isinstance(char, str) and len(char) == 1:
        if ord(char) < 0x20:  # ctrl+letter arrives as a control character on some systems
            char = chr(ord(char) + 0x60)
        with contextlib.suppress(ActionError):
            return canonical_key(char)
        return None
    name = getattr(key, "name", None)  # a pynput Key: ctrl_l, alt_gr, cmd_r, esc, page_up...
    if not isinstance(name, str):
        return None
    for spelling in (name, name.removesuffix("_l").removesuffix("_r")):
        with contextlib.suppress(ActionError):
            return canonical_key(spelling)
    return None


class BossWatcher:
    """Stops `stop` on the hotkey; pauses it when the boss, not the agent, uses the mouse or keys.

    Watches `screen`, the boss's own desktop. pynput's listeners open the display this
    process's DISPLAY names and take no other, so `screen` must be that one (the desktop the
    process was started on, or the one a LocalDesktop bound). Use as a context manager, or
    call start() and stop_watching(). `on_boss_input` gets "you moved the mouse" and the like,
    on a listener thread.
    """

    def __init__(
        self,
        stop: StopToken,
        screen: Screen,
        *,
        hotkey: str = DEFAULT_HOTKEY,
        injection: InjectionWindow | None = None,
        on_boss_input: Callable[[str], None] | None = None,
        pause_on_boss_input: bool = True,
        join_timeout: float = 1.0,
    ) -> None:
        keys = parse_key_combination(hotkey)  # ActionError (a ConfigError) for a bad one
        self.hotkey = "+".join(keys)
        self._combination = frozenset(keys)
        self._token = stop
        self.screen = screen
        self.injection = injection if injection is not None else InjectionWindow()
        self._on_boss_input = on_boss_input
        self.pause_on_boss_input = pause_on_boss_input
        self._join_timeout = join_timeout
        self._lock = threading.Lock()
        self._pressed: set[str] = set()
        self._listeners: list[Any] = []
        self._control: Any = None  # X11: a connection of our own to end the RECORD contexts

    def __enter__(self) -> BossWatcher:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop_watching()

    @property
    def watching(self) -> bool:
        return bool(self._listeners)

    def start(self, ready_timeout: float = 5.0) -> BossWatcher:
        if self._listeners:
            return self
        linux = sys.platform.startswith("linux")
        if linux and not self.screen.display:
            raise EnvironmentProblem(
                "cannot watch the keyboard and mouse: the screen has no X display"
            )
        try:
            from pynput import keyboard, mouse
        except Exception as error:
            raise EnvironmentProblem(f"cannot watch the keyboard and mouse: {error}") from error
        self._listeners = [keyboard.Listener(on_press=self._on_press, on_release=self._on_release)]
        if self.pause_on_boss_input:
            self._listeners.append(
                mouse.Listener(
                    on_move=self._on_move, on_click=self._on_click, on_scroll=self._on_scroll
                )
            )
        try:
            if linux:
                from Xlib.display import Display

                self._control = Display(self.screen.display)
            for listener in self._listeners:
                listener.start()
            deadline = time.monotonic() + ready_timeout
            for listener in self._listeners:
                # pynput's own wait() has no timeout, and a listener without RECORD never gets
                # ready: it dies quietly instead.
                while not getattr(listener, "_ready", True):
                    if not listener.is_alive() or time.monotonic() > deadline:
                        raise EnvironmentProblem(
                            "cannot watch the keyboard and mouse"
                            + (" (does the X server have the RECORD extension?)" if linux else "")
                        )
                    time.sleep(0.005)
        except BaseException:
            self.stop_watching()
            raise
        return self

    def stop_watching(self) -> None:
        """Stop and join the listeners; safe to call twice, or from a callback."""
        listeners, self._listeners = self._listeners, []
        control, self._control = self._control, None
        for listener in listeners:
            with contextlib.suppress(Exception):
                listener.stop()
            # pynput queues its RECORD disable on the blocked connection without flushing it,
            # so join() hangs until the next input event; ending the context from another
            # connection wakes the listener at once.
            context = getattr(listener, "_context", None)
            if control is not None and context is not None:
                with contextlib.suppress(Exception):
                    control.record_disable_context(context)
        if control is not None:
            with contextlib.suppress(Exception):
                control.sync()
        for listener in listeners:
            if listener is not threading.current_thread():
                with contextlib.suppress(Exception):  # join re-raises a callback's error
                    listener.join(self._join_timeout)
        if control is not None:
            with contextlib.suppress(Exception):
                control.close()
        with self._lock:
            self._pressed.clear()

    # --- listener callbacks (pynput threads); must never raise, or the listener dies ---

    def _on_press(self, key: Any, injected: bool = False) -> None:
        self._key(_key_name(key), True, injected)

    def _on_release(self, key: Any, injected: bool = False) -> None:
        self._key(_key_name(key), False, injected)

    def _on_move(self, x: int, y: int, injected: bool = False) -> None:
        self._pointer("move", x, y, injected, "you moved the mouse")

    def _on_click(
        self, x: int, y: int, _button: Any, pressed: bool, injected: bool = False
    ) -> None:
        if pressed:
            self._pointer("button", x, y, injected, "you clicked")

    def _on_scroll(self, x: int, y: int, _dx: int, _dy: int, injected: bool = False) -> None:
        self._pointer("scroll", x, y, injected, "you scrolled")

    def _key(self, name: str | None, pressed: bool, injected: bool) -> None:
        with self._lock:
            if not pressed:
                self._pressed.discard(name or "")
                return
            if name is not None:
                self._pressed.add(name)
            complete = name in self._combination and self._combination <= self._pressed
        if complete:
            self._token.stop(f"stopped by the hotkey {self.hotkey}")
        elif name not in _MODIFIER_KEYS and not injected and not self.injection.owns("key"):
            # a modifier alone changes nothing on screen, and starts the hotkey
            self._boss("you pressed a key")

    def _pointer(self, kind: str, x: int, y: int, injected: bool, description: str) -> None:
        if not injected and not self.injection.owns(kind, x, y):
            self._boss(description)

    def _boss(self, description: str) -> None:
        if not self.pause_on_boss_input:
            return
        with self._lock:
            if self._token.stopped or self._token.paused:
                return
            self._token.pause()
        if self._on_boss_input is not None:
            try:
                self._on_boss_input(description)
            except Exception:
                _log.exception("the on_boss_input callback failed")
