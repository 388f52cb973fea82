"""Which policy speaks a model's format, from the model's name.

A model answers in the format it was trained on, so its name says which policy can read it:
`--model qwen3-vl:8b` alone must not leave the user with a policy that reads Qwen3-VL's
0-1000 grid as pixels. The first family whose pattern is in the name (lower case) wins; a
name of no known family gets `openai-chat`, the format any tool-calling model can follow.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Family:
    name: str  # as the README's table names it
    pattern: re.Pattern[str]
    policy: str
    settings: Mapping[str, Any] = field(default_factory=dict)  # profile settings it needs


@dataclass(frozen=True, slots=True)
class ModelGuess:
    policy: str
    settings: Mapping[str, Any]
    why: str  # one sentence for the user
    known: bool  # False: no family matched, the default was taken


def _family(name: str, pattern: str, policy: str, **settings: Any) -> Family:
    return Family(name, re.compile(pattern), policy, settings)


# Order matters: the fine-tunes before the base models they are named after.
FAMILIES = (
    _family("UI-TARS-1.5", r"ui[-_]?tars[-_]?1\.5", "ui-tars"),
    _family("UI-TARS 1.0", r"ui[-_]?tars", "ui-tars", coordinates="relative"),
    _family("OpenCUA", r"opencua", "opencua"),
    _family("GLM-4.5V / 4.6V", r"glm-?4\.[1-9]v|glm-v", "glm-v"),
    _family(
        "Qwen3-VL (with Qwen3.5/3.6, GUI-Owl-1.5, EvoCUA, Holo2, MAI-UI)",
        r"qwen3[-_.]?vl|qwen3\.[5-9]|gui-owl-1\.5|evocua|holo2|mai-ui",
        "qwen3-vl",
    ),
    _family("Qwen2.5-VL", r"qwen2\.5[-_]?vl", "qwen-vl"),
    _family("OpenAI computer-use-preview", r"computer-use", "openai-cua"),
    # GPT-5.4 and later: the generally available `computer` tool (tested by version below).
    _family("GPT-5.4 and later", r"^gpt-(\d+)\.(\d+)", "openai-cua", cua_tool="computer"),
    _family("other OpenAI models (GPT-4.1, GPT-4o, GPT-5, o3)", r"^(gpt-|o\d)", "openai-chat"),
)
DEFAULT_POLICY = "openai-chat"


def _matches(family: Family, model: str) -> bool:
    found = family.pattern.search(model)
    if found is None:
        return False
    if family.name == "GPT-5.4 and later":
        return (int(found.group(1)), int(found.group(2))) >= (5, 4)
    return True


def policy_for_model(model: str) -> ModelGuess:
    """The policy for `model`, the settings its format needs, and why."""
    name = model.strip().lower().rsplit("/", 1)[-1]
    for family in FAMILIES:
        if _matches(family, name):
            why = f"the name {model!r} belongs to the {family.name} family"
            return ModelGuess(family.policy, family.settings, why, known=True)
    why = (
        f"{model!r} is no model family Shain knows, so it uses openai-chat (OpenAI-style tool "
        "calls); if the model has a format of its own, choose it with --policy"
    )
    return ModelGuess(DEFAULT_POLICY, {}, why, known=False)
