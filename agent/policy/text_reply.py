"""What the plain-text reply parsers (UI-TARS, Qwen) hand back, and the helpers they share.

A parser turns a model's reply into a thought and actions whose points are pixels of the model
image (the image the model saw), never of the screen: the policy maps them afterwards. Every
reply that cannot be read raises ModelOutputError naming what is wrong and quoting it briefly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from agent.actions import Action
from agent.errors import ActionError, ModelOutputError
from agent.geometry import Point, Size
from agent.keys import canonical_key, parse_key_combination
from agent.policy.model_image import THOUSANDTHS

QUOTE_LIMIT = 120


@dataclass(frozen=True, slots=True)
class ParsedReply:
    thought: str
    actions: tuple[Action, ...]


def quote(text: str, limit: int = QUOTE_LIMIT) -> str:
    """`text` for an error message: cut to `limit` characters (ending in ...) and quoted."""
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return repr(text)


def number_text(value: float) -> str:
    """A number as the model wrote it, near enough: 1500.0 -> '1500', 12.5 -> '12.5'."""
    if math.isfinite(value) and value == int(value):
        return str(int(value))
    return repr(value)


def point_text(x: float, y: float) -> str:
    return f"({number_text(x)}, {number_text(y)})"


def pixel_point(x: float, y: float, image: Size) -> Point:
    """A point in model-image pixels; a fractional coordinate lies in the pixel it falls in.

    `image` is the space the model's points count in (`ModelImage.point_space`): its pixels,
    or a relative grid. Raises ModelOutputError when the point is not on the image (points are
    never clamped).
    """
    if not (
        math.isfinite(x) and math.isfinite(y) and 0 <= x < image.width and 0 <= y < image.height
    ):
        where = "0-1000 grid" if image == THOUSANDTHS else f"{image} model image"
        raise ModelOutputError(f"point {point_text(x, y)} is outside the {where}")
    return Point(math.floor(x), math.floor(y))


def key_combination(names: list[str], context: str) -> tuple[str, ...]:
    """Key names -> canonical names; a name such as 'ctrl+c' is split into its keys."""
    keys: list[str] = []
    try:
        for name in names:
            if len(name) > 1 and "+" in name:
                keys.extend(parse_key_combination(name))
            else:
                keys.append(canonical_key(name))
    except ActionError as error:
        raise ModelOutputError(f"{context}: {error}") from None
    if not keys:
        raise ModelOutputError(f"{context}: no keys given")
    return tuple(keys)
