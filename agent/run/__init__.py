"""One task run start to finish: the session (setup, runner, checks, verdict) and what it asks
the boss."""
