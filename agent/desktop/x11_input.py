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
import time
from collections.abc import Callable, Iterable
from typing import Any

from agent.desktop.x11_keymap import X11Keymap, keysym_for
from agent.errors import EnvironmentProblem
from agent.keys import MODIFIERS, x11_keysym_name

# X's pointer buttons by name (8 and 9: a mouse's side buttons, which pyautogui has not).
BUTTONS = {"left": 1, "middle": 2, "right": 3, "back": 8, "forward": 9}
# X's wheel buttons: up, down, left, right.
WHEEL_UP, WHEEL_DOWN, WHEEL_LEFT, WHEEL_RIGHT = 4, 5, 6, 7
# How long pointer input waits for the server to have played the one before (see _played).
PLAYED_TIMEOUT_SECONDS = 0.5
PLAYED_POLL_SECONDS = 0.001


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
            at = self._on_screen(x, y)
            self._played(lambda pointer: (pointer.root_x, pointer.root_y) == at)

    def _on_screen(self, x: int, y: int) -> tuple[int, int]:
        """Where the server puts the pointer sent to (x, y): within the screen."""
        screen = self._display.screen()
        return (min(max(x, 0), screen.width_in_pixels - 1),
                min(max(y, 0), screen.height_in_pixels - 1))  # fmt: skip

    def button(self, button: int, pressed: bool) -> None:
        """Press or release a pointer button where the pointer is (1 left ... 7 wheel right)."""
        with self._lock:
            kind = self._X.ButtonPress if pressed else self._X.ButtonRelease
            self._xtest.fake_input(self._display, kind, button)
            self._display.sync()
            (self._held_buttons.add if pressed else self._held_buttons.discard)(button)
            if 1 <= button <= 5:  # the buttons the pointer's state has a bit for
                mask = 1 << (7 + button)  # Button1Mask is 1 << 8
                self._played(lambda pointer: bool(pointer.mask & mask) == pressed)

    def click(self, x: int, y: int, button: int = 1, count: int = 1) -> None:
        """Move to (x, y) and click `count` times.

        Sent as one batch (the server plays a device's events in the order sent, a grab's
        freeze included), then waited out once, until the pointer is there with the button
        up: then nothing sent after it can overtake it. Two round trips, not six.
        """
        with self._lock:
            fake = self._xtest.fake_input
            fake(self._display, self._X.MotionNotify, x=x, y=y)
            for _ in range(count):
                fake(self._display, self._X.ButtonPress, button)
                fake(self._display, self._X.ButtonRelease, button)
            self._display.sync()
            at = self._on_screen(x, y)
            mask = 1 << (7 + button) if 1 <= button <= 5 else 0  # Button1Mask is 1 << 8
            self._played(
                lambda pointer: (pointer.root_x, pointer.root_y) == at and not pointer.mask & mask
            )

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
            self._follow_keymap_changes()
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

    def named_key(self, canonical: str, pressed: bool) -> None:
        """Press or release a key by its canonical name (`shift`, `enter`, `a`): a modifier
        held through a click, say; release_all lets go of whatever is left held."""
        self.key(self._keysym(canonical), pressed)

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
            # Only ASCII goes on the keyboard's own keys: a keycode carrying any other
            # character now may be another program's borrowing (the employee's typing), which
            # it can remap at any time; our own keymap keeps what it maps while it types.
            placed = self._on_its_key(keysym_for(character)) if character.isascii() else None
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
        """Let go of everything held, give borrowed keycodes back, close the connection. The
        screen may be gone already (its run ended): then there is nothing left to give back."""
        self.release_all()
        with self._lock:
            keymap, self._keymap = self._keymap, None
            with contextlib.suppress(Exception):
                if keymap is not None:
                    keymap.close()
            with contextlib.suppress(Exception):
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
            self._follow_keymap_changes()
            found = sorted(
                (code, index)
                for code, index in self._display.keysym_to_keycodes(keysym)
                if index < 2 and not self._borrowed_keycode(code)
            )
        return (found[0][0], found[0][1] == 1) if found else None

    def _played(self, done: Callable[[Any], bool]) -> None:
        """Wait until the server has played the pointer event just sent: until the pointer's
        state (position, buttons) says `done`, for half a second at most.

        The window manager grabs a press on a window (to focus and raise it) and replays it
        to the app; until it does, the pointer is frozen and what follows waits in the
        server's queue. Measured with openbox, busy right after a keymap change: the next
        move overtook a double click's presses, which reached the app at the wrong place.
        A frozen pointer's state does not change, so this waits the freeze out.
        """
        deadline = time.monotonic() + PLAYED_TIMEOUT_SECONDS
        while not done(self._display.screen().root.query_pointer()):
            if time.monotonic() > deadline:
                return  # held by someone else's grab: go on rather than hang
            time.sleep(PLAYED_POLL_SECONDS)

    def _follow_keymap_changes(self) -> None:
        """Bring python-xlib's copy of the keyboard map up to date.

        It is read once, at connect, and refreshed only from MappingNotify events, which X
        sends every client but this connection never reads on its own: another client (the
        employee's own typing, our X11Keymap) may have put other symbols on spare keycodes
        since, and a stale copy would type the wrong character on them.
        """
        while self._display.pending_events():
            event = self._display.next_event()
            if event.type == self._X.MappingNotify:
                self._display.refresh_keyboard_mapping(event)

    def _borrowed_keycode(self, keycode: int) -> bool:
        return self._keymap is not None and keycode in self._keymap.borrowed_keycodes

    def _character_keymap(self) -> X11Keymap:
        if self._keymap is None:
            self._keymap = X11Keymap(self.display_name)
        return self._keymap
