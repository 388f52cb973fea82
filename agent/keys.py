"""One table of key names: every spelling models and people use, mapped to one canonical name.

Canonical names are lower case: modifiers `ctrl`, `shift`, `alt`, `super`; named keys such as
`enter`, `escape`, `pageup`, `up`, `f5`; or a single printable character. The executor turns
a canonical name into whatever its input library wants (`executor_key_name`).
"""

from __future__ import annotations

import sys

from agent.errors import ActionError

MODIFIERS = ("ctrl", "shift", "alt", "super")

_SPELLINGS: dict[str, tuple[str, ...]] = {
    "ctrl": (
        "ctrl",
        "control",
        "control_l",
        "control_r",
        "ctrl_l",
        "ctrl_r",
        "ctl",
        "lctrl",
        "rctrl",
    ),
    "shift": ("shift", "shift_l", "shift_r", "lshift", "rshift"),
    "alt": ("alt", "alt_l", "alt_r", "option", "opt", "lalt", "ralt", "altgr"),
    "super": (
        "super",
        "super_l",
        "super_r",
        "cmd",
        "command",
        "win",
        "windows",
        "meta",
        "meta_l",
        "meta_r",
        "os",
        "winleft",
        "winright",
    ),
    "enter": ("enter", "return", "kp_enter", "ret"),
    "escape": ("escape", "esc"),
    "tab": ("tab",),
    "space": ("space", "spacebar"),
    "backspace": ("backspace", "back_space", "bksp"),
    "delete": ("delete", "del"),
    "insert": ("insert", "ins"),
    "home": ("home",),
    "end": ("end",),
    "pageup": ("pageup", "page_up", "pgup", "prior"),
    "pagedown": ("pagedown", "page_down", "pgdn", "next"),
    "up": ("up", "arrowup", "arrow_up", "uparrow"),
    "down": ("down", "arrowdown", "arrow_down", "downarrow"),
    "left": ("left", "arrowleft", "arrow_left", "leftarrow"),
    "right": ("right", "arrowright", "arrow_right", "rightarrow"),
    "capslock": ("capslock", "caps_lock", "caps"),
    "numlock": ("numlock", "num_lock"),
    "scrolllock": ("scrolllock", "scroll_lock"),
    "printscreen": ("printscreen", "print", "prtsc", "print_screen", "prtscr"),
    "pause": ("pause", "break"),
    "menu": ("menu", "apps", "contextmenu", "context_menu"),
}
_SPELLINGS.update({f"f{n}": (f"f{n}",) for n in range(1, 25)})

_CANONICAL: dict[str, str] = {}
for _canonical, _spellings in _SPELLINGS.items():
    for _spelling in _spellings:
        _CANONICAL[_spelling] = _canonical
        _CANONICAL[_spelling.replace("_", "")] = _canonical

# pyautogui's names for the canonical keys that it spells differently.
_PYAUTOGUI_NAMES = {"escape": "esc", "menu": "apps"}


def canonical_key(name: str) -> str:
    """The canonical name of one key, or ActionError naming the unknown spelling."""
    if len(name) == 1 and name.isprintable():
        return " " if name == " " else name.lower()
    spelling = name.strip().lower().replace("-", "_").replace(" ", "_")
    canonical = _CANONICAL.get(spelling) or _CANONICAL.get(spelling.replace("_", ""))
    if canonical is None:
        named = ", ".join(sorted(k for k in _SPELLINGS if not k[1:].isdigit()))
        raise ActionError(
            f"unknown key name {name!r}: use a single character, f1-f24, or one of {named}"
        )
    return canonical


def parse_key_combination(text: str) -> tuple[str, ...]:
    """`ctrl+shift+s`, `Control_L+c`, `ctrl++` -> canonical names, modifiers first as written."""
    stripped = text.strip()
    if not stripped:
        raise ActionError("empty key combination")
    if stripped == "+":
        return ("+",)
    parts = stripped.split("+")
    if stripped.endswith("++"):
        # the last key is '+' itself
        parts = [*stripped[:-2].split("+"), "+"]
    if any(part.strip() == "" for part in parts):
        raise ActionError(f"malformed key combination {text!r}: expected keys joined by '+'")
    return tuple(canonical_key(part if len(part) == 1 else part.strip()) for part in parts)


def executor_key_name(canonical: str, platform: str = sys.platform) -> str:
    """The name pyautogui wants for a canonical key on this platform."""
    if canonical == "super":
        return "command" if platform == "darwin" else "win"
    if canonical == "alt" and platform == "darwin":
        return "option"
    return _PYAUTOGUI_NAMES.get(canonical, canonical)


# X11's keysym names for the canonical named keys (a single character is its own keysym).
_X11_NAMES = {
    "ctrl": "Control_L",
    "shift": "Shift_L",
    "alt": "Alt_L",
    "super": "Super_L",
    "enter": "Return",
    "escape": "Escape",
    "tab": "Tab",
    "space": "space",
    "backspace": "BackSpace",
    "delete": "Delete",
    "insert": "Insert",
    "home": "Home",
    "end": "End",
    "pageup": "Prior",
    "pagedown": "Next",
    "up": "Up",
    "down": "Down",
    "left": "Left",
    "right": "Right",
    "capslock": "Caps_Lock",
    "numlock": "Num_Lock",
    "scrolllock": "Scroll_Lock",
    "printscreen": "Print",
    "pause": "Pause",
    "menu": "Menu",
    **{f"f{n}": f"F{n}" for n in range(1, 25)},
}


def x11_keysym_name(canonical: str) -> str | None:
    """The X11 keysym name of a canonical named key; None for a single character."""
    return _X11_NAMES.get(canonical)
