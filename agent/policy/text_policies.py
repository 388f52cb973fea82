"""`ui-tars` and `qwen-vl`: open GUI models that answer in plain text, served by any
OpenAI-compatible server (vLLM, Ollama, LM Studio) through Chat Completions.

Both see screenshots at the size their processor would use anyway (Qwen2.5-VL's
smart_resize, which UI-TARS-1.5 shares), so the points they answer are pixels of exactly
the image we sent and map back to the screen exactly. UI-TARS 1.0 answers in 0-1000 of the
image instead (`coordinates = "relative"` in the profile).
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Sequence
from typing import Any, cast

from openai import omit

from agent.actions import points_of
from agent.config.profiles import Profile
from agent.geometry import Point, Size
from agent.policy.client import ModelClient
from agent.policy.model_image import ModelImage, long_side_size, prepare_image, smart_resize
from agent.policy.protocol import Decision, Observation, StepRecord, Usage, latest_notes
from agent.policy.qwen_format import parse_qwen
from agent.policy.text_reply import ParsedReply
from agent.policy.ui_tars_format import parse_ui_tars


class _TextPolicy:
    """A multi-turn chat: for each earlier step the model's own reply, with the last few
    screenshots before their replies; then the current screenshot."""

    name = "text"

    def __init__(self, goal: str, profile: Profile, client: ModelClient) -> None:
        self.goal = goal
        self.profile = profile
        self.client = client
        self._turns: deque[tuple[ModelImage | None, str]] = deque()

    def image_size(self, screen: Size) -> Size:
        return smart_resize(screen, max_pixels=self.profile.max_pixels)

    def instructions(self, image: ModelImage) -> str:
        raise NotImplementedError

    def parse(self, reply: str, image: ModelImage) -> ParsedReply:
        raise NotImplementedError

    def decide(self, observation: Observation, history: Sequence[StepRecord]) -> Decision:
        image = prepare_image(
            observation.frame, self.image_size(observation.screen), self.profile.image_format
        )
        messages = self._messages(image, history)
        temperature = self.profile.temperature
        completion = self.client.call(
            lambda client: client.chat.completions.create(
                model=self.profile.model_name,
                messages=cast(Any, messages),
                temperature=omit if temperature is None else temperature,
            )
        )
        reply = (completion.choices[0].message.content or "") if completion.choices else ""
        # The reply goes into the conversation even when it cannot be used, so that the
        # error that follows it makes sense to the model.
        self._remember(image, reply)
        parsed = self.parse(reply, image)
        usage = completion.usage
        tokens_in = usage.prompt_tokens if usage else 0
        tokens_out = usage.completion_tokens if usage else 0
        actions = tuple(image.action_to_screen(action) for action in parsed.actions)
        cost = self.profile.cost_usd(tokens_in, tokens_out)
        return Decision(actions, parsed.thought, Usage(tokens_in, tokens_out, cost), reply)

    def _remember(self, image: ModelImage, reply: str) -> None:
        self._turns.append((image, reply))
        kept = 0
        for index in range(len(self._turns) - 1, -1, -1):
            earlier, said = self._turns[index]
            if earlier is not None:
                kept += 1
                if kept >= self.profile.history_screenshots:
                    self._turns[index] = (None, said)  # older steps as text only

    def _messages(self, image: ModelImage, history: Sequence[StepRecord]) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = [
            {"role": "user", "content": self.instructions(image)},
        ]
        for earlier, said in self._turns:
            if earlier is not None:
                messages.append({"role": "user", "content": [_image_part(earlier)]})
            messages.append({"role": "assistant", "content": said})
        content: list[dict[str, Any]] = []
        if history and history[-1].error:
            text = f"That did not work: {history[-1].error}. Look again and try another way."
            content.append({"type": "text", "text": text})
        content.extend({"type": "text", "text": note} for note in latest_notes(history))
        content.append(_image_part(image))
        messages.append({"role": "user", "content": content})
        return messages


def _image_part(image: ModelImage) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": image.data_url()}}


class UiTarsPolicy(_TextPolicy):
    name = "ui-tars"

    def image_size(self, screen: Size) -> Size:
        if self.profile.coordinates == "relative":
            return long_side_size(screen, self.profile.image_long_side)
        return super().image_size(screen)

    def instructions(self, image: ModelImage) -> str:
        return (
            "You are a GUI agent. You are given a task and your action history, with "
            "screenshots. You need to perform the next action to complete the task.\n\n"
            "## Output Format\n```\nThought: ...\nAction: ...\n```\n\n"
            "## Action Space\n"
            "click(start_box='<|box_start|>(x1,y1)<|box_end|>')\n"
            "left_double(start_box='<|box_start|>(x1,y1)<|box_end|>')\n"
            "right_single(start_box='<|box_start|>(x1,y1)<|box_end|>')\n"
            "drag(start_box='<|box_start|>(x1,y1)<|box_end|>', "
            "end_box='<|box_start|>(x3,y3)<|box_end|>')\n"
            "hotkey(key='ctrl c')\n"
            "type(content='xxx') # end content with \\n to submit it\n"
            "scroll(start_box='<|box_start|>(x1,y1)<|box_end|>', "
            "direction='down or up or right or left')\n"
            "wait()\nfinished(content='xxx')\ncall_user() # when the task needs the human\n\n"
            "## Note\n- Write a small plan and then your next action in one sentence in "
            "`Thought`.\n\n"
            f"## User Instruction\n{self.goal}"
        )

    def parse(self, reply: str, image: ModelImage) -> ParsedReply:
        return parse_ui_tars(reply, image.size, self.profile.coordinates)


class QwenVlPolicy(_TextPolicy):
    name = "qwen-vl"

    def __init__(self, goal: str, profile: Profile, client: ModelClient) -> None:
        super().__init__(goal, profile, client)
        self._pointer: Point | None = None  # the last point acted on, in model pixels

    def instructions(self, image: ModelImage) -> str:
        tool = {
            "type": "function",
            "function": {
                "name": "computer_use",
                "description": (
                    "Use a mouse and keyboard to interact with a computer. The screen's "
                    f"resolution is {image.size.width}x{image.size.height}; give coordinates "
                    "in pixels of the screenshot."
                ),
                "parameters": {
                    "type": "object",
                    "properties": {
                        "action": {
                            "type": "string",
                            "enum": [
                                "key",
                                "type",
                                "mouse_move",
                                "left_click",
                                "left_click_drag",
                                "right_click",
                                "middle_click",
                                "double_click",
                                "scroll",
                                "wait",
                                "terminate",
                            ],
                        },
                        "keys": {"type": "array"},
                        "text": {"type": "string"},
                        "coordinate": {"type": "array", "description": "[x, y]"},
                        "pixels": {"type": "number", "description": "positive scrolls up"},
                        "time": {"type": "number"},
                        "status": {"type": "string", "enum": ["success", "failure"]},
                    },
                    "required": ["action"],
                },
            },
        }
        return (
            "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
            "You are provided with function signatures within <tools></tools> XML tags:\n"
            f"<tools>\n{json.dumps(tool)}\n</tools>\n\n"
            "For each function call, return a json object with function name and arguments "
            "within <tool_call></tool_call> XML tags:\n<tool_call>\n"
            '{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>\n\n'
            f"Task: {self.goal}\nSay what you see and plan briefly, then call the tool. "
            "When the task is complete call terminate with status success."
        )

    def parse(self, reply: str, image: ModelImage) -> ParsedReply:
        parsed = parse_qwen(reply, image.size, self._pointer)
        for action in parsed.actions:
            points = points_of(action)
            if points:
                self._pointer = points[-1]
        return parsed
