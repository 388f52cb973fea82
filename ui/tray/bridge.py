"""Events from the worker thread to the GUI thread, as a Qt signal.

The bridge is one more EventSink on the run's bus: `handle` runs on the worker thread and only
emits; Qt queues the signal to receivers living in the GUI thread. Nothing flows back.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from agent.record.events import Event


class QtBridge(QObject):
    event_happened = Signal(object)  # an agent.record.events.Event

    def handle(self, event: Event) -> None:
        self.event_happened.emit(event)
