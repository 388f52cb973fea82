"""The installed apps, read from desktop entries as a desktop's menu reads them."""

from __future__ import annotations

from pathlib import Path

from agent.desktop.app_entries import app_menu_xml, installed_apps
from agent.desktop.screen import Screen

ENTRY = """\
[Desktop Entry]
Type=Application
Name={name}
Exec={command}
{extra}
"""


def _entry(folder: Path, file: str, name: str, command: str, extra: str = "") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / file).write_text(ENTRY.format(name=name, command=command, extra=extra))


def test_apps_come_from_desktop_entries_hidden_and_missing_ones_left_out(tmp_path: Path) -> None:
    home, system = tmp_path / "home" / "applications", tmp_path / "system" / "applications"
    _entry(system, "editor.desktop", "Editor", "sh -c true %F", "Keywords=text;notes;")
    _entry(system, "hidden.desktop", "Hidden", "sh", "NoDisplay=true")
    _entry(system, "missing.desktop", "Missing", "shain-no-such-program %U")
    _entry(system, "shell.desktop", "System shell", "sh")
    _entry(home, "shell.desktop", "My shell", "sh", "Comment=mine wins")  # the user's wins
    _entry(system, "top.desktop", "Top", "top", "Terminal=true")
    environ = {
        "XDG_DATA_HOME": str(tmp_path / "home"),
        "XDG_DATA_DIRS": str(tmp_path / "system"),
        "PATH": "/usr/bin:/bin",
    }
    apps = {app.name: app for app in installed_apps(environ)}
    assert set(apps) == {"Editor", "My shell", "Top"}
    assert apps["Editor"].command == ("sh", "-c", "true")  # the field code %F is gone
    assert apps["Editor"].matches("notes") and not apps["Editor"].matches("browser")
    assert apps["Top"].command == ("xterm", "-e", "top")  # a terminal program in a terminal


def test_the_menu_starts_each_app_in_the_screens_environment(tmp_path: Path) -> None:
    _entry(tmp_path / "applications", "e.desktop", "Edit & <Write>", "sh -c true")
    apps = installed_apps({"XDG_DATA_DIRS": str(tmp_path), "PATH": "/usr/bin:/bin"})
    screen = Screen(":7", {"HOME": "/private/home", "DISPLAY": ":7"})
    menu = app_menu_xml(apps, screen, {"HOME": "/boss", "DISPLAY": ":7", "WAYLAND_DISPLAY": "w"})
    assert 'label="Edit &amp; &lt;Write&gt;"' in menu
    assert "env --chdir=/private/home --unset=WAYLAND_DISPLAY HOME=/private/home sh -c true" in menu
    assert "/boss" not in menu
