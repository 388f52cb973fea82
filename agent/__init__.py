"""Shain's core: see the screen, decide, act, log every step. Never imports Qt."""

__version__ = "0.1.0"
