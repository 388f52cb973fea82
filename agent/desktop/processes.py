"""Processes as /proc tells them (Linux): their state, parent, group and CPU time, their
ancestors, their command line.

A recording names an app by the command that started it, and knows Shain's own windows by
their process: this one, or one it descends from (the terminal `shain record` runs in). The
tests look for what a run left behind, and the benchmarks read what a process cost, here."""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

_PROC = Path("/proc")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True, slots=True)
class ProcessStat:
    pid: int
    name: str
    state: str  # R running, S sleeping, ... Z zombie, X dead
    parent: int
    group: int  # its process group
    cpu_ticks: int  # user + system CPU time, in clock ticks

    @property
    def cpu_seconds(self) -> float:
        return self.cpu_ticks / CLOCK_TICKS

    @property
    def living(self) -> bool:
        return self.state not in "ZX"


def process_stat(pid: int) -> ProcessStat | None:
    """What /proc/PID/stat says of a process; None when it is gone."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    name = stat[stat.index("(") + 1 : stat.rindex(")")]  # the name may hold spaces and ")"
    fields = stat[stat.rindex(")") + 2 :].split()
    return ProcessStat(
        pid, name, fields[0], int(fields[1]), int(fields[2]), int(fields[11]) + int(fields[12])
    )


def all_processes() -> list[ProcessStat]:
    """Every living process (zombies left out)."""
    found = []
    for entry in _PROC.iterdir():
        if entry.name.isdigit():
            stat = process_stat(int(entry.name))
            if stat is not None and stat.living:
                found.append(stat)
    return found


def parent(pid: int) -> int:
    """The parent of a process; 0 when it is gone."""
    stat = process_stat(pid)
    return 0 if stat is None else stat.parent


def ancestors(pid: int) -> frozenset[int]:
    """The process and every one it descends from (init left out)."""
    found: set[int] = set()
    while pid > 1 and pid not in found:
        found.add(pid)
        pid = parent(pid)
    return frozenset(found)


def command_line(pid: int) -> list[str]:
    """A process's arguments; [] when it is gone or has none (a kernel thread)."""
    try:
        raw = (_PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]


_SHELLS = frozenset({"sh", "bash", "dash", "zsh"})


def launch_command(pid: int) -> str:
    """The command that started an app's process, quoted for a shell ("" when it is gone):
    the shell command (`sh -c '...'`) it was started by, which may also say where its
    output goes, or else its own command line."""
    starter = command_line(parent(pid))
    if len(starter) >= 3 and Path(starter[0]).name in _SHELLS and starter[1] == "-c":
        return shlex.join(starter)
    return shlex.join(command_line(pid))
