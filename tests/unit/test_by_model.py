"""The policy a model's name picks, and what `shain run --model NAME` says about it."""

from __future__ import annotations

import argparse

import pytest

from agent.cli.policy_choice import run_profile
from agent.config.profiles import Config, Profile
from agent.policy.by_model import policy_for_model


@pytest.mark.parametrize(
    ("model", "policy", "settings"),
    [
        ("qwen3-vl:8b", "qwen3-vl", {}),
        ("Qwen/Qwen3-VL-8B-Instruct", "qwen3-vl", {}),
        ("Qwen/Qwen3-VL-235B-A22B-Thinking", "qwen3-vl", {}),
        ("Qwen/Qwen3.5-9B", "qwen3-vl", {}),
        ("mPLUG/GUI-Owl-1.5-8B-Instruct", "qwen3-vl", {}),
        ("meituan/EvoCUA-32B", "qwen3-vl", {}),
        ("Hcompany/Holo2-8B", "qwen3-vl", {}),
        ("Tongyi-MAI/MAI-UI-8B", "qwen3-vl", {}),
        ("qwen2.5vl:7b", "qwen-vl", {}),
        ("Qwen/Qwen2.5-VL-7B-Instruct", "qwen-vl", {}),
        ("ByteDance-Seed/UI-TARS-1.5-7B", "ui-tars", {}),
        ("hf.co/mradermacher/UI-TARS-1.5-7B-GGUF:Q4_K_M", "ui-tars", {}),
        ("bytedance-research/UI-TARS-7B-DPO", "ui-tars", {"coordinates": "relative"}),
        ("xlangai/OpenCUA-7B", "opencua", {}),
        ("xlangai/OpenCUA-32B", "opencua", {}),
        ("zai-org/GLM-4.5V", "glm-v", {}),
        ("glm-4.6v", "glm-v", {}),
        ("computer-use-preview", "openai-cua", {}),
        ("gpt-5.4", "openai-cua", {"cua_tool": "computer"}),
        ("gpt-5.5-mini", "openai-cua", {"cua_tool": "computer"}),
        ("gpt-5", "openai-chat", {}),
        ("gpt-4.1", "openai-chat", {}),
        ("gpt-4o", "openai-chat", {}),
    ],
)
def test_a_known_name_picks_its_policy(model: str, policy: str, settings: dict[str, str]) -> None:
    guess = policy_for_model(model)
    assert (guess.policy, dict(guess.settings), guess.known) == (policy, settings, True)
    assert repr(model) in guess.why


def test_an_unknown_name_uses_openai_chat_and_says_how_to_choose() -> None:
    guess = policy_for_model("llava:13b")
    assert (guess.policy, guess.known) == ("openai-chat", False)
    assert "--policy" in guess.why


def _args(**given: str | None) -> argparse.Namespace:
    values = {"profile": None, "policy": None, "model": None, "base_url": None, "marks": None}
    return argparse.Namespace(**{**values, **given})


def test_run_says_which_policy_the_name_chose() -> None:
    said: list[str] = []
    profile = run_profile(Config(), _args(model="qwen3-vl:8b"), said.append)
    assert (profile.policy, profile.model_name) == ("qwen3-vl", "qwen3-vl:8b")
    assert said == ["policy qwen3-vl: the name 'qwen3-vl:8b' belongs to the Qwen3-VL (with "
                    "Qwen3.5/3.6, GUI-Owl-1.5, EvoCUA, Holo2, MAI-UI) family"]  # fmt: skip


def test_a_policy_given_or_set_in_the_profile_is_kept() -> None:
    said: list[str] = []
    assert (
        run_profile(Config(), _args(model="qwen3-vl:8b", policy="qwen-vl"), said.append).policy
        == "qwen-vl"
    )
    config = Config(profiles={"mine": Profile(policy="ui-tars")})
    assert (
        run_profile(config, _args(model="qwen3-vl:8b", profile="mine"), said.append).policy
        == "ui-tars"
    )
    assert said == []
