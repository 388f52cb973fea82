"""Input on an X screen named by its display, through XTest on a connection of its own.

pyautogui drives the one display it bound when imported; the office drives the screens of
its employees from the tray's process (the boss's clicks and keys in a live view go to the
employee's screen), so this takes the display name and holds its own connection. Characters
the keyboard map has are typed on their keys (with Shift when they are the shifted symbol);
any other character (Japanese from the boss's input method, accents, emoji) borrows a spare
keycode through X11Keymap.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable
from typing import Any

from agent.desktop.x11_keymap import X11Keymap, keysym_for
from agent.errors import EnvironmentProblem
from agent.keys import MODIFIERS, x11_keysym_name

BUTTONS = {"left": 1, "middle": 2, "right": 3}
# X's wheel buttons: up, down, left, right.
WHEEL_UP, WHEEL_DOWN, WHEEL_LEFT, WHEEL_RIGHT = 4, 5, 6, 7


class X11Input:
    """Pointer and keyboard of one X screen. Thread-safe: one call at a time."""

    def __init__(self, display_name: str) -> None:
        from Xlib import XK, X
        from Xlib.display import Display
        from Xlib.error import DisplayError
        from Xlib.ext import xtest

        self._X, self._XK, self._xtest = X, XK, xtest
        try:
            self._display: Any = Display(display_name)
        except (DisplayError, OSError) as error:
            raise EnvironmentProblem(f"cannot open display {display_name}: {error}") from error
        if not self._display.has_extension("XTEST"):
            self._display.close()
            raise EnvironmentProblem(f"display {display_name} has no XTEST extension")
        self.display_name = display_name
        self._lock = threading.Lock()
        self._keymap: X11Keymap | None = None
        self._held_keys: list[int] = []
        self._held_buttons: set[int] = set()
        self._shift = self._keycode(XK.string_to_keysym("Shift_L"))

    def move(self, x: int, y: int) -> None:
        with self._lock:
            self._xtest.fake_input(self._display, self._X.MotionNotify, x=x, y=y)
            self._display.sync()

    def button(self, button: int, pressed: bool) -> None:
        """Press or release a pointer button where the pointer is (1 left ... 7 wheel right)."""
        with self._lock:
            kind = self._X.ButtonPress if pressed else self._X.ButtonRelease
            self._xtest.fake_input(self._display, kind, button)
            self._display.sync()
            (self._held_buttons.add if pressed else self._held_buttons.discard)(button)

    def click(self, x: int, y: int, button: int = 1, count: int = 1) -> None:
        self.move(x, y)
        for _ in range(count):
            self.button(button, True)
            self.button(button, False)

    def scroll(self, x: int, y: int, down: int = 0, right: int = 0) -> None:
        """Wheel clicks at (x, y): positive down and right, negative up and left."""
        self.move(x, y)
        vertical = WHEEL_DOWN if down > 0 else WHEEL_UP
        horizontal = WHEEL_RIGHT if right > 0 else WHEEL_LEFT
        for wheel, clicks in ((vertical, abs(down)), (horizontal, abs(right))):
            for _ in range(clicks):
                self.button(wheel, True)
                self.button(wheel, False)

    def key(self, keysym: int, pressed: bool) -> None:
        """Press or release the key that carries `keysym` (a key the keyboard map has)."""
        with self._lock:
            keycode = self._keycode(keysym)
            if keycode is None:
                raise EnvironmentProblem(f"no key carries keysym {keysym:#x} on this screen")
            kind = self._X.KeyPress if pressed else self._X.KeyRelease
            self._xtest.fake_input(self._display, kind, keycode)
            self._display.sync()
            if pressed:
                self._held_keys.append(keycode)
            elif keycode in self._held_keys:
                self._held_keys.remove(keycode)

    def press_combination(self, keys: Iterable[str]) -> None:
        """Canonical key names (`ctrl`, `shift`, `a`, `f4`...), pressed in order, released
        in reverse."""
        keysyms = [self._keysym(key) for key in keys]
        pressed: list[int] = []
        try:
            for keysym in keysyms:
                self.key(keysym, True)
                pressed.append(keysym)
        finally:
            for keysym in reversed(pressed):
                self.key(keysym, False)

    def type_text(self, text: str) -> None:
        """Type `text` as it is: any script, newlines as Return, tabs as Tab."""
        for index, character in enumerate(text):
            if character == "\n":
                self._tap(self._XK.string_to_keysym("Return"))
                continue
            if character == "\t":
                self._tap(self._XK.string_to_keysym("Tab"))
                continue
            placed = self._on_its_key(keysym_for(character))
            if placed is not None:
                keycode, shifted = placed
                self._tap_keycode(keycode, shifted)
            else:
                with self._lock:
                    self._character_keymap().type_character(character, text[index + 1 :])

    def release_all(self) -> None:
        """Let go of every key and button held through this connection, and of modifiers."""
        with self._lock:
            modifiers = [self._keycode(self._keysym(key)) for key in MODIFIERS]
            for keycode in dict.fromkeys([*reversed(self._held_keys), *modifiers]):
                if keycode:
                    with contextlib.suppress(Exception):
                        self._xtest.fake_input(self._display, self._X.KeyRelease, keycode)
            for button in list(self._held_buttons):
                with contextlib.suppress(Exception):
                    self._xtest.fake_input(self._display, self._X.ButtonRelease, button)
            self._held_keys.clear()
            self._held_buttons.clear()
            with contextlib.suppress(Exception):
                self._display.sync()

    def close(self) -> None:
        self.release_all()
        with self._lock:
            if self._keymap is not None:
                self._keymap.close()
                self._keymap = None
            self._display.close()

    def __enter__(self) -> X11Input:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _keysym(self, canonical: str) -> int:
        name = x11_keysym_name(canonical)
        return int(self._XK.string_to_keysym(name)) if name else keysym_for(canonical)

    def _tap(self, keysym: int) -> None:
        self.key(keysym, True)
        self.key(keysym, False)

    def _tap_keycode(self, keycode: int, shifted: bool) -> None:
        with self._lock:
            if shifted and self._shift:
                self._xtest.fake_input(self._display, self._X.KeyPress, self._shift)
            self._xtest.fake_input(self._display, self._X.KeyPress, keycode)
            self._xtest.fake_input(self._display, self._X.KeyRelease, keycode)
            if shifted and self._shift:
                self._xtest.fake_input(self._display, self._X.KeyRelease, self._shift)
            self._display.sync()

    def _keycode(self, keysym: int) -> int | None:
        code = self._display.keysym_to_keycode(keysym)
        return int(code) if code else None

    def _on_its_key(self, keysym: int) -> tuple[int, bool] | None:
        """The lowest keycode with `keysym` as its plain (False) or shifted (True) symbol."""
        with self._lock:
            found = sorted(
                (code, index)
                for code, index in self._display.keysym_to_keycodes(keysym)
                if index < 2 and not self._borrowed_keycode(code)
            )
        return (found[0][0], found[0][1] == 1) if found else None

    def _borrowed_keycode(self, keycode: int) -> bool:
        return self._keymap is not None and keycode in self._keymap.borrowed_keycodes

    def _character_keymap(self) -> X11Keymap:
        if self._keymap is None:
            self._keymap = X11Keymap(self.display_name)
        return self._keymap
