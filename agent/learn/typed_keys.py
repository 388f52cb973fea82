"""Recorded keycodes as the keys they were: a canonical name (agent.keys), the character typed.

A keycode means what the keyboard map says; the map is read once, when the recording starts
(the characters xdotool and Shain type that are not on it borrow spare keycodes for a moment,
and may read as something else). Which modifiers are held is followed here, from the presses
and releases of the modifier keys themselves.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from agent.errors import ActionError
from agent.keys import MODIFIERS, canonical_key


@dataclass(frozen=True, slots=True)
class Key:
    """A key as typed: its canonical name, the character it types (None for a named key, or
    with a modifier other than shift held), and the modifiers held."""

    name: str
    char: str | None
    held: tuple[str, ...]


class KeyReader:
    """Turns keycodes of the X display `display` into keys; close() when done."""

    def __init__(self, display: str) -> None:
        from Xlib import XK
        from Xlib.display import Display

        self._keymap: Any = Display(display)  # its keyboard map, read once
        self._names = {
            value: name[3:] for name in dir(XK) if name.startswith("XK_")
            for value in [getattr(XK, name)]
        }  # fmt: skip
        self._held: set[str] = set()

    def key(self, keycode: int, pressed: bool) -> Key | None:
        """The key of a press or release (None: a key that is neither named nor a character)."""
        named = self._named(keycode)
        if named in MODIFIERS:
            (self._held.add if pressed else self._held.discard)(named)
        held = tuple(m for m in MODIFIERS if m in self._held)
        if named is not None:
            char = " " if named == "space" and not set(held) - {"shift"} else None
            return Key(named, char, held)
        plain = self._keymap.keycode_to_keysym(keycode, 0)
        shifted = self._keymap.keycode_to_keysym(keycode, 1) if "shift" in held else 0
        char = _character(shifted) or _character(plain)
        if char is None:
            return None
        if set(held) - {"shift"}:
            return Key(_character(plain) or char, None, held)
        return Key(char, char, held)

    def _named(self, keycode: int) -> str | None:
        """The canonical name of a named key (Return, Control_L...), None for a character."""
        keysym = self._keymap.keycode_to_keysym(keycode, 0)
        if _character(keysym) is not None:
            return None
        name = self._names.get(keysym)
        if name is None:
            return None
        try:
            return canonical_key(name)
        except ActionError:
            return None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._keymap.close()


def _character(keysym: int) -> str | None:
    """The character a keysym types: Latin-1 ones are their code, Unicode ones 0x01000000 + it."""
    if 0x21 <= keysym <= 0x7E or 0xA0 <= keysym <= 0xFF:
        return chr(keysym)
    if 0x01000100 <= keysym <= 0x0110FFFF:
        return chr(keysym - 0x01000000)
    return None
