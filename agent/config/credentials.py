"""The API key in the system keyring (Secret Service, macOS Keychain, Windows Credential
Locker) through the `keyring` package, when one is available.

A key is stored under the name of the environment variable that would otherwise hold it
(`OPENAI_API_KEY`), so the variable, when set, always wins. No message here ever contains a key.
"""

from __future__ import annotations

from typing import Any

from agent.errors import ConfigError

SERVICE = "shain"
NO_KEYRING = "no system keyring is available here: set OPENAI_API_KEY in the environment instead"


def _backend() -> Any | None:
    """The usable keyring backend, or None (keyring missing, or only its fail/null backends)."""
    try:
        import keyring
        from keyring.backends import chainer, fail, null

        backend = keyring.get_keyring()
    except Exception:
        return None
    if isinstance(backend, fail.Keyring | null.Keyring):
        return None
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return None
    return backend


def keyring_available() -> bool:
    return _backend() is not None


def stored_key(name: str) -> str | None:
    """The key stored under `name`, or None when there is none or no usable keyring."""
    backend = _backend()
    if backend is None:
        return None
    try:
        value = backend.get_password(SERVICE, name)
    except Exception:
        return None
    return value if isinstance(value, str) and value else None


def store_key(name: str, value: str) -> None:
    """Keep `value` in the keyring under `name`; ConfigError when there is no keyring."""
    backend = _backend()
    if backend is None:
        raise ConfigError(NO_KEYRING)
    try:
        backend.set_password(SERVICE, name, value)
    except Exception as error:
        # the backend's own message could quote what it was given: name only the kind
        raise ConfigError(
            f"the system keyring refused to store {name} ({type(error).__name__})"
        ) from None
