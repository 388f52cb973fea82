"""The boss's mouse and keys, sent to an employee's screen on a thread of their own.

XTest calls wait for the employee's X server to answer, and typing a character its keymap
lacks pauses for the app to reread the map (agent/desktop/x11_keymap.py): neither may hold up
the GUI thread, so the live view only queues what the boss did and this thread plays it, in
order. Pointer moves that pile up behind slower work are merged into the newest one (only
where the pointer ends up matters; button presses and releases are never merged).

One forwarder lives for one take-over: `finish` lets go of every key and button still held,
gives borrowed keycodes back (the employee's own typing uses the same spare keycodes once it
has the screen again), and only then calls its `then`, which hands the screen back.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

from agent.desktop.x11_input import X11Input

Operation = Callable[[X11Input], None]
ErrorHandler = Callable[[str], None]
_MOVE = "move"


class InputForwarder:
    """Plays the boss's input on the X screen `display_name`; errors go to `on_error` (on
    this forwarder's thread), and the forwarder goes on with the next input."""

    def __init__(self, display_name: str, on_error: ErrorHandler) -> None:
        self.display_name = display_name
        self._on_error = on_error
        self._queue: deque[tuple[str, Operation]] = deque()
        self._ready = threading.Condition()
        self._finishing = False
        self._then: Callable[[], object] | None = None
        self._held_modifiers: tuple[str, ...] = ()
        self._buttons = 0  # buttons held: modifiers held for a click go when the last is up
        self._thread = threading.Thread(target=self._play, name="shain-boss-input", daemon=True)
        self._thread.start()

    # --- what the boss did (any thread; the live view calls these on the GUI thread) ----------

    def move(self, x: int, y: int) -> None:
        with self._ready:
            if self._queue and self._queue[-1][0] == _MOVE:
                self._queue.pop()  # not played yet: only the newest position matters
            self._enqueue(_MOVE, lambda screen: screen.move(x, y))

    def press(self, x: int, y: int, button: int, modifiers: tuple[str, ...] = ()) -> None:
        """A button goes down at (x, y), with the modifier keys the boss holds (Shift-click)."""
        self._add(lambda screen: self._press(screen, x, y, button, modifiers))

    def release(self, x: int, y: int, button: int) -> None:
        self._add(lambda screen: self._release(screen, x, y, button))

    def scroll(self, x: int, y: int, down: int, right: int) -> None:
        self._add(lambda screen: screen.scroll(x, y, down=down, right=right))

    def type_text(self, text: str) -> None:
        self._add(lambda screen: screen.type_text(text))

    def press_combination(self, keys: tuple[str, ...]) -> None:
        self._add(lambda screen: screen.press_combination(keys))

    def finish(self, then: Callable[[], object] | None = None) -> None:
        """Play what is queued, let go of everything, close; then call `then` (on this
        forwarder's thread). Input queued after this is dropped."""
        with self._ready:
            self._finishing = True
            self._then = then
            self._ready.notify()

    def wait(self, timeout: float) -> bool:
        """Whether the forwarder has finished within `timeout` seconds (after `finish`)."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def finished(self) -> bool:
        return not self._thread.is_alive()

    # --- the forwarder's thread ---------------------------------------------------------------

    def _add(self, operation: Operation) -> None:
        with self._ready:
            self._enqueue("", operation)

    def _enqueue(self, kind: str, operation: Operation) -> None:
        if not self._finishing:
            self._queue.append((kind, operation))
            self._ready.notify()

    def _play(self) -> None:
        screen: X11Input | None = None
        try:
            screen = X11Input(self.display_name)
        except Exception as error:  # the screen is gone, or refuses XTest
            self._on_error(f"cannot send input to the employee's screen: {error}")
        try:
            while True:
                with self._ready:
                    while not self._queue and not self._finishing:
                        self._ready.wait()
                    if not self._queue:
                        break
                    _, operation = self._queue.popleft()
                if screen is not None:
                    self._run(operation, screen)
        finally:
            if screen is not None:
                screen.close()  # releases keys and buttons, gives keycodes back
            if self._then is not None:
                self._then()

    def _run(self, operation: Operation, screen: X11Input) -> None:
        try:
            operation(screen)
        except Exception as error:  # one input that could not go; the next may
            self._on_error(f"input not sent: {error}")

    def _press(
        self, screen: X11Input, x: int, y: int, button: int, modifiers: tuple[str, ...]
    ) -> None:
        if self._buttons == 0:
            for name in modifiers:
                screen.named_key(name, True)
            self._held_modifiers = modifiers
        self._buttons += 1
        screen.move(x, y)
        screen.button(button, True)

    def _release(self, screen: X11Input, x: int, y: int, button: int) -> None:
        screen.move(x, y)
        screen.button(button, False)
        self._buttons = max(0, self._buttons - 1)
        if self._buttons == 0:
            for name in reversed(self._held_modifiers):
                screen.named_key(name, False)
            self._held_modifiers = ()
