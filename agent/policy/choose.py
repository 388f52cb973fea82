"""Which policy drives a run: the one place that knows every policy and how to make it.

A run asks (`PolicyRequest`: a profile, or a replay of an earlier run, or the task's oracle);
the task says what it needs (a script, a goal, `ai:` steps); `choose_policy` answers with the
policy, the name the log gives it, and the model client when a model is used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from agent.config.profiles import MODEL_POLICIES, Profile
from agent.desktop.screen import Screen
from agent.errors import ConfigError, UnsupportedError
from agent.perception.locator import ElementSource, Locator
from agent.policy.client import ModelClient, RetryNotice
from agent.policy.do_nothing import DoNothingPolicy
from agent.policy.glm_policy import GlmVPolicy
from agent.policy.openai_chat import OpenAIChatPolicy
from agent.policy.openai_cua import Approver, OpenAICuaPolicy
from agent.policy.opencua_policy import OpenCuaPolicy
from agent.policy.placeholders import with_secret_hint
from agent.policy.protocol import Policy
from agent.policy.qwen_policies import Qwen3VlPolicy, QwenVlPolicy
from agent.policy.replay import ReplayPolicy
from agent.policy.scripted import ScriptedPolicy, ScriptedStep, needs_a_model, script_of
from agent.policy.text_policies import UiTarsPolicy
from agent.stop import StopToken
from agent.taskfile.items import Step
from agent.taskfile.task import Task


@dataclass(frozen=True)
class PolicyRequest:
    """How a run asks to be driven."""

    profile: Profile = field(default_factory=lambda: Profile(policy="scripted"))
    replay: Path | None = None  # an earlier run's folder: its decisions, again
    oracle: Sequence[Step] | None = None  # `--policy oracle` steps; None: the task's own
    model_environ: Mapping[str, str] | None = None  # where the API key is looked up
    # `--heal`: the model stands in for a scripted step whose target is gone (it needs one)
    heal: bool = False


@dataclass(frozen=True)
class PolicyContext:
    """What a run offers the policy it chooses."""

    stop: StopToken
    screen: Screen | None = None
    locator: Locator | None = None  # finds things named by what they are
    elements: ElementSource | None = None  # what set-of-marks numbers
    approve: Approver = lambda checks: False  # answers a model's safety checks
    on_retry: Callable[[RetryNotice], None] | None = None
    # The task's secrets, name -> value: the model sees only their placeholders, `{NAME}`.
    secrets: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PolicyChoice:
    policy: Policy
    label: str  # what the run log calls it: "scripted", "openai-chat (gpt-4.1)", ...
    profile: Profile  # the profile in effect: a plain scripted one when no model is used
    client: ModelClient | None = None  # the model behind it, when one is asked


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
        case "qwen3-vl":
            return Qwen3VlPolicy(goal, profile, client)
        case "glm-v":
            return GlmVPolicy(goal, profile, client)
        case "opencua":
            return OpenCuaPolicy(goal, profile, client)
    raise ConfigError(f"policy {profile.policy!r} is not a model policy this version has")


def choose_policy(task: Task, request: PolicyRequest, context: PolicyContext) -> PolicyChoice:
    """The policy for `task` as `request` asks; a task that needs a model without one being
    asked is refused with what to do."""
    profile = request.profile
    if request.replay is not None:
        label = f"replay ({request.replay.name})"
        return PolicyChoice(ReplayPolicy(request.replay), label, profile)
    if profile.policy == "do-nothing":
        return PolicyChoice(DoNothingPolicy(), profile.policy, profile)
    if profile.policy == "oracle":
        oracle = task.oracle if request.oracle is None else request.oracle
        if not oracle:
            raise UnsupportedError(f"--policy oracle: the task {task.name!r} has no oracle")
        script = script_of(oracle, context.locator)
        return PolicyChoice(_scripted(script, context), "oracle", profile)
    script = script_of(task.steps, context.locator)
    if request.heal and profile.policy not in MODEL_POLICIES:
        raise UnsupportedError("--heal needs a model: choose one with --policy or --model")
    if not needs_a_model(script) and not request.heal:
        # A model is not used, whatever the profile says: the log says so.
        return PolicyChoice(_scripted(script, context), "scripted", Profile(policy="scripted"))
    if profile.policy not in MODEL_POLICIES:
        what = "a goal but no steps" if not script else "`ai:` steps"
        raise UnsupportedError(
            f"this task has {what}: it needs a model policy. Choose one with --policy "
            f"({', '.join(MODEL_POLICIES)}), a --model whose name says its family, or a "
            "--profile from the config"
        )
    client = ModelClient(
        profile,
        context.stop,
        environ=request.model_environ,
        on_retry=context.on_retry,
        secrets=context.secrets,
    )
    label = f"{profile.policy} ({profile.model_name})"

    def model_for(goal: str) -> Policy:
        goal = with_secret_hint(goal, [name for name in context.secrets if name in goal])
        return model_policy(profile, goal, client, context.approve, context.elements)

    if not script:
        assert task.goal is not None  # a task file has a goal or steps
        return PolicyChoice(model_for(task.goal), label, profile, client)
    heal_goal = (task.goal or "") if request.heal else None
    policy = ScriptedPolicy(
        script, context.stop, context.screen, model_for, context.locator, heal_goal
    )
    return PolicyChoice(policy, label, profile, client)


def _scripted(script: list[ScriptedStep], context: PolicyContext) -> ScriptedPolicy:
    return ScriptedPolicy(script, context.stop, context.screen, locator=context.locator)
