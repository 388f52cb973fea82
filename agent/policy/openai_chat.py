"""`openai-chat`: any OpenAI-compatible Chat Completions endpoint with vision and tools.

Each step sends one fresh conversation: the instructions, the goal, the earlier steps as text,
the last few screenshots and the current one. Stateless prompts work the same on OpenAI,
vLLM, Ollama and LM Studio, whose handling of long tool-call histories differs. The model
answers with one tool call: `computer` (OpenAI's computer-use action vocabulary, pixels of
the current screenshot), `done`, `fail` or `ask_boss`.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any, cast

from openai import omit

from agent.actions import Action, AskBoss, Done, Fail
from agent.config.profiles import Profile
from agent.errors import ModelOutputError
from agent.geometry import Point
from agent.perception.locator import ElementSource
from agent.perception.marks import marks_of, marks_prompt
from agent.policy.chat_reply import ChatReply, read_chat_reply
from agent.policy.client import ModelClient
from agent.policy.computer_actions import COMPUTER_ACTION_TYPES, from_computer_action
from agent.policy.model_image import ModelImage, long_side_size, prepare_image
from agent.policy.protocol import Decision, Observation, StepRecord, Usage, latest_notes

_POINT = {"type": "integer", "minimum": 0}
COMPUTER_TOOL = {
    "type": "function",
    "function": {
        "name": "computer",
        "description": "Do one thing on the computer. Points are pixels of the latest screenshot.",
        "parameters": {
            "type": "object",
            "properties": {
                "type": {"type": "string", "enum": list(COMPUTER_ACTION_TYPES)},
                "x": _POINT,
                "y": _POINT,
                "button": {
                    "type": "string",
                    "enum": ["left", "right", "wheel", "back", "forward"],
                },
                "path": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"x": _POINT, "y": _POINT},
                        "required": ["x", "y"],
                    },
                },
                "keys": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "keypress: the keys pressed together; click, double_click, "
                    "drag, move, scroll: keys held down through it (a shift-click)",
                },
                "scroll_x": {"type": "integer", "description": "pixels; positive scrolls right"},
                "scroll_y": {"type": "integer", "description": "pixels; positive scrolls down"},
                "text": {"type": "string"},
            },
            "required": ["type"],
        },
    },
}


def _function(name: str, description: str, argument: str) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": {argument: {"type": "string"}},
                "required": [argument],
            },
        },
    }


def _with_marks(tool: dict[str, Any]) -> dict[str, Any]:
    """The computer tool that also takes `mark`, the number of a box on the screenshot."""
    function = tool["function"]
    properties = {
        **function["parameters"]["properties"],
        "mark": {
            "type": "integer",
            "minimum": 1,
            "description": "click, double_click or move: the number of a marked box, "
            "instead of x and y",
        },
    }
    parameters = {**function["parameters"], "properties": properties}
    return {**tool, "function": {**function, "parameters": parameters}}


TOOLS = [
    COMPUTER_TOOL,
    _function("done", "The task is complete. Say briefly what was done.", "summary"),
    _function("fail", "The task cannot be done. Say why.", "reason"),
    _function("ask_boss", "Ask the human boss a question before going on.", "question"),
]


def instructions(image: ModelImage) -> str:
    return (
        "You are Shain, an employee operating a computer for your boss. You see screenshots "
        f"of a {image.screen.width}x{image.screen.height} screen, shown to you at "
        f"{image.size.width}x{image.size.height} pixels. Give every point in pixels of the "
        "latest screenshot: x from 0 (left) to "
        f"{image.size.width - 1}, y from 0 (top) to {image.size.height - 1}. Answer with "
        "exactly one tool call per reply: `computer` to act, `done` when the task is "
        "complete, `fail` if it cannot be done, `ask_boss` if you need the boss to decide. "
        "Keys are names like ctrl, shift, alt, enter, escape, tab, a."
    )


MARKED_TOOLS = [_with_marks(COMPUTER_TOOL), *TOOLS[1:]]


class OpenAIChatPolicy:
    name = "openai-chat"

    def __init__(
        self,
        goal: str,
        profile: Profile,
        client: ModelClient,
        elements: ElementSource | None = None,
    ) -> None:
        self.elements = elements  # set-of-marks: number these on each screenshot
        self.goal = goal
        self.profile = profile
        self.client = client
        self._screens: deque[tuple[int, ModelImage]] = deque(maxlen=profile.history_screenshots)
        self._said: dict[int, str] = {}
        self._marks: dict[int, Point] = {}

    def decide(self, observation: Observation, history: Sequence[StepRecord]) -> Decision:
        size = long_side_size(observation.screen, self.profile.image_long_side)
        marks = marks_of(self.elements()) if self.elements is not None else ()
        image = prepare_image(observation.frame, size, self.profile.image_format, marks=marks)
        self._screens.append((observation.step, image))
        listing = marks_prompt(marks) if self.elements is not None else None
        messages = self._messages(image, history, listing)
        self._marks = {mark.number: mark.box.center for mark in marks}
        tools = TOOLS if self.elements is None else MARKED_TOOLS
        temperature = self.profile.temperature
        data = self.client.call_json(
            lambda client: client.chat.completions.with_raw_response.create(
                model=self.profile.model_name,
                messages=cast(Any, messages),
                tools=cast(Any, tools),
                tool_choice="required",
                temperature=omit if temperature is None else temperature,
            )
        )
        return self._read(read_chat_reply(data), image, observation.step)

    def _messages(
        self, image: ModelImage, history: Sequence[StepRecord], marks: str | None = None
    ) -> list[dict[str, Any]]:
        lines = [f"Task: {self.goal}"]
        if history:
            lines.append("Steps so far:")
            for record in history:
                if record.note and not record.actions:
                    lines.append(f"  meanwhile: {record.note}")
                    continue
                said = self._said.get(record.step, "(no usable action)")
                outcome = f"failed: {record.error}" if record.error else "done"
                lines.append(f"  step {record.step}: {said} -> {outcome}")
                if record.note:
                    lines.append(f"    {record.note}")
        if history and history[-1].error:
            lines.append(f"Your last step did not work: {history[-1].error}. Try another way.")
        lines.extend(f"Since your last step: {note}" for note in latest_notes(history))
        content: list[dict[str, Any]] = [{"type": "text", "text": "\n".join(lines)}]
        for step, earlier in list(self._screens)[:-1]:
            content.append({"type": "text", "text": f"Screen at step {step}:"})
            content.append({"type": "image_url", "image_url": {"url": earlier.data_url()}})
        if marks is not None:
            content.append({"type": "text", "text": marks})
        content.append({"type": "text", "text": "Current screen (give points in this one):"})
        content.append({"type": "image_url", "image_url": {"url": image.data_url()}})
        return [
            {"role": "system", "content": instructions(image)},
            {"role": "user", "content": content},
        ]

    def _read(self, reply: ChatReply, image: ModelImage, step: int) -> Decision:
        thought = reply.content.strip()
        if not reply.tool_calls:
            shown = thought[:120] or "(empty)"
            raise ModelOutputError(f"the reply called no tool; it said: {shown!r}")
        actions: list[Action] = []
        said = []
        for call in reply.tool_calls:
            said.append(f"{call.name} {call.arguments}")
            marks = self._marks if self.elements is not None else None
            action = _action_of(call.name, call.arguments, image, marks)
            if action is not None:
                actions.append(action)
        self._said[step] = "; ".join(said)
        tokens_in, tokens_out = reply.input_tokens, reply.output_tokens
        cost = self.profile.cost_usd(tokens_in, tokens_out)
        return Decision(tuple(actions), thought, Usage(tokens_in, tokens_out, cost), reply.raw)


def _action_of(
    name: str, arguments: str, image: ModelImage, marks: Mapping[int, Point] | None = None
) -> Action | None:
    try:
        data = json.loads(arguments or "{}")
    except json.JSONDecodeError as error:
        raise ModelOutputError(
            f"{name} arguments are not valid JSON ({error}): {arguments[:120]!r}"
        ) from None
    if not isinstance(data, dict):
        raise ModelOutputError(f"{name} arguments must be an object, got {arguments[:120]!r}")
    match name:
        case "computer":
            return from_computer_action(data, image, marks)
        case "done":
            return Done(str(data.get("summary", "")))
        case "fail":
            return Fail(str(data.get("reason", "")) or "the model gave up")
        case "ask_boss":
            return AskBoss(str(data.get("question", "")) or "(no question given)")
    raise ModelOutputError(f"unknown tool {name!r}: use computer, done, fail or ask_boss")
