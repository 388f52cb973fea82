"""What a run that is going on says about itself, for watchers in other processes: which
process, which screen, where its control channel is (`live.json` in the run folder).

Written when the run starts and removed when it ends; a run killed outright leaves it behind,
so a reader checks that the process is still there.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from agent.files import write_private_file

LIVE_FILE = "live.json"


@dataclass(frozen=True)
class LiveRun:
    pid: int
    display: str | None  # the X display its screen is on
    width: int
    height: int
    control: str  # the control socket's path
    private: bool  # a screen of its own, not the boss's desktop


def write_live(folder: Path, live: LiveRun) -> None:
    write_private_file(folder / LIVE_FILE, json.dumps(asdict(live)))


def remove_live(folder: Path) -> None:
    (folder / LIVE_FILE).unlink(missing_ok=True)


def read_live(folder: Path) -> LiveRun | None:
    """The live run in `folder`, or None when it has ended (or its process is gone)."""
    try:
        data = json.loads((folder / LIVE_FILE).read_text(encoding="utf-8"))
        live = LiveRun(**data)
    except (OSError, ValueError, TypeError):
        return None
    try:
        os.kill(live.pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # there, but another user's
    return live
