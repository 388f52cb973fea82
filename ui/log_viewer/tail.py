"""Reading a growing events.jsonl incrementally: only whole new lines, from a remembered offset.

A run appends and flushes one JSON line per event, so the file may end in a line that is
still being written. Only bytes up to the last newline are consumed; a torn tail is read again
on the next poll, once its newline has arrived. No Qt here, so it is easy to test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.record.codec import decode_event, is_header, json_object
from agent.record.events import LoggedEvent


class EventTail:
    """The header and the events of one run's log, read a little more on every `poll()`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.header: dict[str, Any] = {}
        self._first_line = True

    def poll(self) -> list[dict[str, Any]]:
        """The lines appended since the last poll, as JSON objects (the header is kept in
        `header`)."""
        try:
            with open(self.path, "rb") as file:
                file.seek(self.offset)
                chunk = file.read()
        except FileNotFoundError:
            return []
        end = chunk.rfind(b"\n")
        if end < 0:
            return []  # nothing new, or only a line still being written
        self.offset += end + 1
        lines: list[dict[str, Any]] = []
        for raw in chunk[: end + 1].splitlines():
            first, self._first_line = self._first_line, False
            data = json_object(raw)
            if data is None:
                continue  # a line a crash left torn: skipped, as read_run does
            if first and is_header(data):
                self.header = data
            else:
                lines.append(data)
        return lines

    def poll_events(self) -> list[LoggedEvent]:
        """The events appended since the last poll."""
        return [decode_event(data) for data in self.poll()]
