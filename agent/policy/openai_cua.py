"""OpenAI's computer-use models through the Responses API: one `computer_call` per step.

The conversation lives on OpenAI's side: the first request carries the goal and a screenshot,
every later one chains `previous_response_id` and answers the pending call with a fresh
screenshot (plus a note when the last action failed or the last reply could not be used).
The tool's display is the image we send, so the model's points are pixels of that image;
`computer_actions` maps them to the screen and nothing in model space leaves this module.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from agent.actions import Action, Done, Fail
from agent.config.profiles import Profile
from agent.errors import ModelOutputError
from agent.policy.client import ModelClient
from agent.policy.computer_actions import from_computer_action
from agent.policy.model_image import ModelImage, long_side_size, prepare_image
from agent.policy.protocol import Decision, Observation, StepRecord, Usage, latest_notes

ToolKind = Literal["computer_use_preview", "computer"]
FAILED_PREFIX = "FAILED:"


@dataclass(frozen=True, slots=True)
class SafetyCheck:
    id: str
    code: str
    message: str


Approver = Callable[[tuple[SafetyCheck, ...]], bool]  # True = the boss approves


def instructions(goal: str, environment: str) -> str:
    return (
        f"You are operating a {environment} computer on behalf of your boss.\n"
        f"Task: {goal}\n\n"
        "Use the computer tool to do the task; you get a new screenshot after every call. "
        "Do not ask for confirmation: the boss has already approved the task. "
        "When the task is done, stop using the tool and reply with a short final message "
        "saying what you did. If the task cannot be done, reply with a final message that "
        f"starts with '{FAILED_PREFIX}' and says why."
    )


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _parts(value: Any) -> list[Mapping[str, Any]]:
    """The objects of a list a reply item holds; anything else in its place holds none."""
    return [part for part in value if isinstance(part, Mapping)] if isinstance(value, list) else []


def _safety_checks(call: Mapping[str, Any]) -> tuple[SafetyCheck, ...]:
    checks = call.get("pending_safety_checks") or []
    if not isinstance(checks, list):
        raise ModelOutputError("a computer_call's 'pending_safety_checks' must be a list")
    found = []
    for check in checks:
        if not isinstance(check, Mapping) or not isinstance(check.get("id"), str):
            raise ModelOutputError(f"a pending safety check without an id: {check!r}")
        found.append(
            SafetyCheck(check["id"], _text(check.get("code")), _text(check.get("message")))
        )
    return tuple(found)


def _call_actions(call: Mapping[str, Any], image: ModelImage) -> tuple[Action, ...]:
    """A computer_call's `action` (computer_use_preview) or `actions` (computer), in order."""
    batch = call.get("actions")
    if batch is None:
        single = call.get("action")
        batch = [single] if single is not None else None
    if not isinstance(batch, list) or not batch:
        raise ModelOutputError("a computer_call needs an 'action' or a non-empty 'actions' list")
    converted = (from_computer_action(data, image) for data in batch)
    return tuple(action for action in converted if action is not None)


class OpenAICuaPolicy:
    name = "openai-cua"

    def __init__(
        self,
        goal: str,
        profile: Profile,
        client: ModelClient,
        *,
        approve: Approver,
        tool: ToolKind = "computer_use_preview",
        environment: str = "linux",
    ) -> None:
        self.goal = goal
        self.profile = profile
        self.client = client
        self.approve = approve
        self.tool = tool
        self.environment = environment
        self._response_id: str | None = None  # the response the next request continues
        self._calls: dict[str, tuple[SafetyCheck, ...]] = {}  # pending call id -> checks to ack
        self._rejected: str | None = None  # why the last reply could not be used
        self._last_step: int | None = None  # the step of the last request

    def decide(self, observation: Observation, history: Sequence[StepRecord]) -> Decision:
        size = long_side_size(observation.screen, self.profile.image_long_side)
        image = prepare_image(observation.frame, size, self.profile.image_format)
        request = self._request(image, history)
        data = self.client.call_json(
            lambda openai: openai.responses.with_raw_response.create(**request)
        )
        self._last_step, self._rejected = observation.step, None
        try:
            if not isinstance(data, Mapping) or not isinstance(data.get("id"), str):
                raise ModelOutputError("the reply is not a Responses API response (no 'id')")
            self._response_id, self._calls = data["id"], {}
            decision = self._decision(data, image, self._usage(data.get("usage")))
            raw = json.dumps(data.get("output"), ensure_ascii=False)
            return dataclasses.replace(decision, raw_reply=raw)
        except ModelOutputError as error:
            self._rejected = str(error)
            raise

    # --- requests ----------------------------------------------------------------------------

    def _request(self, image: ModelImage, history: Sequence[StepRecord]) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": self.profile.model_name,
            "tools": [self._tool_spec(image)],
            "input": self._input(image, history),
            "truncation": "auto",
        }
        if self._response_id is not None:
            request["previous_response_id"] = self._response_id
        if self.profile.model_name.startswith("computer-use"):
            request["reasoning"] = {"summary": "concise"}
        if self.profile.temperature is not None:
            request["temperature"] = self.profile.temperature
        return request

    def _tool_spec(self, image: ModelImage) -> dict[str, Any]:
        if self.tool == "computer":
            return {"type": "computer"}  # the newer tool takes its display from the screenshots
        return {
            "type": "computer_use_preview",
            "display_width": image.size.width,
            "display_height": image.size.height,
            "environment": self.environment,
        }

    def _image_part(self, image: ModelImage) -> dict[str, Any]:
        detail = "original" if self.tool == "computer" else "auto"
        return {"type": "input_image", "image_url": image.data_url(), "detail": detail}

    def _notes(self, history: Sequence[StepRecord]) -> list[str]:
        notes = []
        if self._rejected is not None:
            notes.append(f"Your last action could not be used: {self._rejected}")
        last = history[-1] if history else None
        if (
            last is not None
            and last.error
            and (self._last_step is None or last.step >= self._last_step)
            and not (self._rejected and self._rejected in last.error)
        ):
            notes.append(f"The last action failed: {last.error}")
        notes.extend(latest_notes(history))
        return notes

    def _input(self, image: ModelImage, history: Sequence[StepRecord]) -> list[dict[str, Any]]:
        notes = self._notes(history)
        if self._response_id is None:
            text = "\n\n".join([instructions(self.goal, self.environment), *notes])
            content = [{"type": "input_text", "text": text}, self._image_part(image)]
            return [{"role": "user", "content": content}]
        if not self._calls:  # the last reply called no tool: show the screen in a message
            text = "\n".join(notes) or "This is the screen now. Go on with the task."
            content = [{"type": "input_text", "text": text}, self._image_part(image)]
            return [{"role": "user", "content": content}]
        items: list[dict[str, Any]] = [
            {
                "type": "computer_call_output",
                "call_id": call_id,
                "output": {"type": "computer_screenshot", "image_url": image.data_url()},
                "acknowledged_safety_checks": [
                    {"id": check.id, "code": check.code, "message": check.message}
                    for check in checks
                ],
            }
            for call_id, checks in self._calls.items()
        ]
        if notes:
            text_part = {"type": "input_text", "text": "\n".join(notes)}
            items.append({"role": "user", "content": [text_part]})
        return items

    # --- replies -----------------------------------------------------------------------------

    def _usage(self, usage: Any) -> Usage:
        if not isinstance(usage, Mapping):
            return Usage()
        tokens_in, tokens_out = usage.get("input_tokens"), usage.get("output_tokens")
        tokens_in = tokens_in if isinstance(tokens_in, int) else 0
        tokens_out = tokens_out if isinstance(tokens_out, int) else 0
        return Usage(tokens_in, tokens_out, self.profile.cost_usd(tokens_in, tokens_out))

    def _decision(self, data: Mapping[str, Any], image: ModelImage, usage: Usage) -> Decision:
        output = data.get("output")
        if not isinstance(output, list):
            raise ModelOutputError("the response has no 'output' list")
        thoughts: list[str] = []
        said: list[str] = []
        refusals: list[str] = []
        calls: list[Mapping[str, Any]] = []
        for item in output:
            if not isinstance(item, Mapping):
                continue
            kind = item.get("type")
            if kind == "reasoning":
                thoughts += [_text(part.get("text")) for part in _parts(item.get("summary"))]
            elif kind == "message":
                for part in _parts(item.get("content")):
                    if part.get("type") == "output_text":
                        said.append(_text(part.get("text")))
                    elif part.get("type") == "refusal":
                        refusals.append(_text(part.get("refusal")))
            elif kind == "computer_call":
                calls.append(item)
        thought = "\n".join(text for text in [*thoughts, *said] if text)
        if not calls:
            return Decision(
                (self._final("\n".join(t for t in said if t), refusals),), thought, usage
            )
        for call in calls:  # every call needs an output next time, even if this reply fails
            if not isinstance(call.get("call_id"), str):
                raise ModelOutputError("a computer_call without a 'call_id'")
            self._calls[call["call_id"]] = ()
        actions: list[Action] = []
        checks: dict[str, tuple[SafetyCheck, ...]] = {}
        for call in calls:
            actions += _call_actions(call, image)
            checks[call["call_id"]] = _safety_checks(call)
        pending = tuple(check for found in checks.values() for check in found)
        if pending:
            if not self.approve(pending):
                reasons = "; ".join(f"{check.code}: {check.message}" for check in pending)
                return Decision((Fail(f"the boss did not approve: {reasons}"),), thought, usage)
            self._calls.update(checks)
        return Decision(tuple(actions), thought, usage)

    def _final(self, text: str, refusals: list[str]) -> Action:
        if text.upper().startswith(FAILED_PREFIX):
            return Fail(text[len(FAILED_PREFIX) :].strip() or "the model gave up")
        if text:
            return Done(text)
        if any(refusals):
            return Fail(f"the model refused: {' '.join(r for r in refusals if r)}")
        raise ModelOutputError("the reply has neither a computer_call nor a final message")
