"""Typing characters the X keyboard map lacks (Japanese, accents, emoji) on X11.

pynput and xdotool remap one spare keycode per character, so a fast burst of characters
races the app's keymap refresh and arrives garbled (measured here: "こんにちは" typed
as "こんんちは" into mousepad). Here every distinct character gets its own spare keycode
and keeps it, so a mapping is never changed while events that use it may still be in
flight. The characters of a text are mapped in one batch before the first is typed, with a
short pause for apps to reread the keymap (Tk drops a key that arrives while it does); when
spare keycodes run out, they are all reused at once, after one pause long enough for the
app to have read its queue. Everything is put back in `close()`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from agent.errors import DesktopError

# Time for an app to read key events already sent before their keycode is remapped.
_REUSE_PAUSE_SECONDS = 0.15
# Time for an app to reread a keymap that has just changed, before keys that need it.
_NEW_MAPPING_PAUSE_SECONDS = 0.05


def _typed_elsewhere(character: str) -> bool:
    """Characters the caller types without this class (printable ASCII, newline, tab)."""
    return character in "\n\t" or 0x20 <= ord(character) < 0x7F


def keysym_for(character: str) -> int:
    """The X keysym of a character: Latin-1 directly, everything else as 0x01000000 + code point."""
    code = ord(character)
    if 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xFF:
        return code
    return 0x01000000 + code


def _borrowed_row(keysyms: Sequence[int]) -> bool:
    """Whether a keycode carries one character as an X11Keymap maps it: a keysym for a
    character beyond ASCII (Latin-1 or Unicode) on every level it has, which no key of a
    keyboard layout does (the server repeats what was mapped on the first two levels)."""
    symbols = [int(symbol) for symbol in keysyms if symbol]
    if not symbols or len(set(symbols)) != 1 or keysyms[0] != keysyms[1]:
        return False
    return 0xA0 <= symbols[0] <= 0xFF or symbols[0] >= 0x01000000


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
        rows = list(enumerate(self._original))
        # Empty keycodes first; then keycodes another X11Keymap has borrowed (the employee's
        # own typing, seen from the office's take-over while the employee waits): they are
        # given back as they were at close, so their owner finds its characters still there.
        self._spare: list[int] = [first + index for index, syms in rows if not any(syms)]
        others = [first + index for index, syms in rows if _borrowed_row(syms)]
        self._spare += others
        self._others_not_waited_for = set(others)
        if not self._spare:
            raise DesktopError("the X keyboard map has no spare keycode to type non-ASCII text")
        self._borrowed: dict[str, int] = {}
        self._changed: set[int] = set()  # every keycode remapped, to give back at close
        self._typed_at = 0.0

    def type_character(self, character: str, upcoming: str = "") -> None:
        """Type one character; `upcoming` (the text after it) lets the keycodes for the next
        characters be mapped in the same batch."""
        if character not in self._borrowed:
            self._map_batch(character + upcoming)
        keycode = self._borrowed[character]
        self._xtest.fake_input(self._display, self._X.KeyPress, keycode)
        self._xtest.fake_input(self._display, self._X.KeyRelease, keycode)
        self._display.sync()
        self._typed_at = time.monotonic()

    @property
    def borrowed_keycodes(self) -> frozenset[int]:
        """The spare keycodes this keymap has remapped (their symbols are not the map's own)."""
        return frozenset(self._changed)

    def _map_batch(self, text: str) -> None:
        """Map the next characters of `text` that lack a keycode, as many as fit, at once.

        Apps reread the keymap when told it changed; some (Tk) drop a key that arrives while
        they do. One batch and one short pause before typing it keeps that from happening.
        """
        if len(self._borrowed) == len(self._spare):
            time.sleep(_REUSE_PAUSE_SECONDS)  # let the app read keys that use the old ones
            self._borrowed.clear()
        for character in dict.fromkeys(text):
            if len(self._borrowed) == len(self._spare):
                break
            if character not in self._borrowed and not _typed_elsewhere(character):
                keycode = self._spare[len(self._borrowed)]
                if keycode in self._others_not_waited_for:
                    # Its owner may have just typed on it: let the app read that key first.
                    time.sleep(_REUSE_PAUSE_SECONDS)
                    self._others_not_waited_for.clear()
                keysym = keysym_for(character)
                self._set_mapping(keycode, [keysym, keysym])
                self._borrowed[character] = keycode
                self._changed.add(keycode)
        self._display.sync()
        time.sleep(_NEW_MAPPING_PAUSE_SECONDS)

    def _set_mapping(self, keycode: int, keysyms: list[int]) -> None:
        width = len(self._original[0])
        row = (keysyms + [0] * width)[:width]
        self._display.change_keyboard_mapping(keycode, [row])

    def close(self) -> None:
        """Give every borrowed keycode back (as it was) and close the connection."""
        try:
            # Keys just typed must be read with their mapping before it goes (the office
            # closes right after the boss's last key when it hands the screen back).
            time.sleep(max(0.0, self._typed_at + _REUSE_PAUSE_SECONDS - time.monotonic()))
            for keycode in sorted(self._changed):
                self._set_mapping(keycode, list(self._original[keycode - self._first_keycode]))
            self._display.sync()
            self._changed.clear()
            self._borrowed.clear()
        finally:
            self._display.close()
