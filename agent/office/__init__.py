"""The office: employees, each a `shain run` process on a private screen of its own, started,
followed and steered by the boss (the tray, `shain watch`)."""
