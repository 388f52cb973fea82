"""Model profiles: which policy, model and endpoint to use, from a TOML file in the user's
config folder. Pointing Shain at another server is one line (`base_url`).

    default_profile = "openai"

    [profiles.openai]
    policy = "openai-cua"
    model = "computer-use-preview"

    [profiles.local]
    policy = "ui-tars"
    model = "ByteDance-Seed/UI-TARS-1.5-7B"
    base_url = "http://localhost:8000/v1"
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path
from typing import Literal

import platformdirs
import pydantic

from agent.errors import ActionError, ConfigError
from agent.files import write_private_file
from agent.guard import GuardRules
from agent.keys import parse_key_combination

PolicyName = Literal[
    "scripted",
    "oracle",
    "do-nothing",
    "openai-chat",
    "openai-cua",
    "ui-tars",
    "qwen-vl",
    "qwen3-vl",
    "opencua",
    "glm-v",
]
MODEL_POLICIES = ("openai-chat", "openai-cua", "ui-tars", "qwen-vl", "qwen3-vl", "opencua", "glm-v")
# Benchmark controls: the task file's `oracle` steps, and a policy that says done at once.
CONTROL_POLICIES = ("oracle", "do-nothing")

_DEFAULT_MODELS = {
    "openai-chat": "gpt-4.1",
    "openai-cua": "computer-use-preview",
    "ui-tars": "ByteDance-Seed/UI-TARS-1.5-7B",
    "qwen-vl": "Qwen/Qwen2.5-VL-7B-Instruct",
    "qwen3-vl": "Qwen/Qwen3-VL-8B-Instruct",
    "opencua": "xlangai/OpenCUA-7B",
    "glm-v": "zai-org/GLM-4.5V",
}


class Profile(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    policy: PolicyName = "openai-chat"
    model: str | None = None  # None: the policy's usual model
    base_url: str | None = None  # None: $OPENAI_BASE_URL, else OpenAI
    api_key_env: str = "OPENAI_API_KEY"  # the variable holding the key, never the key
    image_long_side: int = pydantic.Field(1280, ge=64, le=8192)
    image_format: Literal["jpeg", "png"] = "jpeg"
    history_screenshots: int = pydantic.Field(3, ge=1, le=20)
    price_input_per_million: float = pydantic.Field(0.0, ge=0)
    price_output_per_million: float = pydantic.Field(0.0, ge=0)
    timeout_seconds: float = pydantic.Field(60.0, gt=0)
    max_retries: int = pydantic.Field(4, ge=0, le=20)
    max_bad_replies: int = pydantic.Field(3, ge=1)
    # Waiting (or only looking) this long with no change on the screen ends a run as stuck.
    max_idle_seconds: float = pydantic.Field(60.0, gt=0)
    coordinates: Literal["absolute", "relative"] = "absolute"  # UI-TARS 1.5 / 1.0
    max_pixels: int = pydantic.Field(1280 * 28 * 28, ge=56 * 56)  # Qwen2.5-VL smart_resize
    temperature: float | None = None
    # Set-of-marks: numbered boxes over the accessibility tree's actionable elements on each
    # screenshot, listed in the prompt; the model may click a mark's number (openai-chat).
    marks: bool = False
    cua_tool: Literal["computer_use_preview", "computer"] = "computer_use_preview"
    guard: GuardRules | None = None  # for tasks whose file sets no `guard:` of its own

    @property
    def model_name(self) -> str:
        return self.model or _DEFAULT_MODELS.get(self.policy, "gpt-4.1")

    @pydantic.model_validator(mode="after")
    def _marks_need_openai_chat(self) -> Profile:
        if self.marks and self.policy != "openai-chat":
            raise ValueError(
                f"set-of-marks (marks = true) works with the openai-chat policy, not "
                f"{self.policy}: the others answer in their own fixed formats"
            )
        return self

    def cost_usd(self, input_tokens: int, output_tokens: int) -> float:
        return (
            input_tokens * self.price_input_per_million
            + output_tokens * self.price_output_per_million
        ) / 1_000_000


class OfficeSettings(pydantic.BaseModel):
    """How the office runs employees on screens of their own."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    # How many work at once (more wait in the queue); None: what this machine fits.
    employees: int | None = pydantic.Field(None, ge=1, le=64)
    # Keep an employee's screen after its task, until the boss closes its card.
    keep_screens: bool = False
    # An unanswered question or approval pauses the employee after this long (it still waits).
    pause_after_seconds: float = pydantic.Field(120.0, gt=0)


class FleetSettings(pydantic.BaseModel):
    """Where the fleet's broker is (`shain worker`, `submit`, `stop`, `fleet`)."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    broker: str | None = None  # redis:// or rediss:// URL; --broker and SHAIN_BROKER win


class Config(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    default_profile: str | None = None
    profiles: dict[str, Profile] = {}
    stop_hotkey: str = "ctrl+alt+escape"  # the boss's global stop key
    office: OfficeSettings = OfficeSettings()
    fleet: FleetSettings = FleetSettings()

    @pydantic.field_validator("stop_hotkey")
    @classmethod
    def _valid_hotkey(cls, value: str) -> str:
        try:
            parse_key_combination(value)
        except ActionError as error:
            raise ValueError(str(error)) from None
        return value.strip()


def config_path() -> Path:
    configured = os.environ.get("SHAIN_CONFIG")
    return (
        Path(configured)
        if configured
        else Path(platformdirs.user_config_dir("shain")) / "config.toml"
    )


def load_config(path: Path | None = None) -> Config:
    """The config file, or an empty config when there is none."""
    path = path or config_path()
    if not path.is_file():
        return Config()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return Config.model_validate(data)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    except pydantic.ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
            for item in error.errors(include_url=False)
        )
        raise ConfigError(f"{path}: {problems}") from None


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)  # finite by validation; repr keeps floats round-trippable
    if isinstance(value, str):
        # JSON string escapes are valid TOML basic-string escapes (non-ASCII kept as is)
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):  # a nested setting (a profile's guard): an inline table
        return "{ " + ", ".join(_toml_lines(value)) + " }" if value else "{}"
    raise ConfigError(f"cannot write {type(value).__name__} to the config file")


def _toml_key(key: str) -> str:
    """A bare key when TOML allows one, else a quoted key."""
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)


def _toml_lines(data: dict[str, object]) -> list[str]:
    return [
        f"{_toml_key(key)} = {_toml_value(value)}"
        for key, value in data.items()
        if value is not None
    ]


def to_toml(config: Config) -> str:
    """The config as TOML: top-level values, then one `[profiles.NAME]` table per profile."""
    top = config.model_dump(exclude={"profiles"})
    lines = _toml_lines(top)
    for name, profile in config.profiles.items():
        lines += ["", f"[profiles.{_toml_key(name)}]"]
        lines += _toml_lines(profile.model_dump(exclude_unset=True))
    return "\n".join(lines) + "\n"


def save_config(config: Config, path: Path | None = None) -> Path:
    """Write the config file atomically (a temporary file renamed over it), mode 0600."""
    return write_private_file(path or config_path(), to_toml(config))


def resolve_profile(
    config: Config,
    name: str | None = None,
    *,
    policy: str | None = None,
    model: str | None = None,
    base_url: str | None = None,
    marks: bool | None = None,
) -> Profile:
    """The named (or default) profile, with command-line choices on top."""
    chosen = name or config.default_profile
    if chosen is not None and chosen not in config.profiles:
        known = ", ".join(sorted(config.profiles)) or "none"
        raise ConfigError(f"no profile {chosen!r} in {config_path()} (profiles: {known})")
    profile = config.profiles[chosen] if chosen is not None else Profile()
    choices = (("policy", policy), ("model", model), ("base_url", base_url), ("marks", marks))
    changes = {key: value for key, value in choices if value is not None}
    try:
        return Profile.model_validate({**profile.model_dump(exclude_unset=True), **changes})
    except pydantic.ValidationError as error:
        message = "; ".join(item["msg"] for item in error.errors(include_url=False))
        which = f"--policy {policy!r}" if policy is not None else f"profile {chosen or 'default'}"
        raise ConfigError(f"{which}: {message}") from None
