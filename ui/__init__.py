"""The boss's Qt front end: tray, progress window, log viewer. agent never imports ui."""
