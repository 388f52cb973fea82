"""Child processes that end with the process (and thread) that started them."""

from __future__ import annotations

import ctypes
import os
import signal
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1
_SIG_DFL = 0


def die_with_parent() -> Callable[[], None]:
    """A preexec_fn: the child gets SIGTERM when the thread that started it ends (the
    parent's death, or the thread's: start children from a thread that lives as long)."""
    # Loaded before fork: dlopen in the forked child of a threaded parent can deadlock.
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()

    def preexec() -> None:
        # An ignored SIGTERM survives exec (a parent started with `&` ignores it, for one) and
        # would make both the death signal and stop() wait out their SIGKILL grace.
        libc.signal(signal.SIGTERM, _SIG_DFL)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        # The parent may have died between fork and prctl; then no signal would ever come.
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec
