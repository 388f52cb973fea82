"""The run log viewer (`shain logs [RUN]`): runs, step timeline, annotated screenshots.

Qt is imported only when the viewer is opened, so `import ui.log_viewer` stays cheap.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ui.log_viewer.window import LogViewerWindow

__all__ = ["build_window", "main"]


def build_window(run: Path | None, runs_dir: Path) -> LogViewerWindow:
    """The viewer's window over `runs_dir` (the folder holding `run` when that lies
    elsewhere), with `run` selected, or else the newest run. Needs a QApplication."""
    from ui.log_viewer.window import LogViewerWindow

    if run is not None and run.parent.resolve() != runs_dir.resolve():
        runs_dir = run.parent
    window = LogViewerWindow(runs_dir)
    if run is None or not window.select_run(run):
        window.select_first_run()
    return window


def main(run: Path | None, runs_dir: Path) -> int:
    """Open the viewer and return when its window is closed (the exit code)."""
    from ui.widgets.application import run_until_quit, shain_application

    app = shain_application("Shain log viewer")
    window = build_window(run, runs_dir)
    window.show()
    return run_until_quit(app)
