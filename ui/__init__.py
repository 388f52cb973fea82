"""The boss's Qt front end (tray, progress window, log viewer). Imports agent; agent never imports ui."""
