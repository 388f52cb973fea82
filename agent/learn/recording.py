"""`shain record`: the boss's demonstration on a screen, until told to stop, as a task file.

The listener (X RECORD) queues the input, the watcher reads what each input went to, and when
the recording stops the input is folded into actions and written (agent.learn.from_demonstration).
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agent.desktop.exclusions import ExcludedRegions
from agent.desktop.screen import Screen
from agent.errors import ConfigError, EnvironmentProblem
from agent.learn.demonstration import demonstrated_actions
from agent.learn.from_demonstration import Recorded, write_demonstration
from agent.learn.read_text import TextUnderPointer
from agent.learn.recorder import InputListener
from agent.learn.watcher import Watcher
from agent.perception.screen_elements import ScreenElements


@dataclass(frozen=True)
class Recording:
    """What a recording wrote, and how long after each press its element was read (seconds)."""

    recorded: Recorded
    press_reads: tuple[float, ...]

    def describe_reads(self) -> str:
        reads = self.press_reads
        if not reads:
            return ""
        median, worst = statistics.median(reads) * 1000, max(reads) * 1000
        return f"each press read {median:.0f} ms after it (median; at most {worst:.0f} ms)"


def record_demonstration(
    screen: Screen,
    output: Path,
    stop: threading.Event,
    *,
    excluded: ExcludedRegions | None = None,
    on_ready: Callable[[], None] | None = None,
) -> Recording:
    """Record the input on `screen` until `stop` is set, and write it to `output` as a task
    file. ConfigError when nothing was done (nothing is written); EnvironmentProblem when the
    screen cannot be recorded."""
    if not screen.display:
        raise EnvironmentProblem("cannot record: the screen has no X display")
    began = time.strftime("%Y-%m-%d %H:%M")
    elements, resting = ScreenElements(screen), ScreenElements(screen)
    read_text = TextUnderPointer(screen)
    watcher = Watcher(screen.display, elements, resting, excluded, read_text)
    # The listener first: it says when the display cannot be opened or recorded; its
    # input waits in the watcher's queue until the watcher starts.
    listener = InputListener(screen.display, watcher.put)
    try:
        listener.start()
        watcher.start()
        if on_ready is not None:
            on_ready()
        # A signal's handler sets `stop`: wake to see it, and end if the screen has gone.
        while not stop.wait(0.2) and listener.listening:
            pass
    except BaseException:
        listener.stop()
        watcher.finish()
        elements.close()
        resting.close()
        raise
    listener.stop()
    observed = watcher.finish()
    try:
        last = watcher.look()
        done = demonstrated_actions(observed)
        if not done:
            raise ConfigError(
                f"nothing was done on {screen.display} while recording: nothing written to {output}"
            )
        heading = [
            f"Recorded by `shain record` on display {screen.display} ({began}).",
            "Checks are yours to add: a demonstration shows what was done, not what makes it",
            "right. Add `checks:` (a file's text, a window's title, the clipboard) so that a",
            "replay succeeds only when the work is done. Rename the vars to say what they are.",
        ]
        recorded = write_demonstration(
            done, watcher.apps, watcher.windows_at_start, last, output, heading
        )
    finally:
        elements.close()
        resting.close()
    reads = tuple(
        o.sight.seconds for o in observed if o.sight is not None and o.event.kind == "button"
    )
    return Recording(recorded, reads)
