"""`qwen-vl` and `qwen3-vl`: Qwen's `computer_use` function, in the multi-turn text chat.

Qwen2.5-VL answers in pixels of the image it saw (sent at its smart_resize size, multiples of
28). Qwen3-VL, Qwen3.5/3.6 and the GUI models tuned from them (GUI-Owl-1.5, EvoCUA, Holo2,
MAI-UI) answer on a 0-1000 grid over the image, which is sent in multiples of 32 (its 16 px
patches merged 2x2); its calls come as text (Ollama, vLLM without a tool parser) or already
parsed as `tool_calls` (vLLM's hermes parser), in JSON or in Qwen3.5's XML form.
"""

from __future__ import annotations

import json
from typing import Any

from agent.actions import points_of
from agent.config.profiles import Profile
from agent.geometry import Point, Size
from agent.policy.chat_reply import ChatReply
from agent.policy.client import ModelClient
from agent.policy.model_image import THOUSANDTHS, ModelImage, smart_resize
from agent.policy.qwen_calls import calls_from_tools
from agent.policy.qwen_format import TOOL_NAME, parse_qwen, qwen_actions
from agent.policy.text_policies import TextPolicy
from agent.policy.text_reply import ParsedReply

_QWEN25_ACTIONS = (
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
)
_QWEN3_ACTIONS = (*_QWEN25_ACTIONS[:7], "double_click", "triple_click", "scroll", "hscroll",
                  "wait", "terminate", "answer")  # fmt: skip


def _tool(description: str, actions: tuple[str, ...]) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": TOOL_NAME,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": {
                    "action": {"type": "string", "enum": list(actions)},
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


def _tool_prompt(tool: dict[str, Any]) -> str:
    """The function-calling preamble of Qwen's chat template, with the one tool."""
    return (
        "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
        "You are provided with function signatures within <tools></tools> XML tags:\n"
        f"<tools>\n{json.dumps(tool)}\n</tools>\n\n"
        "For each function call, return a json object with function name and arguments "
        "within <tool_call></tool_call> XML tags:\n<tool_call>\n"
        '{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>'
    )


class QwenVlPolicy(TextPolicy):
    name = "qwen-vl"

    def __init__(self, goal: str, profile: Profile, client: ModelClient) -> None:
        super().__init__(goal, profile, client)
        self._pointer: Point | None = None  # the last point acted on, in the point space

    def instructions(self, image: ModelImage) -> str:
        description = (
            "Use a mouse and keyboard to interact with a computer. The screen's resolution is "
            f"{image.size.width}x{image.size.height}; give coordinates in pixels of the "
            "screenshot."
        )
        return (
            f"{_tool_prompt(_tool(description, _QWEN25_ACTIONS))}\n\n"
            f"Task: {self.goal}\nSay what you see and plan briefly, then call the tool. "
            "When the task is complete call terminate with status success."
        )

    def said(self, reply: ChatReply) -> str:
        """The reply as the model writes it: calls a server parsed go back as <tool_call>s."""
        calls = [
            f'<tool_call>\n{{"name": {json.dumps(call.name)}, "arguments": {call.arguments}}}'
            "\n</tool_call>"
            for call in reply.tool_calls
        ]
        return "\n".join(part for part in (reply.content.strip(), *calls) if part)

    def parse(self, reply: ChatReply, image: ModelImage) -> ParsedReply:
        space = image.point_space
        if reply.tool_calls:
            thought = reply.content.strip()
            calls = calls_from_tools(reply.tool_calls)
            parsed = ParsedReply(thought, qwen_actions(calls, thought, space, self._pointer))
        else:
            parsed = parse_qwen(reply.content, space, self._pointer)
        for action in parsed.actions:
            points = points_of(action)
            if points:
                self._pointer = points[-1]
        return parsed


class Qwen3VlPolicy(QwenVlPolicy):
    name = "qwen3-vl"
    instructions_role = "system"
    grid = THOUSANDTHS

    def image_size(self, screen: Size) -> Size:
        return smart_resize(screen, factor=32, max_pixels=self.profile.max_pixels)

    def instructions(self, image: ModelImage) -> str:
        # As Qwen3-VL's computer-use cookbook describes the screen: a 1000x1000 grid.
        description = (
            "Use a mouse and keyboard to interact with a computer, and take screenshots.\n"
            "* The screen's resolution is 1000x1000: give coordinates on that grid, (0, 0) "
            "the top left corner and (1000, 1000) the bottom right, whatever the "
            "screenshot's size.\n"
            "* Some applications take time to start: wait, and look at the next screenshot.\n"
            "* Click on an element's centre, not its edge."
        )
        return (
            f"{_tool_prompt(_tool(description, _QWEN3_ACTIONS))}\n\n"
            f"Task: {self.goal}\nSay what you see and plan briefly, then call the tool. "
            "When the task is complete call terminate with status success."
        )
