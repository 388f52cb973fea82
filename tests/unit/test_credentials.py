"""The API key in the keyring: a real in-memory keyring backend stands in for the system's
(no Secret Service runs here), and keyring's own fail backend for a machine without one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from agent.config.credentials import NO_KEYRING, keyring_available, store_key, stored_key
from agent.config.profiles import Config, Profile, load_config, save_config
from agent.errors import ConfigError
from agent.policy.client import ModelClient
from agent.stop import StopToken
from tests.model_server import ModelServer, chat_text

KEY = "sk-from-the-keyring-456"


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.passwords.pop((service, username), None)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


def test_a_stored_key_comes_back(memory_keyring: MemoryKeyring) -> None:
    assert keyring_available()
    assert stored_key("OPENAI_API_KEY") is None
    store_key("OPENAI_API_KEY", KEY)
    assert stored_key("OPENAI_API_KEY") == KEY
    assert stored_key("OTHER_KEY") is None


def test_without_a_keyring_there_is_no_key_and_storing_says_why(no_keyring: None) -> None:
    assert not keyring_available()
    assert stored_key("OPENAI_API_KEY") is None
    with pytest.raises(ConfigError) as raised:
        store_key("OPENAI_API_KEY", KEY)
    assert str(raised.value) == NO_KEYRING
    assert KEY not in str(raised.value)


def test_a_failing_backend_means_no_key(memory_keyring: MemoryKeyring) -> None:
    def broken(service: str, username: str) -> str | None:
        raise RuntimeError("locked")

    memory_keyring.get_password = broken  # type: ignore[method-assign]
    assert stored_key("OPENAI_API_KEY") is None


def test_a_refused_store_never_quotes_the_key(memory_keyring: MemoryKeyring) -> None:
    def refuse(service: str, username: str, password: str) -> None:
        raise RuntimeError(f"cannot store {password}")

    memory_keyring.set_password = refuse  # type: ignore[method-assign]
    with pytest.raises(ConfigError) as raised:
        store_key("OPENAI_API_KEY", KEY)
    assert KEY not in str(raised.value)
    assert "OPENAI_API_KEY" in str(raised.value)


def test_the_client_uses_the_stored_key_when_the_variable_is_empty(
    memory_keyring: MemoryKeyring,
) -> None:
    store_key("OPENAI_API_KEY", KEY)
    with ModelServer() as server:
        server.script(chat_text("hello"))
        profile = Profile(base_url=server.base_url, timeout_seconds=5)
        client = ModelClient(profile, StopToken(), environ={"OPENAI_API_KEY": ""})
        client.call(
            lambda api: api.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "hi"}]
            )
        )
        (request,) = server.requests
    assert request.headers["authorization"] == f"Bearer {KEY}"


def test_the_variable_wins_over_the_stored_key(memory_keyring: MemoryKeyring) -> None:
    store_key("OPENAI_API_KEY", KEY)
    profile = Profile(base_url="http://127.0.0.1:9/v1")
    client = ModelClient(profile, StopToken(), environ={"OPENAI_API_KEY": "sk-env"})
    assert client.api_key == "sk-env"


def test_without_a_keyring_openai_still_asks_for_the_variable(no_keyring: None) -> None:
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        ModelClient(Profile(), StopToken(), environ={})


# --- the config file round trip (save_config writes what load_config reads) ---


def test_save_then_load_gives_the_same_config(tmp_path: Path) -> None:
    config = Config(
        default_profile="ローカル",
        stop_hotkey="ctrl+shift+q",
        profiles={
            "ローカル": Profile(
                policy="ui-tars",
                model='社員 "model" \\ with\ttab\nand newline',
                base_url="http://localhost:11434/v1",
                temperature=0.25,
                max_retries=7,
                image_format="png",
            ),
            'odd "name"': Profile(policy="scripted", price_input_per_million=1.5e-3),
        },
    )
    path = save_config(config, tmp_path / "sub" / "config.toml")
    assert path == tmp_path / "sub" / "config.toml"
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_config(path) == config
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_save_replaces_the_file_and_omits_unset_values(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("default_profile = 'old'\n[profiles.old]\n")
    save_config(Config(profiles={"new": Profile(model=None)}), path)
    text = path.read_text(encoding="utf-8")
    assert "old" not in text
    assert "null" not in text and "None" not in text
    assert load_config(path) == Config(profiles={"new": Profile()})


def test_a_bad_stop_hotkey_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('stop_hotkey = "ctrl++alt"\n')
    with pytest.raises(ConfigError, match="stop_hotkey"):
        load_config(path)
    assert Config().stop_hotkey == "ctrl+alt+escape"
