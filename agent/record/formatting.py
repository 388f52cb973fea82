"""Numbers as people read them, shared by the report and the log viewer."""

from __future__ import annotations


def duration_text(seconds: float | None) -> str:
    """`350 ms`, `2.4 s`, `3 min 05 s`, `1 h 02 min`; `–` when unknown."""
    if seconds is None:
        return "–"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"
