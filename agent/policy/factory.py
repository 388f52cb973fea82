"""From a profile to a policy: the one place that knows every model policy."""

from __future__ import annotations

from agent.config.profiles import Profile
from agent.errors import ConfigError
from agent.perception.locator import ElementSource
from agent.policy.client import ModelClient
from agent.policy.openai_chat import OpenAIChatPolicy
from agent.policy.openai_cua import Approver, OpenAICuaPolicy
from agent.policy.protocol import Policy
from agent.policy.text_policies import QwenVlPolicy, UiTarsPolicy


def model_policy(
    profile: Profile,
    goal: str,
    client: ModelClient,
    approve: Approver,
    elements: ElementSource | None = None,
) -> Policy:
    """The policy a profile names, working towards `goal`; `approve` answers safety checks;
    `elements` are what set-of-marks numbers (with `marks = true`)."""
    match profile.policy:
        case "openai-chat":
            return OpenAIChatPolicy(goal, profile, client, elements if profile.marks else None)
        case "openai-cua":
            return OpenAICuaPolicy(goal, profile, client, approve=approve, tool=profile.cua_tool)
        case "ui-tars":
            return UiTarsPolicy(goal, profile, client)
        case "qwen-vl":
            return QwenVlPolicy(goal, profile, client)
    raise ConfigError(f"policy {profile.policy!r} is not a model policy this version has")
