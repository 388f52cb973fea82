"""A tiny real GUI app to aim at: a small square button centred on a given screen point.

    python tests/apps/target_app.py --x X --y Y [--size 24] --out FILE [--title shain-target]

A full-screen Tk window (the window manager's full-screen state, so it starts at the screen's
origin without decorations) holds a square button of `--size` px whose centre is the screen
point (X, Y), and a single-line entry centred at (width / 2, height * 5 / 6): (960, 900) on a
1920x1080 screen. Every event is appended to `--out` as one JSON line (UTF-8):

    {"event": "ready", "button": [left, top, width, height], "entry": [left, top, width, height],
     "screen": [width, height], "window": [left, top, width, height], "focused": true}
    {"event": "click", "x": X, "y": Y, "button": N, "shift": B}   any mouse press, screen px
    {"event": "release", "x": X, "y": Y, "button": N}  a button let go
    {"event": "motion", "x": X, "y": Y}               the pointer moved with the left button down
    {"event": "button"}                               the small button was pressed (and released)
    {"event": "entry", "text": "..."}                 Enter in the entry

"ready" comes once the window is mapped at its final place and holds the keyboard focus (or
after 5 s: then "focused" in it is false), with the geometry X reports.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tkinter as tk
from pathlib import Path
from typing import Any

ENTRY_WIDTH = 600
ENTRY_HEIGHT = 32
SETTLE_TIMEOUT_SECONDS = 5.0
FOCUS_GRACE_SECONDS = 1.0


class TargetApp:
    def __init__(self, x: int, y: int, size: int, out: Path, title: str) -> None:
        self.x, self.y, self.size, self.out = x, y, size, out
        self.root = tk.Tk(className="ShainTarget")
        self.root.title(title)
        self.root.configure(background="#f0f0f0", cursor="crosshair")
        self.screen = (self.root.winfo_screenwidth(), self.root.winfo_screenheight())
        self.root.geometry(f"{self.screen[0]}x{self.screen[1]}+0+0")
        self.root.attributes("-fullscreen", True)
        self.button = tk.Button(
            self.root,
            command=lambda: self.write(event="button"),
            background="#d03030",
            activebackground="#ff5050",
            borderwidth=1,
            highlightthickness=0,
            padx=0,
            pady=0,
        )
        self.entry = tk.Entry(self.root, font=("TkDefaultFont", 14), highlightthickness=1)
        self.entry.bind("<Return>", self.on_enter)
        self.entry.bind("<KP_Enter>", self.on_enter)
        self.root.bind_all("<ButtonPress>", self.on_press, add=True)
        self.root.bind_all("<ButtonRelease>", self.on_release, add=True)
        self.root.bind_all("<B1-Motion>", self.on_motion, add=True)
        self.started = time.monotonic()
        self.root.after(50, self.place_when_settled)

    def write(self, **record: Any) -> None:
        with self.out.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")

    def place_when_settled(self) -> None:
        """Place the widgets in window coordinates once the window sits where it will stay."""
        root = self.root
        root.update_idletasks()
        origin = (root.winfo_rootx(), root.winfo_rooty())
        full = (root.winfo_width(), root.winfo_height()) == self.screen and origin == (0, 0)
        focused = root.focus_get() is not None  # None while another window has the X focus
        waited = time.monotonic() - self.started
        if not (root.winfo_ismapped() and full and focused) and waited < SETTLE_TIMEOUT_SECONDS:
            if root.winfo_ismapped() and full and waited > FOCUS_GRACE_SECONDS:
                root.focus_force()  # the window manager did not give it the focus: take it
            root.after(20, self.place_when_settled)
            return
        left, top = self.x - self.size // 2 - origin[0], self.y - self.size // 2 - origin[1]
        self.button.place(x=left, y=top, width=self.size, height=self.size)
        entry_x = self.screen[0] // 2 - ENTRY_WIDTH // 2 - origin[0]
        entry_y = self.screen[1] * 5 // 6 - ENTRY_HEIGHT // 2 - origin[1]
        self.entry.place(x=entry_x, y=entry_y, width=ENTRY_WIDTH, height=ENTRY_HEIGHT)
        self.button.lift()
        root.update()
        self.write(
            event="ready",
            button=self.box(self.button),
            entry=self.box(self.entry),
            screen=list(self.screen),
            window=[*origin, root.winfo_width(), root.winfo_height()],
            focused=root.focus_get() is not None,
        )

    @staticmethod
    def box(widget: tk.Widget) -> list[int]:
        return [
            widget.winfo_rootx(),
            widget.winfo_rooty(),
            widget.winfo_width(),
            widget.winfo_height(),
        ]

    def on_press(self, event: tk.Event[Any]) -> None:
        shift = bool(int(event.state) & 0x1)  # X's ShiftMask, as the press found it
        self.write(event="click", x=event.x_root, y=event.y_root, button=event.num, shift=shift)

    def on_release(self, event: tk.Event[Any]) -> None:
        self.write(event="release", x=event.x_root, y=event.y_root, button=event.num)

    def on_motion(self, event: tk.Event[Any]) -> None:
        self.write(event="motion", x=event.x_root, y=event.y_root)

    def on_enter(self, event: tk.Event[Any]) -> str:
        self.write(event="entry", text=self.entry.get())
        return "break"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--x", type=int, required=True, help="screen x of the button's centre")
    parser.add_argument("--y", type=int, required=True, help="screen y of the button's centre")
    parser.add_argument("--size", type=int, default=24, help="the button's side in pixels")
    parser.add_argument("--out", type=Path, required=True, help="JSON lines are appended here")
    parser.add_argument("--title", default="shain-target", help="the window title")
    options = parser.parse_args(argv)
    app = TargetApp(options.x, options.y, options.size, options.out, options.title)
    app.root.mainloop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
