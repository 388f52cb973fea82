"""How many employees work at once on this machine, unless the boss's settings say."""

from __future__ import annotations

import os

from agent.config.profiles import OfficeSettings

# An employee's working set, measured (bench/office.py): Xvfb, window manager, buses, an app
# and Shain's own process come to a few hundred MB; a model run is mostly waiting.
MEMORY_PER_EMPLOYEE_BYTES = 600 * 1024 * 1024


def employees_this_machine_fits() -> int:
    """How many employees work at once by default: one per core, and no more than the memory
    available holds."""
    cores = os.cpu_count() or 1
    try:
        pages = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return max(1, cores)
    return max(1, min(cores, pages // MEMORY_PER_EMPLOYEE_BYTES))


def office_slots(settings: OfficeSettings) -> int:
    return settings.employees or employees_this_machine_fits()
