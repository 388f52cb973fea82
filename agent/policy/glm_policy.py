"""`glm-v`: GLM-4.5V (and 4.6V) as a desktop agent, asked as zai-org/GLM-V's guide says.

Unlike the chat models, GLM-V is asked in one turn each step: the instructions with its action
space, the task, its earlier answers as text (box tokens taken out) and its latest memory;
then the current screenshot first and the last few earlier ones after it, oldest first. Its
points are thousandths of the screenshot, so the image is sent at the profile's long side.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agent.geometry import Size
from agent.policy.chat_reply import ChatReply
from agent.policy.glm_format import memory_of, parse_glm, without_box
from agent.policy.model_image import THOUSANDTHS, ModelImage, long_side_size
from agent.policy.protocol import StepRecord
from agent.policy.text_policies import TextPolicy, feedback, image_part
from agent.policy.text_reply import ParsedReply

_ACTION_SPACE = """\
left_click(start_box='[x,y]', element_info='')
# left single click at [x,y]
right_click(start_box='[x,y]', element_info='')
# right single click at [x,y]
middle_click(start_box='[x,y]', element_info='')
# middle single click at [x,y]
hover(start_box='[x,y]', element_info='')
# hover the mouse at [x,y]
left_double_click(start_box='[x,y]', element_info='')
# left double click at [x,y]
left_drag(start_box='[x1,y1]', end_box='[x2,y2]', element_info='')
# left drag from [x1,y1] to [x2,y2]
key(keys='')
# press a key or a key combination, keys joined by '+' like key(keys='ctrl+c')
type(content='')
# type text into the active element; click the element first
scroll(start_box='[x,y]', direction='down/up', step=k, element_info='')
# scroll at [x,y] in the direction for k clicks of the mouse wheel
WAIT()
# sleep for 5 seconds
DONE()
# output when the task is fully completed
FAIL()
# output when the task can not be performed at all"""


class GlmVPolicy(TextPolicy):
    name = "glm-v"
    grid = THOUSANDTHS

    def image_size(self, screen: Size) -> Size:
        return long_side_size(screen, self.profile.image_long_side)

    def instructions(self, image: ModelImage) -> str:
        return (
            "You are a GUI operation agent. You will be given a task and your action history, "
            "with recent screenshots. You should help me control the computer, output the best "
            "action step by step to accomplish the task.\n"
            f"The actions you output must be in the following action space:\n{_ACTION_SPACE}\n\n"
            "The output rules are as follows:\n"
            "1. The start/end box parameter of the action should be in the format of [x, y] "
            "normalized to 0-1000.\n"
            "2. Take actions step by step. *NEVER output multiple actions at once*.\n"
            "3. The current state is the first image; earlier screenshots follow it, in the "
            "order of the history steps.\n"
            "4. Put what you must remember in a memory part, a JSON list (empty if nothing).\n"
            "5. You can give a brief explanation before the action.\n\n"
            "Output Format:\nPlain text explanation with action(param='...')\nMemory:\n[]\n\n"
            f"Now Please help me to solve the following task:\n{self.goal}"
        )

    def parse(self, reply: ChatReply, image: ModelImage) -> ParsedReply:
        return parse_glm(reply.content, image.point_space)

    def _messages(self, image: ModelImage, history: Sequence[StepRecord]) -> list[dict[str, Any]]:
        lines = [self.instructions(image)]
        if self._turns:
            lines.append("History actions:")
            for step, (_, said) in enumerate(self._turns, start=1):
                answer = without_box(said).split("Memory:", 1)[0].strip()
                lines.append(f"step {step}: {answer}")
            lines.append(f"Memory:\n{memory_of(self._turns[-1][1]) or '[]'}")
        lines += feedback(history)
        earlier = [shown for shown, _ in self._turns if shown is not None]
        content: list[dict[str, Any]] = [{"type": "text", "text": "\n".join(lines)}]
        content += [image_part(shown) for shown in [image, *earlier]]
        return [{"role": "user", "content": content}]
