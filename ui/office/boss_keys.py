"""What a key the boss presses in a live view means on the employee's screen.

Text goes as text (X11Input types any script, with Shift where a character needs it), so the
boss's own keyboard layout decides the characters, not the employee's keymap. A key with
Ctrl, Alt or Super, and keys that are not text (Enter, arrows, F5), go as a key combination
of canonical key names (agent/keys.py). Modifiers alone are never sent: each goes with the
key it modifies, so a shortcut can never leave one held on the employee's screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt

Key = Qt.Key
Modifier = Qt.KeyboardModifier


@dataclass(frozen=True, slots=True)
class TypedText:
    text: str


@dataclass(frozen=True, slots=True)
class KeyCombination:
    keys: tuple[str, ...]  # canonical names, modifiers first


BossKey = TypedText | KeyCombination

NAMED_KEYS: dict[int, str] = {
    Key.Key_Return: "enter",
    Key.Key_Enter: "enter",
    Key.Key_Escape: "escape",
    Key.Key_Tab: "tab",
    Key.Key_Backtab: "tab",  # Qt's name for Shift+Tab
    Key.Key_Backspace: "backspace",
    Key.Key_Delete: "delete",
    Key.Key_Insert: "insert",
    Key.Key_Home: "home",
    Key.Key_End: "end",
    Key.Key_PageUp: "pageup",
    Key.Key_PageDown: "pagedown",
    Key.Key_Up: "up",
    Key.Key_Down: "down",
    Key.Key_Left: "left",
    Key.Key_Right: "right",
    Key.Key_Menu: "menu",
    Key.Key_Print: "printscreen",
    Key.Key_Pause: "pause",
    **{Key.Key_F1 + n: f"f{n + 1}" for n in range(24)},
}
# Keys that only change others; lock keys too: their state on the boss's keyboard is not the
# employee's, and text already comes with the case the boss sees.
MODIFIER_KEYS = frozenset(
    {
        Key.Key_Shift,
        Key.Key_Control,
        Key.Key_Alt,
        Key.Key_AltGr,
        Key.Key_Meta,
        Key.Key_Super_L,
        Key.Key_Super_R,
        Key.Key_Hyper_L,
        Key.Key_Hyper_R,
        Key.Key_CapsLock,
        Key.Key_NumLock,
        Key.Key_ScrollLock,
        Key.Key_Mode_switch,
    }
)
# Qt's modifier flags -> canonical names (on X11 Qt calls Super "Meta").
MODIFIER_NAMES = (
    (Modifier.ControlModifier, "ctrl"),
    (Modifier.ShiftModifier, "shift"),
    (Modifier.AltModifier, "alt"),
    (Modifier.MetaModifier, "super"),
)


def modifier_names(modifiers: Qt.KeyboardModifier, *, shift: bool = True) -> tuple[str, ...]:
    """Canonical names of the modifiers held (Shift too, unless `shift` is False)."""
    return tuple(
        name for flag, name in MODIFIER_NAMES if modifiers & flag and (shift or name != "shift")
    )


def boss_key(key: int, modifiers: Qt.KeyboardModifier, text: str) -> BossKey | None:
    """What the key press (Qt's key code, modifiers and text) sends; None: nothing."""
    if key in MODIFIER_KEYS:
        return None
    if key == Key.Key_Backtab:
        modifiers |= Modifier.ShiftModifier
    held = modifier_names(modifiers)
    named = NAMED_KEYS.get(key)
    if named is not None:
        return KeyCombination((*held, named))
    if modifier_names(modifiers, shift=False):  # a shortcut: Shift alone makes text
        character = _character_of(key, text)
        return None if character is None else KeyCombination((*held, character))
    if text and text.isprintable():
        return TypedText(text)
    return None


def _character_of(key: int, text: str) -> str | None:
    """The character a shortcut's key carries: Ctrl+S is `s` whatever the text (Qt gives a
    control character there); a key outside ASCII is known by its text, if it has one."""
    if 0x20 < key < 0x7F:
        return chr(key).lower()
    if key == Key.Key_Space:
        return "space"
    if len(text) == 1 and text.isprintable():
        return text.lower()
    return None
