"""Masking of secret values (API keys, task secrets) in everything Shain writes or shows."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable
from typing import Any, TypeVar

from agent.desktop.protocol import Frame

MASK = "[secret]"
T = TypeVar("T")


class SecretMasker:
    """Replaces every known secret value by MASK in strings, dataclasses, lists and dicts."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so that a secret containing another is masked whole.
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def add(self, secret: str) -> None:
        if secret:
            self._secrets = sorted({*self._secrets, secret}, key=len, reverse=True)

    def mask_text(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text

    def mask(self, value: T) -> T:
        if not self._secrets:
            return value
        return self._mask(value)  # type: ignore[no-any-return]

    def _mask(self, value: Any) -> Any:
        match value:
            case enum.Enum():
                return value  # a fixed name (a StrEnum is a str, but never a secret)
            case str():
                return self.mask_text(value)
            case Frame():
                return value
            case list() | tuple():
                return type(value)(self._mask(item) for item in value)
            case dict():
                return {key: self._mask(item) for key, item in value.items()}
            case _ if dataclasses.is_dataclass(value) and not isinstance(value, type):
                changes = {
                    field.name: self._mask(getattr(value, field.name))
                    for field in dataclasses.fields(value)
                    if field.init
                }
                return dataclasses.replace(value, **changes)
            case _:
                return value
