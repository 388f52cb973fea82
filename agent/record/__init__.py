"""The run record: events as they happen, the log they are written to and read back
from, a run folded into steps, and how events read as text."""
