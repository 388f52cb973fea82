"""The console sink: a line per step while a run goes, for people watching a terminal. The
lines are `shain show`'s (agent/record/describe.py), so a run reads the same live and after."""

from __future__ import annotations

import sys
from typing import TextIO

from agent.record.describe import describe_event
from agent.record.events import Event


class ConsoleSink:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream: TextIO | None = stream or sys.stdout

    def handle(self, event: Event) -> None:
        line = describe_event(event)
        if line is None or self.stream is None:
            return
        try:
            print(line, file=self.stream, flush=True)
        except (OSError, ValueError):
            # The terminal went away (closed, SIGHUP): the run goes on to its clean end; the
            # log still has every line.
            self.stream = None
