"""One hierarchy of errors; each maps to one exit code of `shain run`."""

from __future__ import annotations


class AgentError(Exception):
    """Base of every error Shain raises on purpose."""

    exit_code = 1


class ConfigError(AgentError):
    """Bad input from the user: a task file, a --var, a config value."""

    exit_code = 2


class TaskFileError(ConfigError):
    """A task file that cannot be read or does not match the schema."""


class ActionError(ConfigError):
    """A malformed action: unknown kind, missing field, point off the screen, unknown key."""


class UnsupportedError(ConfigError):
    """Something well formed that this version of Shain cannot do yet."""


class DesktopError(AgentError):
    """The screen, the input devices or an app did not do what was asked."""

    exit_code = 4


class EnvironmentProblem(DesktopError):
    """The environment is not usable: no display, a missing program, an app that would not start."""


class ScreenGone(EnvironmentProblem):
    """The screen went away under a run (its X server died, the connection broke)."""


class RunLogUnwritable(EnvironmentProblem):
    """The run's folder cannot be written (a full disk, a read-only or removed folder): the run
    stops before its next action, since nothing may be done that the log does not hold."""


class ModelError(AgentError):
    """The model endpoint failed: unreachable, refused the key, kept timing out."""

    exit_code = 4


class ModelOutputError(AgentError):
    """A model reply that cannot be turned into actions; fed back to the model, never run."""

    exit_code = 1


class Stopped(AgentError):
    """The boss (or the fail-safe) stopped the run."""

    exit_code = 3


class BudgetExceeded(AgentError):
    """A budget (steps, seconds) ran out."""

    exit_code = 3
