"""The `shain` command (also `python -m agent`)."""
