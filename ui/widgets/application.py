"""The one way Shain's windows run Qt: the application, its event loop, and how it ends.

SIGTERM and SIGHUP (a closed terminal) end the loop the way the window's own Quit does, so
what was going on ends cleanly (the tray stops its runs; each log gets its last event). Qt's
event loop runs C++, and Python runs a signal handler only between its own bytecodes: a timer
gives it the chance a few times a second.

On Wayland the process ends right after the loop: Qt's wayland plugin (PySide6 6.11 and 6.12)
can hang at interpreter exit, when PySide's cleanup destroys the QApplication and its display
waits for an event thread stuck reading the socket (3 of 40 quits on a loaded machine; 0 of
60 with this). Everything the window had to do is done by then.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from types import FrameType

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

SIGNAL_CHECK_MS = 200


def shain_application(name: str = "Shain") -> QApplication:
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName(name)
    return app


def run_until_quit(
    app: QApplication,
    *,
    on_signal: Callable[[], None] | None = None,
    then: Callable[[], None] | None = None,
) -> int:
    """`app.exec()`; SIGTERM and SIGHUP call `on_signal` (default: quit); `then` runs after
    the loop. Returns the loop's exit code (on Wayland, the process ends with it)."""
    stop = on_signal or app.quit

    def handle(signum: int, _: FrameType | None) -> None:
        QTimer.singleShot(0, stop)

    previous = {number: signal.signal(number, handle) for number in (signal.SIGTERM, signal.SIGHUP)}
    heartbeat = QTimer()
    heartbeat.timeout.connect(lambda: None)  # lets Python run a pending signal handler
    heartbeat.start(SIGNAL_CHECK_MS)
    try:
        code = int(app.exec())
        if then is not None:
            then()
    finally:
        heartbeat.stop()
        for number, handler in previous.items():
            signal.signal(number, handler)
    if app.platformName() == "wayland":
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
