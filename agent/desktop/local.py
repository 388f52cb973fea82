"""LocalDesktop: the real screen, through mss (capture), pyautogui and pynput (input).

The only module that drives mss, pyautogui and pynput's controller (boss_input.py listens with
pynput); they are imported when a desktop is opened, not at import time, because without a
display they raise (or exit) on import.
Works wherever those libraries do; X11-only helpers live in their own modules.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sys
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any, Protocol

from agent.actions import (
    Action,
    AskBoss,
    Click,
    Done,
    Drag,
    Fail,
    KeyPress,
    Move,
    Scroll,
    TypeText,
    Wait,
    check_on_screen,
    points_of,
)
from agent.desktop.boss_input import InjectionWindow
from agent.desktop.capture import ScreenCapture
from agent.desktop.damage import ScreenDrawing
from agent.desktop.exclusions import MASK_BGRA, DrawingOrMasking, ExcludedRegions
from agent.desktop.protocol import Drawing, Frame
from agent.desktop.screen import Screen
from agent.desktop.x11_input import BUTTONS, X11Input
from agent.errors import ActionError, DesktopError, EnvironmentProblem, ScreenGone, Stopped
from agent.geometry import Size
from agent.keys import MODIFIERS, executor_key_name
from agent.stop import StopToken

_log = logging.getLogger(__name__)

_DRAG_POINT_SECONDS = 0.03
# Characters pyautogui types itself; anything else goes through the text typer below.
_PYAUTOGUI_CHARACTERS = {chr(code) for code in range(0x20, 0x7F)} | {"\n", "\t"}
_TYPED_AS = {"\n": "enter", "\t": "tab", " ": "space"}
# X keysym names of the punctuation characters (letters and digits are their own names).
_KEYSYM_NAMES = {
    "!": "exclam", '"': "quotedbl", "#": "numbersign", "$": "dollar", "%": "percent",
    "&": "ampersand", "'": "apostrophe", "(": "parenleft", ")": "parenright",
    "*": "asterisk", "+": "plus", ",": "comma", "-": "minus", ".": "period", "/": "slash",
    ":": "colon", ";": "semicolon", "<": "less", "=": "equal", ">": "greater",
    "?": "question", "@": "at", "[": "bracketleft", "\\": "backslash",
    "]": "bracketright", "^": "asciicircum", "_": "underscore", "`": "grave",
    "{": "braceleft", "|": "bar", "}": "braceright", "~": "asciitilde",
}  # fmt: skip


class _CharacterTyper(Protocol):
    def type_character(self, character: str, upcoming: str = "") -> None: ...

    def close(self) -> None: ...


class _PynputTyper:
    """pynput's keyboard controller: what macOS and Windows use for non-ASCII text."""

    def __init__(self) -> None:
        from pynput.keyboard import Controller

        self._controller = Controller()

    def type_character(self, character: str, upcoming: str = "") -> None:
        self._controller.type(character)

    def close(self) -> None:
        pass


def _drawing_reports(screen: Screen) -> ScreenDrawing | None:
    """The screen's DAMAGE reports, or None (settle samples the screen then) where the X
    server has no DAMAGE extension (every X.Org server and Xvfb has it)."""
    try:
        return ScreenDrawing(screen)
    except EnvironmentProblem as problem:
        _log.info("settling by sampling the screen: %s", problem)
        return None


def _import_pyautogui(display: str | None) -> ModuleType:
    """pyautogui, bound to `display`.

    pyautogui opens the display named by DISPLAY once, when it is first imported, and drives
    that one for the life of the process. This is the one place that knows it: DISPLAY is set
    here just before the import, and a later desktop for another display is refused.
    """
    if sys.platform.startswith("linux"):
        if not display:
            raise EnvironmentProblem(
                "no display: this screen has no X display name (run on an X11 desktop, or use "
                "--virtual-display)"
            )
        bound = os.environ.get("DISPLAY") if "pyautogui" in sys.modules else None
        if bound is not None and bound != display:
            raise EnvironmentProblem(
                f"this process already drives display {bound}; "
                f"one process can drive one display ({display} was asked for)"
            )
        os.environ["DISPLAY"] = display
    try:
        import pyautogui
    except SystemExit as error:  # mouseinfo exits when tkinter is missing
        raise EnvironmentProblem(
            "pyautogui could not start: tkinter is missing (Debian: apt-get install python3-tk)"
        ) from error
    except Exception as error:
        raise EnvironmentProblem(f"cannot drive the display: {error}") from error
    pyautogui.PAUSE = 0  # its default 0.1 s after every call is most of a step's cost
    pyautogui.FAILSAFE = True  # the mouse in a screen corner still stops everything
    pyautogui.MINIMUM_DURATION = 0
    if sys.platform.startswith("linux"):
        _prefer_main_keyboard(pyautogui)
    return pyautogui  # type: ignore[no-any-return]


def _prefer_main_keyboard(pyautogui: Any) -> None:
    """Type ASCII characters on the main keyboard's keys.

    pyautogui takes the first keycode the X server lists for a character's keysym; for "("
    and ")" that is an extra multimedia key (187/188 in Xvfb's keymap), which some apps
    ignore (galculator typed `2*(3+4)=` as 10). The lowest keycode that holds the keysym as
    its plain or shifted symbol is the one a keyboard's key sends.
    """
    import Xlib.XK

    x11 = pyautogui._pyautogui_x11
    mapping = x11.keyboardMapping
    for character in map(chr, range(0x21, 0x7F)):
        keysym = Xlib.XK.string_to_keysym(_KEYSYM_NAMES.get(character, character))
        codes = sorted(code for code, index in x11._display.keysym_to_keycodes(keysym) if index < 2)
        if codes:
            mapping[character] = codes[0]


class LocalDesktop:
    """The screen this process can see, one monitor of it. Use as a context manager."""

    def __init__(
        self,
        screen: Screen,
        *,
        monitor: int | None = None,
        injection: InjectionWindow | None = None,
        excluded: ExcludedRegions | None = None,
    ) -> None:
        self.screen = screen
        self.excluded = excluded if excluded is not None else ExcludedRegions()
        self._gui: Any = _import_pyautogui(screen.display)
        self._display = screen.display if sys.platform.startswith("linux") else None
        self._capture = ScreenCapture(screen, monitor)
        self._monitor = self._capture.monitor
        self._drawing = _drawing_reports(screen) if self._display else None
        self._drawing_or_masking = (
            DrawingOrMasking(self._drawing, self.excluded) if self._drawing else None
        )
        first = self.capture()
        self._size = Size(first.width, first.height)
        # HiDPI / Retina: the capture can have more pixels than the input space has points.
        self._scale_x = first.width / self._monitor.width
        self._scale_y = first.height / self._monitor.height
        self._held_keys: list[str] = []
        self._held_buttons: set[str] = set()
        self._typer: _CharacterTyper | None = None
        self._x11_input: X11Input | None = None  # made for the first click
        self.last_input_at: float | None = None  # monotonic time of the last injected event
        # Says what the agent is injecting, so a BossWatcher can tell the boss's input apart.
        self.injection = injection if injection is not None else InjectionWindow()
        atexit.register(self.release_held_keys)

    def __enter__(self) -> LocalDesktop:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def size(self) -> Size:
        return self._size

    @property
    def drawing(self) -> Drawing | None:
        """The screen's drawing reports (a move of Shain's own boxes counts as drawing)."""
        return self._drawing_or_masking

    @property
    def input_scale(self) -> tuple[float, float]:
        """Capture pixels per input point (2.0 on a Retina display, 1.0 on most others)."""
        return self._scale_x, self._scale_y

    def capture(self) -> Frame:
        try:
            frame = self._capture.grab()
        except Exception as error:  # mss: the X connection is gone, or the server died
            raise ScreenGone(
                f"the screen {self.screen.display or ''} went away: {error}"
            ) from error
        pixels = frame.pixels
        for box in self.excluded.boxes():  # Shain's own windows: never shown to a model
            pixels[box.top : box.top + box.height, box.left : box.left + box.width] = MASK_BGRA
        return frame

    def to_input(self, x: int, y: int) -> tuple[int, int]:
        """Capture pixel -> the input coordinates pyautogui wants (monitor offset, HiDPI)."""
        return (
            self._monitor.left + round(x / self._scale_x),
            self._monitor.top + round(y / self._scale_y),
        )

    def execute(self, action: Action, stop: StopToken) -> None:
        check_on_screen(action, self._size)
        for point in points_of(action):
            if self.excluded.covering(point) is not None:
                raise ActionError(
                    f"{action.kind} at ({point.x}, {point.y}) would land on Shain's own window"
                )
        stop.raise_if_stopped()
        try:
            with self.injection.active(action, self.to_input):
                self._execute(action, stop)
        except Stopped:
            self.release_held_keys()
            raise
        except self._gui.FailSafeException as error:
            self.release_held_keys()
            raise Stopped("fail-safe: the mouse was moved into a screen corner") from error
        except DesktopError:
            self.release_held_keys()
            raise
        except Exception as error:
            self.release_held_keys()
            raise DesktopError(f"{action.kind} failed: {error}") from error

    def _execute(self, action: Action, stop: StopToken) -> None:
        gui = self._gui
        match action:
            case Click(x=x, y=y, button=button, count=count, hold=hold) if self._display:
                with self._holding(hold):
                    # XTest in one batch (0.3 ms, against pyautogui's 1 ms of a round trip
                    # per event); pyautogui's fail-safe check still comes first.
                    gui.failSafeCheck()
                    self._xtest().click(*self.to_input(x, y), button=BUTTONS[button], count=count)
            case Click(button="back" | "forward"):
                raise ActionError("the back and forward buttons need an X11 screen")
            case Click(x=x, y=y, button=button, count=count, hold=hold):
                with self._holding(hold):
                    gui.click(*self.to_input(x, y), clicks=count, interval=0.0, button=button)
            case Move(x=x, y=y, hold=hold):
                with self._holding(hold):
                    gui.moveTo(*self.to_input(x, y))
            case Drag(button="back" | "forward"):
                raise ActionError("a drag holds the left, right or middle button")
            case Drag(path=path, button=button, hold=hold):
                with self._holding(hold):
                    gui.moveTo(*self.to_input(path[0].x, path[0].y))
                    gui.mouseDown(button=button)
                    self._held_buttons.add(button)
                    try:
                        for point in path[1:]:
                            stop.wait_while_paused()
                            # A moment at each point, so that an app that merges the
                            # pointer's motions as it catches up still sees the path's turns.
                            stop.sleep(_DRAG_POINT_SECONDS)
                            gui.moveTo(*self.to_input(point.x, point.y))
                    finally:
                        gui.mouseUp(button=button)
                        self._held_buttons.discard(button)
            case Scroll(x=x, y=y, scroll_x=scroll_x, scroll_y=scroll_y, hold=hold):
                with self._holding(hold):
                    gui.moveTo(*self.to_input(x, y))
                    if scroll_y:
                        gui.scroll(-scroll_y)  # pyautogui: positive scrolls up
                    if scroll_x:
                        gui.hscroll(scroll_x)
            case TypeText(text=text):
                self._type(text, stop)
            case KeyPress(keys=keys):
                self._press_combination(keys)
            case Wait(seconds=seconds):
                stop.sleep(seconds)
            case Done() | Fail() | AskBoss():
                return  # decisions for the runner, nothing to do on screen
        self.last_input_at = time.monotonic()

    def _type(self, text: str, stop: StopToken) -> None:
        # One character at a time, so that a stop lands within a character or two.
        for index, character in enumerate(text):
            stop.wait_while_paused()  # the boss took over: hold here, or stop
            if character in _PYAUTOGUI_CHARACTERS:
                self._gui.press(_TYPED_AS.get(character, character))
            else:
                self._character_typer().type_character(character, text[index + 1 :])
            self.last_input_at = time.monotonic()

    def _character_typer(self) -> _CharacterTyper:
        if self._typer is None:
            if sys.platform.startswith("linux"):
                from agent.desktop.x11_keymap import X11Keymap

                self._typer = X11Keymap(self._display)
            else:
                self._typer = _PynputTyper()
        return self._typer

    def _press_combination(self, keys: tuple[str, ...]) -> None:
        with self._holding(keys):
            pass

    @contextlib.contextmanager
    def _holding(self, keys: tuple[str, ...]) -> Iterator[None]:
        """The keys down, in order, while the block runs; released in reverse order."""
        pressed: list[str] = []
        try:
            for name in (executor_key_name(key) for key in keys):
                self._gui.keyDown(name)
                pressed.append(name)
                self._held_keys.append(name)
            yield
        finally:
            for name in reversed(pressed):
                self._gui.keyUp(name)
                self._held_keys.remove(name)

    def _xtest(self) -> X11Input:
        """XTest on a connection of its own (X11 only): clicks, side buttons included."""
        if self._display is None:
            raise ActionError("this needs an X11 screen")
        if self._x11_input is None:
            self._x11_input = X11Input(self._display)
        return self._x11_input

    def release_held_keys(self) -> None:
        """Let go of every key and button the agent may be holding; safe to call any time."""
        gui = self._gui
        modifiers = [executor_key_name(key) for key in MODIFIERS]
        for name in dict.fromkeys([*reversed(self._held_keys), *modifiers]):
            # best effort: we may be tearing down after the display died
            with contextlib.suppress(Exception):
                gui.keyUp(name)
        self._held_keys.clear()
        for button in list(self._held_buttons):
            with contextlib.suppress(Exception):
                gui.mouseUp(button=button)
        self._held_buttons.clear()

    def close(self) -> None:
        self.release_held_keys()
        atexit.unregister(self.release_held_keys)
        # Closing talks to the X server one last time: after the screen went away that
        # fails, and must not hide why the run ended.
        for closing in (self._typer, self._x11_input, self._drawing):
            if closing is not None:
                with contextlib.suppress(Exception):
                    closing.close()
        self._typer, self._x11_input, self._drawing = None, None, None
        self._drawing_or_masking = None
        with contextlib.suppress(Exception):
            self._capture.close()
