"""A task file's `params`: variables whose values a seed picks, for benchmark tasks.

    params:
      word: [apple, pear, plum]        # one of these
      count: {between: [3, 9]}         # an integer in this range (both ends included)
      total: {expr: "count * 2 + 1"}   # arithmetic on the params above

The same task name, parameter and seed always give the same value, on any machine. Two
seeds that differ by less than a parameter's number of choices give different values, so a
benchmark's control can run the solution for one seed against the checks of another and
expect it to fail.
"""

from __future__ import annotations

import ast
import operator
import random
from collections.abc import Callable, Mapping
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

# A prime larger than any range we use: stepping by it visits every value of a range before
# one repeats (it shares no factor with the range's size).
_STRIDE = 7919


class Between(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    between: Annotated[list[int], Field(min_length=2, max_length=2)]

    @model_validator(mode="after")
    def _ordered(self) -> Between:
        low, high = self.between
        if low > high:
            raise ValueError(f"between: {low} is above {high}")
        return self


class Expression(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    expr: Annotated[str, Field(min_length=1, description="+ - * // % and parentheses")]


Choices = Annotated[list[str | int | float], Field(min_length=1)]
ParamSpec = Choices | Between | Expression
PARAMS: TypeAdapter[dict[str, ParamSpec]] = TypeAdapter(dict[str, ParamSpec])


def resolve_params(task_name: str, specs: Mapping[str, ParamSpec], seed: int) -> dict[str, str]:
    """Each parameter's value for this seed, as the string that `{name}` becomes."""
    values: dict[str, str] = {}
    numbers: dict[str, int] = {}
    for name, spec in specs.items():
        offset = random.Random(f"{task_name}/{name}").randrange(1 << 30)
        match spec:
            case Between(between=[low, high]):
                number = low + (offset + seed * _STRIDE) % (high - low + 1)
                numbers[name] = number
                values[name] = str(number)
            case Expression(expr=text):
                number = evaluate(text, numbers)
                numbers[name] = number
                values[name] = str(number)
            case list() as choices:
                order = list(choices)
                random.Random(f"{task_name}/{name}/order").shuffle(order)
                value = order[(offset + seed) % len(order)]
                values[name] = str(value)
                if isinstance(value, int):
                    numbers[name] = value
    return values


_OPERATORS: dict[type[ast.AST], Callable[[int, int], int]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
}


def evaluate(text: str, numbers: Mapping[str, int]) -> int:
    """Integer arithmetic over earlier parameters; ValueError names what is not allowed."""
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as error:
        raise ValueError(f"expr {text!r}: {error.msg}") from None

    def value(node: ast.AST) -> int:
        match node:
            case ast.Constant(value=int() as number) if not isinstance(number, bool):
                return number
            case ast.Name(id=name):
                if name not in numbers:
                    known = ", ".join(numbers) or "none"
                    raise ValueError(
                        f"expr {text!r}: {name!r} is not an integer parameter defined above "
                        f"(known: {known})"
                    )
                return numbers[name]
            case ast.UnaryOp(op=ast.USub(), operand=operand):
                return -value(operand)
            case ast.BinOp(left=left, op=op, right=right) if type(op) in _OPERATORS:
                try:
                    return _OPERATORS[type(op)](value(left), value(right))
                except ZeroDivisionError:
                    raise ValueError(f"expr {text!r}: division by zero") from None
        raise ValueError(f"expr {text!r}: only integers, parameters, + - * // % and ( )")

    return value(tree.body)
