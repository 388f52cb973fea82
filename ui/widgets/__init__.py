"""Widgets both the log viewer and the tray show: a screenshot with its overlays, an elided
label, and the shared style (status colours, pills, numbers)."""
