"""Settings… offscreen: it loads the config file, saves edits back with save_config, refuses a
bad hotkey in words, and puts the API key in the (test) keyring, never in the file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from agent.config.credentials import NO_KEYRING, SERVICE
from agent.config.profiles import Config, Profile, load_config, save_config
from tests.unit.test_credentials import MemoryKeyring
from ui.tray.settings_dialog import NEW_PROFILE, SettingsDialog

KEY = "sk-typed-into-settings-789"
CONFIG = Config(
    default_profile="local",
    profiles={
        "cloud": Profile(policy="openai-cua"),
        "local": Profile(
            policy="ui-tars", model="tars", base_url="http://localhost:8000/v1", max_retries=2
        ),
    },
)


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.toml"
    save_config(CONFIG, path)
    monkeypatch.setenv("SHAIN_CONFIG", str(path))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    return path


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def _dialog(qtbot: QtBot) -> SettingsDialog:
    dialog = SettingsDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_the_dialog_shows_the_config_file(
    qtbot: QtBot, config_file: Path, memory_keyring: MemoryKeyring
) -> None:
    dialog = _dialog(qtbot)
    names = [dialog.profile.itemText(i) for i in range(dialog.profile.count())]
    assert names == ["cloud", "local", NEW_PROFILE]
    assert dialog.profile.currentText() == "local"
    assert dialog.policy.currentText() == "ui-tars"
    assert dialog.model.text() == "tars"
    assert dialog.base_url.text() == "http://localhost:8000/v1"
    assert dialog.hotkey.text() == "ctrl+alt+escape"
    assert "Ollama" in dialog.base_url.placeholderText()
    assert not dialog.new_name.isEnabled()
    dialog.profile.setCurrentText("cloud")
    assert dialog.policy.currentText() == "openai-cua"
    assert dialog.model.text() == ""
    assert "computer-use-preview" in dialog.model.placeholderText()


def test_edits_are_saved_to_the_file(
    qtbot: QtBot, config_file: Path, memory_keyring: MemoryKeyring
) -> None:
    dialog = _dialog(qtbot)
    dialog.model.setText("UI-TARS-1.5-7B")
    dialog.base_url.setText("http://localhost:11434/v1")
    dialog.hotkey.setText("ctrl+shift+q")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()

    assert dialog.result() == SettingsDialog.DialogCode.Accepted
    saved = load_config(config_file)
    assert saved == dialog.saved
    assert saved.stop_hotkey == "ctrl+shift+q"
    local = saved.profiles["local"]
    assert local.model == "UI-TARS-1.5-7B"
    assert local.base_url == "http://localhost:11434/v1"
    assert local.max_retries == 2  # what the dialog does not show is kept
    assert saved.profiles["cloud"] == CONFIG.profiles["cloud"]


def test_an_empty_base_url_means_openai(
    qtbot: QtBot, config_file: Path, memory_keyring: MemoryKeyring
) -> None:
    dialog = _dialog(qtbot)
    dialog.base_url.setText("  ")
    dialog.model.setText("")
    dialog.accept()
    local = load_config(config_file).profiles["local"]
    assert local.base_url is None
    assert local.model is None


def test_a_new_profile_becomes_the_default(
    qtbot: QtBot, config_file: Path, memory_keyring: MemoryKeyring
) -> None:
    dialog = _dialog(qtbot)
    dialog.profile.setCurrentText(NEW_PROFILE)
    assert dialog.new_name.isEnabled()
    dialog.accept()
    assert "name" in dialog.problem.text()
    dialog.new_name.setText("cloud")
    dialog.accept()
    assert "already" in dialog.problem.text()
    dialog.new_name.setText("ollama")
    dialog.policy.setCurrentText("qwen-vl")
    dialog.base_url.setText("http://localhost:11434/v1")
    dialog.accept()
    saved = load_config(config_file)
    assert saved.default_profile == "ollama"
    assert saved.profiles["ollama"] == Profile(
        policy="qwen-vl", base_url="http://localhost:11434/v1"
    )
    assert set(saved.profiles) == {"cloud", "local", "ollama"}


def test_a_bad_hotkey_is_refused_with_the_message(
    qtbot: QtBot, config_file: Path, memory_keyring: MemoryKeyring
) -> None:
    before = config_file.read_text(encoding="utf-8")
    dialog = _dialog(qtbot)
    dialog.hotkey.setText("ctrl++alt")
    dialog.accept()
    assert dialog.isVisible()
    assert dialog.saved is None
    assert "stop hotkey" in dialog.problem.text()
    assert "malformed key combination" in dialog.problem.text()
    assert config_file.read_text(encoding="utf-8") == before


def test_the_key_goes_to_the_keyring_never_to_the_file(
    qtbot: QtBot, config_file: Path, memory_keyring: MemoryKeyring
) -> None:
    dialog = _dialog(qtbot)
    assert dialog.api_key.isEnabled()
    assert dialog.api_key.echoMode() == dialog.api_key.EchoMode.Password
    assert "No key" in dialog.key_status.text()
    dialog.api_key.setText(KEY)
    dialog.accept()

    assert memory_keyring.passwords == {(SERVICE, "OPENAI_API_KEY"): KEY}
    assert KEY not in config_file.read_text(encoding="utf-8")
    assert dialog.api_key.text() == ""
    again = _dialog(qtbot)
    assert again.api_key.text() == ""  # only whether one is stored, never the key
    assert "is stored" in again.key_status.text()
    assert KEY not in again.key_status.text() + again.api_key.placeholderText()


def test_without_a_keyring_the_key_field_is_off_and_says_why(
    qtbot: QtBot, config_file: Path
) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        dialog = _dialog(qtbot)
        assert not dialog.api_key.isEnabled()
        assert dialog.key_status.text() == NO_KEYRING
        dialog.hotkey.setText("ctrl+alt+k")
        dialog.accept()
        assert load_config(config_file).stop_hotkey == "ctrl+alt+k"
    finally:
        keyring.set_keyring(previous)


def test_a_broken_config_file_is_not_overwritten(
    qtbot: QtBot, config_file: Path, memory_keyring: MemoryKeyring
) -> None:
    config_file.write_text("default_profile = [", encoding="utf-8")
    dialog = _dialog(qtbot)
    assert "not valid TOML" in dialog.problem.text()
    save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    assert not save.isEnabled()
    dialog.accept()
    assert config_file.read_text(encoding="utf-8") == "default_profile = ["


def test_the_tray_opens_settings_and_follows_the_saved_hotkey(
    qtbot: QtBot, tmp_path: Path, config_file: Path, memory_keyring: MemoryKeyring
) -> None:
    from ui.tray.app import TrayApp

    app = TrayApp(tmp_path / "runs", use_tray=False, hotkey_from_config=True)
    assert app.window is not None
    qtbot.addWidget(app.window)
    qtbot.addWidget(app.progress)
    assert "Settings…" in [action.text() for action in app.menu.actions()]
    app.settings.trigger()
    (dialog,) = [window for window in app._windows if isinstance(window, SettingsDialog)]
    qtbot.addWidget(dialog)
    dialog.hotkey.setText("ctrl+alt+h")
    dialog.accept()
    assert app.hotkey == "ctrl+alt+h"
    assert load_config(config_file).stop_hotkey == "ctrl+alt+h"


def test_an_explicit_hotkey_is_kept_after_saving(
    qtbot: QtBot, tmp_path: Path, config_file: Path, memory_keyring: MemoryKeyring
) -> None:
    from ui.tray.app import TrayApp

    app = TrayApp(tmp_path / "runs", hotkey="ctrl+alt+x", use_tray=False)
    assert app.window is not None
    qtbot.addWidget(app.window)
    qtbot.addWidget(app.progress)
    app.open_settings()
    (dialog,) = [window for window in app._windows if isinstance(window, SettingsDialog)]
    qtbot.addWidget(dialog)
    dialog.hotkey.setText("ctrl+alt+h")
    dialog.accept()
    assert app.hotkey == "ctrl+alt+x"


def test_a_model_name_the_boss_types_picks_its_policy(
    qtbot: QtBot, config_file: Path, memory_keyring: MemoryKeyring
) -> None:
    dialog = _dialog(qtbot)
    dialog.model.clear()
    qtbot.keyClicks(dialog.model, "qwen3-vl:8b")
    assert dialog.policy.currentText() == "qwen3-vl"
    assert "Qwen3-VL" in dialog.model_family.text()
    dialog.model.clear()
    qtbot.keyClicks(dialog.model, "my-own-model")
    assert dialog.policy.currentText() == "qwen3-vl"  # kept: an unknown name picks nothing
    assert "does not know this model's family" in dialog.model_family.text()
    dialog.model.clear()
    qtbot.keyClicks(dialog.model, "UI-TARS-7B-DPO")  # UI-TARS 1.0 answers on a 0-1000 grid
    assert dialog.policy.currentText() == "ui-tars"
    dialog.accept()
    local = load_config(config_file).profiles["local"]
    assert (local.policy, local.model, local.coordinates) == (
        "ui-tars",
        "UI-TARS-7B-DPO",
        "relative",
    )
