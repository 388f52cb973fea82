"""The office: watching employees (`shain run --virtual-display` processes) live, and steering
them through their control channels (agent/run/control.py).

`channel.py` is the control channel as Qt signals, `live_view.py` an employee's screen live
(and the boss's hands on it during a take-over), `watch_window.py` one employee watched
(`shain watch RUN`). Qt is imported only when a window opens, so `import ui.office` is cheap.
"""

from __future__ import annotations

from pathlib import Path

from agent.run.live import LiveRun, read_live

__all__ = ["watch"]


def watch(run_folder: Path, live: LiveRun) -> int:
    """Open a watch window on the run going on in `run_folder`; return when it is closed."""
    from ui.office.watch_window import WatchWindow
    from ui.widgets.application import run_until_quit, shain_application

    app = shain_application()
    window = WatchWindow(Path(live.control), alive=lambda: read_live(run_folder) is not None)
    window.show()
    # The boss's held keys let go and the employee told, before the process ends.
    return run_until_quit(app, then=window.shutdown)
