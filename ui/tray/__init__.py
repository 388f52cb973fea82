"""The tray app (`shain tray`): New task…, a queue, Pause / Stop, the icon says what is going on.

Qt is imported only by the modules that need it; `state` and `request` are plain Python.
"""
