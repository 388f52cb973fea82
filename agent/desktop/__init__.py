"""The screen Shain works on: the Desktop protocol, the screen as a value, capture and input,
virtual screens, windows, and the boss's hands on the keyboard and mouse."""
