"""The apps installed on this machine, from their desktop entries (freedesktop.org), and a
menu of them on a private screen, so that an employee can open an app by itself.

Entries are read from `applications/` under XDG_DATA_HOME and XDG_DATA_DIRS, the first one of
a name winning, as desktop environments do; hidden ones, ones not to be displayed, and ones
whose program is missing are left out. `Exec` loses its field codes (%f, %U...): apps are
started without files.
"""

from __future__ import annotations

import configparser
import os
import shlex
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

from agent.desktop.screen import Screen
from agent.errors import EnvironmentProblem

FIELD_CODES = frozenset({"%f", "%F", "%u", "%U", "%d", "%D", "%n", "%N", "%i", "%c", "%k", "%v"})
MENU_ID = "root-menu"  # what openbox shows on a right click on the desktop
TERMINAL = "xterm"


@dataclass(frozen=True, slots=True)
class AppEntry:
    id: str  # the desktop file's name: org.xfce.mousepad.desktop
    name: str  # Mousepad
    command: tuple[str, ...]  # what starts it, field codes removed
    comment: str = ""
    keywords: tuple[str, ...] = ()
    window_class: str = ""  # StartupWMClass, when the entry says

    @property
    def command_line(self) -> str:
        return shlex.join(self.command)

    def matches(self, words: str) -> bool:
        """Whether every word of `words` is in the name, comment, keywords or command."""
        haystack = " ".join((self.name, self.comment, *self.keywords, *self.command)).lower()
        return all(word in haystack for word in words.lower().split())


def _data_folders(environ: Mapping[str, str]) -> list[Path]:
    home = environ.get("XDG_DATA_HOME") or str(Path(environ.get("HOME", "~")) / ".local/share")
    system = environ.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share"
    return [Path(folder) / "applications" for folder in [home, *system.split(":")] if folder]


def _entry(path: Path, environ: Mapping[str, str]) -> AppEntry | None:
    parser = configparser.RawConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError, OSError):
        return None
    if not parser.has_section("Desktop Entry"):
        return None
    entry = parser["Desktop Entry"]
    if entry.get("Type") != "Application" or "Exec" not in entry or "Name" not in entry:
        return None
    if entry.get("NoDisplay", "").lower() == "true" or entry.get("Hidden", "").lower() == "true":
        return None
    try:
        words = shlex.split(entry["Exec"])
    except ValueError:
        return None
    command = tuple(word for word in words if word not in FIELD_CODES)
    path_variable = environ.get("PATH")
    if not command or shutil.which(entry.get("TryExec") or command[0], path=path_variable) is None:
        return None
    if entry.get("Terminal", "").lower() == "true":
        # A program for a terminal (vim, htop) opens in one, as a desktop's menu would.
        if shutil.which(TERMINAL, path=path_variable) is None:
            return None
        command = (TERMINAL, "-e", *command)
    keywords = tuple(word for word in entry.get("Keywords", "").split(";") if word)
    return AppEntry(
        path.name,
        entry["Name"],
        command,
        entry.get("Comment", ""),
        keywords,
        entry.get("StartupWMClass", ""),
    )


def installed_apps(environ: Mapping[str, str] | None = None) -> list[AppEntry]:
    """The apps a user can start, sorted by name."""
    environment = os.environ if environ is None else environ
    found: dict[str, AppEntry] = {}
    seen: set[str] = set()
    for folder in _data_folders(environment):
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.desktop")):
            if path.name in seen:
                continue  # an earlier folder's entry of that name wins, even a hidden one
            seen.add(path.name)
            entry = _entry(path, environment)
            if entry is not None:
                found[entry.id] = entry
    return sorted(found.values(), key=lambda entry: entry.name.lower())


def _launch_line(command: Iterable[str], screen: Screen, manager: Mapping[str, str]) -> str:
    """A command line that starts `command` in the screen's environment, from a window
    manager whose own environment is `manager` (it started before the buses and the profile)."""
    unset = [f"--unset={name}" for name in sorted(set(manager) - set(screen.environment))]
    changed = [
        f"{name}={value}"
        for name, value in sorted(screen.environment.items())
        if manager.get(name) != value
    ]
    home = screen.environment.get("HOME")
    here = [f"--chdir={home}"] if home else []  # not the folder Shain was started in
    return shlex.join(["env", *here, *unset, *changed, *command])


def app_menu_xml(apps: Iterable[AppEntry], screen: Screen, manager: Mapping[str, str]) -> str:
    """Openbox's root menu (a right click on the desktop) with one item per app."""
    items = [
        f'  <item label={quoteattr(app.name)}><action name="Execute"><execute>'
        f"{_xml_text(_launch_line(app.command, screen, manager))}</execute></action></item>"
        for app in apps
    ]
    return "\n".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<openbox_menu xmlns="http://openbox.org/3.4/menu">',
            f'<menu id="{MENU_ID}" label="Apps">',
            *items,
            "</menu>",
            "</openbox_menu>",
            "",
        ]
    )


def _xml_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def install_app_menu(
    apps: Iterable[AppEntry], screen: Screen, config_home: Path, manager: Mapping[str, str]
) -> Path:
    """Write the menu where the screen's openbox reads its configuration and have it reread."""
    folder = config_home / "openbox"
    folder.mkdir(parents=True, exist_ok=True)
    menu = folder / "menu.xml"
    menu.write_text(app_menu_xml(apps, screen, manager), encoding="utf-8")
    result = subprocess.run(
        ["openbox", "--reconfigure"],
        env={**manager},
        capture_output=True,
        timeout=10,
    )
    if result.returncode != 0:
        raise EnvironmentProblem(
            "openbox did not reread its menu: " + result.stderr.decode(errors="replace")
        )
    return menu
