"""Open GUI models that answer in their own text formats, served by any OpenAI-compatible
server (vLLM, Ollama, LM Studio) through Chat Completions: the multi-turn chat they share, and
`ui-tars` (the Qwen policies are in `qwen_policies.py`).

They see screenshots at the size their processor would use anyway (Qwen2.5-VL's
smart_resize, which UI-TARS-1.5 shares), so the points they answer are pixels of exactly
the image we sent and map back to the screen exactly. UI-TARS 1.0 answers in 0-1000 of the
image instead (`coordinates = "relative"` in the profile).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any, Literal, cast

from openai import omit

from agent.config.profiles import Profile
from agent.geometry import Size
from agent.policy.chat_reply import ChatReply, read_chat_reply
from agent.policy.client import ModelClient
from agent.policy.model_image import (
    THOUSANDTHS,
    ModelImage,
    long_side_size,
    prepare_image,
    smart_resize,
)
from agent.policy.protocol import Decision, Observation, StepRecord, Usage, latest_notes
from agent.policy.text_reply import ParsedReply
from agent.policy.ui_tars_format import parse_ui_tars


class TextPolicy:
    """A multi-turn chat: for each earlier step the model's own reply, with the last few
    screenshots before their replies; then the current screenshot."""

    name = "text"
    instructions_role: Literal["user", "system"] = "user"
    grid: Size | None = None  # the relative grid its points are on; None: the image's pixels

    def __init__(self, goal: str, profile: Profile, client: ModelClient) -> None:
        self.goal = goal
        self.profile = profile
        self.client = client
        self._turns: deque[tuple[ModelImage | None, str]] = deque()

    def image_size(self, screen: Size) -> Size:
        return smart_resize(screen, max_pixels=self.profile.max_pixels)

    def instructions(self, image: ModelImage) -> str:
        raise NotImplementedError

    def parse(self, reply: ChatReply, image: ModelImage) -> ParsedReply:
        raise NotImplementedError

    def said(self, reply: ChatReply) -> str:
        """What the model said, as it goes back into the conversation."""
        return reply.content

    def decide(self, observation: Observation, history: Sequence[StepRecord]) -> Decision:
        size = self.image_size(observation.screen)
        image = prepare_image(observation.frame, size, self.profile.image_format, grid=self.grid)
        messages = self._messages(image, history)
        temperature = self.profile.temperature
        data = self.client.call_json(
            lambda client: client.chat.completions.with_raw_response.create(
                model=self.profile.model_name,
                messages=cast(Any, messages),
                temperature=omit if temperature is None else temperature,
            )
        )
        reply = read_chat_reply(data)
        said = self.said(reply)
        # The reply goes into the conversation even when it cannot be used, so that the
        # error that follows it makes sense to the model.
        self._remember(image, said)
        parsed = self.parse(reply, image)
        tokens_in, tokens_out = reply.input_tokens, reply.output_tokens
        actions = tuple(image.action_to_screen(action) for action in parsed.actions)
        cost = self.profile.cost_usd(tokens_in, tokens_out)
        return Decision(actions, parsed.thought, Usage(tokens_in, tokens_out, cost), said)

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
            {"role": self.instructions_role, "content": self.instructions(image)},
        ]
        for earlier, said in self._turns:
            if earlier is not None:
                messages.append({"role": "user", "content": [image_part(earlier)]})
            messages.append({"role": "assistant", "content": said})
        content = [{"type": "text", "text": line} for line in feedback(history)]
        content.append(image_part(image))
        messages.append({"role": "user", "content": content})
        return messages


def feedback(history: Sequence[StepRecord]) -> list[str]:
    """What the model is told of the last step: why it did not work, what the boss did."""
    lines = []
    if history and history[-1].error:
        lines.append(f"That did not work: {history[-1].error}. Look again and try another way.")
    return [*lines, *latest_notes(history)]


def image_part(image: ModelImage) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": image.data_url()}}


class UiTarsPolicy(TextPolicy):
    name = "ui-tars"

    def __init__(self, goal: str, profile: Profile, client: ModelClient) -> None:
        super().__init__(goal, profile, client)
        if profile.coordinates == "relative":
            self.grid = THOUSANDTHS  # UI-TARS 1.0: thousandths of the image

    def image_size(self, screen: Size) -> Size:
        if self.profile.coordinates == "relative":
            return long_side_size(screen, self.profile.image_long_side)
        return super().image_size(screen)

    def instructions(self, image: ModelImage) -> str:
        # UI-TARS-1.5's own computer-use prompt (bytedance/UI-TARS codes/ui_tars/prompt.py),
        # with call_user for the boss; UI-TARS 1.0 was trained on start_box points.
        if self.profile.coordinates == "relative":
            point = "start_box='<|box_start|>(x1,y1)<|box_end|>'"
            drag = f"drag({point}, end_box='<|box_start|>(x3,y3)<|box_end|>')"
        else:
            point = "point='<point>x1 y1</point>'"
            drag = "drag(start_point='<point>x1 y1</point>', end_point='<point>x2 y2</point>')"
        return (
            "You are a GUI agent. You are given a task and your action history, with "
            "screenshots. You need to perform the next action to complete the task.\n\n"
            "## Output Format\n```\nThought: ...\nAction: ...\n```\n\n"
            "## Action Space\n\n"
            f"click({point})\nleft_double({point})\nright_single({point})\n{drag}\n"
            "hotkey(key='ctrl c') # Split keys with a space and use lowercase. Also, do not "
            "use more than 3 keys in one hotkey action.\n"
            "type(content='xxx') # Use escape characters \\', \\\", and \\n in content "
            "part to ensure we can parse the content in normal python string format. If you "
            "want to submit your input, use \\n at the end of content.\n"
            f"scroll({point}, direction='down or up or right or left') # Show more "
            "information on the `direction` side.\n"
            "wait() #Sleep for 5s and take a screenshot to check for any changes.\n"
            "finished(content='xxx') # Use escape characters \\', \\\", and \\n in "
            "content part to ensure we can parse the content in normal python string format.\n"
            "call_user() # Submit the task and call the user when the task is unsolvable, "
            "or when you need the user's help.\n\n"
            "## Note\n- Use English in `Thought` part.\n- Write a small plan and finally "
            "summarize your next action (with its target element) in one sentence in "
            "`Thought` part.\n\n"
            f"## User Instruction\n{self.goal}"
        )

    def parse(self, reply: ChatReply, image: ModelImage) -> ParsedReply:
        return parse_ui_tars(reply.content, image.point_space)
