"""The screen Shain works on: the Desktop protocol and what implements it."""

from agent.desktop.protocol import Desktop, Frame

__all__ = ["Desktop", "Frame"]
