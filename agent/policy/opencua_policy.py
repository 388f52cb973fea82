"""`opencua`: xlang-ai's OpenCUA-7B and 32B, which answer with pyautogui code.

The code is read, never run (`opencua_format`). Built on Qwen2.5-VL, the models see the
screenshot at its smart_resize size and answer in its pixels, like `qwen-vl`.
"""

from __future__ import annotations

from agent.actions import points_of
from agent.config.profiles import Profile
from agent.geometry import Point
from agent.policy.chat_reply import ChatReply
from agent.policy.client import ModelClient
from agent.policy.model_image import ModelImage
from agent.policy.opencua_format import parse_opencua
from agent.policy.text_policies import TextPolicy
from agent.policy.text_reply import ParsedReply


class OpenCuaPolicy(TextPolicy):
    name = "opencua"
    instructions_role = "system"

    def __init__(self, goal: str, profile: Profile, client: ModelClient) -> None:
        super().__init__(goal, profile, client)
        self._pointer: Point | None = None  # where the last action left it, in image pixels

    def instructions(self, image: ModelImage) -> str:
        return (
            "You are a GUI agent. You are given a task and a screenshot of the screen. You "
            "need to perform a series of pyautogui actions to complete the task.\n\n"
            "For each step, answer in this format:\n"
            "## Thought:\nwhat you see, what was done so far, and what to do next\n"
            "## Action:\nthe next action in one sentence\n"
            "## Code:\n```python\nthe pyautogui code of that one action\n```\n\n"
            "Use pyautogui.click, doubleClick, rightClick, moveTo, dragTo, scroll, write, "
            "press and hotkey, with coordinates in pixels of the screenshot "
            f"({image.size.width}x{image.size.height}); computer.triple_click(x, y); "
            "computer.wait() when something is loading; computer.terminate(status='success') "
            "when the task is done, or status='failure' when it cannot be done.\n\n"
            f"# Task Instruction:\n{self.goal}"
        )

    def parse(self, reply: ChatReply, image: ModelImage) -> ParsedReply:
        parsed = parse_opencua(reply.content, image.point_space, self._pointer)
        for action in parsed.actions:
            points = points_of(action)
            if points:
                self._pointer = points[-1]
        return parsed
