"""Settings…: the default profile (its policy, model and endpoint), the API key and the stop
hotkey, written to the config file with `save_config`.

The API key goes to the system keyring under the profile's `api_key_env` name, never to the
config file; the field only says whether a key is stored. Without a keyring the field is off
and says why. A problem (a bad hotkey, a missing profile name) stays in the dialog, in words.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, get_args

import pydantic
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from agent.config.credentials import NO_KEYRING, keyring_available, store_key, stored_key
from agent.config.profiles import (
    Config,
    OfficeSettings,
    PolicyName,
    Profile,
    config_path,
    load_config,
    save_config,
)
from agent.errors import AgentError
from agent.office.capacity import employees_this_machine_fits
from agent.policy.by_model import policy_for_model

NEW_PROFILE = "New profile…"
POLICIES: tuple[str, ...] = get_args(PolicyName)
BASE_URL_HINT = "empty = OpenAI; e.g. http://localhost:11434/v1 for Ollama"


class SettingsDialog(QDialog):
    def __init__(
        self,
        config: Config | None = None,
        path: Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Shain — settings")
        self.path = path or config_path()
        self.saved: Config | None = None  # what Save wrote
        self.config, config_problem = self._config(config)
        self.load_problem = config_problem

        self.profile = QComboBox()
        self.profile.addItems(sorted(self.config.profiles))
        self.profile.addItem(NEW_PROFILE)
        self.new_name = QLineEdit()
        self.new_name.setPlaceholderText("a name for the new profile, e.g. local")
        self.policy = QComboBox()
        self.policy.addItems(POLICIES)
        self.model = QLineEdit()
        # What the model's name says: its family picks the policy, as `shain run --model` does.
        self.model_family = QLabel()
        self.model_family.setWordWrap(True)
        self.model_family.setStyleSheet("color: #666")
        self.base_url = QLineEdit()
        self.base_url.setPlaceholderText(BASE_URL_HINT)
        self.api_key = QLineEdit()
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_status = QLabel()
        self.key_status.setWordWrap(True)
        self.key_status.setStyleSheet("color: #666")
        self.hotkey = QLineEdit(self.config.stop_hotkey)
        self.hotkey.setPlaceholderText("e.g. ctrl+alt+escape")
        office = self.config.office
        self.employees = QSpinBox()
        self.employees.setRange(0, 64)
        self.employees.setSpecialValueText(
            f"what this machine fits ({employees_this_machine_fits()})"
        )
        self.employees.setValue(office.employees or 0)
        self.keep_screens = QCheckBox("keep an employee's screen until its card is closed")
        self.keep_screens.setChecked(office.keep_screens)
        self.pause_after = QSpinBox()
        self.pause_after.setRange(1, 24 * 3600)
        self.pause_after.setSuffix(" s")
        self.pause_after.setValue(round(office.pause_after_seconds))

        form = QFormLayout()
        form.addRow("Default profile", self.profile)
        form.addRow("Profile name", self.new_name)
        form.addRow("Policy", self.policy)
        form.addRow("Model", self.model)
        form.addRow("", self.model_family)
        form.addRow("Base URL", self.base_url)
        form.addRow("API key", self.api_key)
        form.addRow("", self.key_status)
        form.addRow("Stop hotkey", self.hotkey)
        form.addRow("Employees at once", self.employees)
        form.addRow("Screens", self.keep_screens)
        form.addRow("Unanswered pauses after", self.pause_after)
        self.problem = QLabel(config_problem)
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #c0392b")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        if config_problem:  # never overwrite a file we could not read
            self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(False)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)

        if self.config.default_profile in self.config.profiles:
            self.profile.setCurrentText(self.config.default_profile)
        self.profile.currentTextChanged.connect(self._profile_chosen)
        self.policy.currentTextChanged.connect(self._policy_chosen)
        self.model.textEdited.connect(self._model_named)
        self._profile_chosen()

    def _config(self, config: Config | None) -> tuple[Config, str]:
        if config is not None:
            return config, ""
        try:
            return load_config(self.path), ""
        except AgentError as error:
            return Config(), f"{error} (fix or remove the file to save settings here)"

    # --- what is shown ---

    def _current(self) -> Profile:
        return self.config.profiles.get(self.profile.currentText(), Profile())

    def _profile_chosen(self) -> None:
        self.new_name.setEnabled(self.profile.currentText() == NEW_PROFILE)
        profile = self._current()
        self.policy.setCurrentText(profile.policy)
        self.model.setText(profile.model or "")
        self.base_url.setText(profile.base_url or "")
        self._policy_chosen()
        self._show_key_status()

    def _policy_chosen(self) -> None:
        usual = Profile(policy=self.policy.currentText()).model_name
        self.model.setPlaceholderText(f"empty = {usual}")

    def _model_named(self, name: str) -> None:
        """A known model family sets the policy (the boss can still choose another)."""
        if not name.strip():
            self.model_family.clear()
            return
        guess = policy_for_model(name)
        if guess.known:
            self.policy.setCurrentText(guess.policy)
            self.model_family.setText(f"Policy {guess.policy}: {guess.why}.")
        else:
            self.model_family.setText(
                f"Shain does not know this model's family: the policy stays "
                f"{self.policy.currentText()}; choose the one for its format above."
            )

    def _family_settings(self, policy: str) -> dict[str, Any]:
        """The settings the named model's format needs (UI-TARS 1.0's grid, GPT-5.4's tool),
        when the policy is the one its family uses."""
        guess = policy_for_model(self.model.text()) if self.model.text().strip() else None
        return dict(guess.settings) if guess and guess.known and guess.policy == policy else {}

    def _show_key_status(self) -> None:
        name = self._current().api_key_env
        self.api_key.clear()
        if not keyring_available():
            self.api_key.setEnabled(False)
            self.api_key.setPlaceholderText("no system keyring")
            self.key_status.setText(NO_KEYRING.replace("OPENAI_API_KEY", name))
            return
        self.api_key.setEnabled(True)
        stored = stored_key(name) is not None
        self.api_key.setPlaceholderText(
            "stored — type a new key to replace it" if stored else "no key stored"
        )
        status = (
            f"A key for {name} is stored in the system keyring."
            if stored
            else f"No key for {name} in the system keyring."
        )
        if os.environ.get(name):
            status += f" {name} is set in the environment and is used first."
        self.key_status.setText(status)

    # --- saving ---

    def profile_name(self) -> str:
        chosen = self.profile.currentText()
        if chosen != NEW_PROFILE:
            return chosen
        name = self.new_name.text().strip()
        if not name:
            raise AgentError("give the new profile a name")
        if name in self.config.profiles:
            raise AgentError(f"there is already a profile named {name!r}")
        return name

    def build_config(self) -> Config:
        """The config from what is filled in; AgentError when something is wrong."""
        name = self.profile_name()
        values: dict[str, Any] = self._current().model_dump(exclude_unset=True)
        values["policy"] = self.policy.currentText()
        values = {**self._family_settings(values["policy"]), **values}
        for field, box in (("model", self.model), ("base_url", self.base_url)):
            text = box.text().strip()
            if text:
                values[field] = text
            else:
                values.pop(field, None)
        try:
            profile = Profile.model_validate(values)
            return Config(
                default_profile=name,
                profiles={**self.config.profiles, name: profile},
                stop_hotkey=self.hotkey.text(),
                office=OfficeSettings(
                    employees=self.employees.value() or None,
                    keep_screens=self.keep_screens.isChecked(),
                    pause_after_seconds=self.pause_after.value(),
                ),
            )
        except pydantic.ValidationError as error:
            labels = {"stop_hotkey": "stop hotkey"}
            raise AgentError(
                "; ".join(
                    f"{labels.get(str(item['loc'][0]), str(item['loc'][0]))}: {item['msg']}"
                    if item["loc"]
                    else item["msg"]
                    for item in error.errors(include_url=False)
                )
            ) from None

    def accept(self) -> None:
        if self.load_problem:
            self.problem.setText(self.load_problem)
            return
        try:
            config = self.build_config()
            key = self.api_key.text().strip()
            if key and self.api_key.isEnabled():
                assert config.default_profile is not None
                store_key(config.profiles[config.default_profile].api_key_env, key)
                self.api_key.clear()  # stored: the field never holds it longer than needed
            save_config(config, self.path)
        except (AgentError, OSError) as error:
            self.problem.setText(str(error))
            return
        self.saved = config
        self.problem.clear()
        super().accept()
