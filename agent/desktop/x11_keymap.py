"""Typing characters the X keyboard map lacks (Japanese, accents, emoji) on X11.

pynput and xdotool remap one spare keycode per character, so a fast burst of characters
races the app's keymap refresh and arrives garbled (measured here: "こんにちは" typed
as "こんんちは" into mousepad). Here every distinct character gets its own spare keycode
and keeps it, so a mapping is never changed while events that use it may still be in
flight; when spare keycodes run out, they are all reused at once, after one pause long
enough for the app to have read its queue. Everything is put back in `close()`.
"""

from __future__ import annotations

import time
from typing import Any

from agent.errors import DesktopError

# Time for an app to read key events already sent before their keycode is remapped.
_REUSE_PAUSE_SECONDS = 0.15


def keysym_for(character: str) -> int:
    """The X keysym of a character: Latin-1 directly, everything else as 0x01000000 + code point."""
    code = ord(character)
    if 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xFF:
        return code
    return 0x01000000 + code


class X11Keymap:
    """Types arbitrary characters through XTest, borrowing spare keycodes for them."""

    def __init__(self, display_name: str | None = None) -> None:
        from Xlib import X
        from Xlib.display import Display
        from Xlib.ext import xtest

        self._X = X
        self._xtest = xtest
        self._display: Any = Display(display_name)
        first = self._display.display.info.min_keycode
        count = self._display.display.info.max_keycode - first + 1
        self._original = self._display.get_keyboard_mapping(first, count)
        self._first_keycode = first
        self._spare: list[int] = [
            first + index for index, syms in enumerate(self._original) if not any(syms)
        ]
        if not self._spare:
            raise DesktopError("the X keyboard map has no spare keycode to type non-ASCII text")
        self._borrowed: dict[str, int] = {}

    def type_character(self, character: str) -> None:
        keycode = self._keycode_for(character)
        self._xtest.fake_input(self._display, self._X.KeyPress, keycode)
        self._xtest.fake_input(self._display, self._X.KeyRelease, keycode)
        self._display.sync()

    def _keycode_for(self, character: str) -> int:
        borrowed = self._borrowed.get(character)
        if borrowed is not None:
            return borrowed
        if len(self._borrowed) == len(self._spare):
            time.sleep(_REUSE_PAUSE_SECONDS)
            self._borrowed.clear()
        keycode = self._spare[len(self._borrowed)]
        keysym = keysym_for(character)
        self._set_mapping(keycode, [keysym, keysym])
        self._borrowed[character] = keycode
        return keycode

    def _set_mapping(self, keycode: int, keysyms: list[int]) -> None:
        width = len(self._original[0])
        row = (keysyms + [0] * width)[:width]
        self._display.change_keyboard_mapping(keycode, [row])
        self._display.sync()

    def close(self) -> None:
        """Give the borrowed keycodes back (empty, as they were) and close the connection."""
        try:
            for keycode in self._borrowed.values():
                self._set_mapping(keycode, [])
            self._borrowed.clear()
        finally:
            self._display.close()
