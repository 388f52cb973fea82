"""Helpers of `agent.taskfile.task`: YAML that keeps its node tree, the line of every problem,
`{var}`s.

`load_document` turns text into a validated model: YAML (duplicated keys refused), variables
substituted in the raw data, then pydantic; every problem found becomes one line
`source:line: field.path: message` of one TaskFileError, with secret values masked.

A location (`Loc`) is a path into the YAML data: mapping keys and list indices, as in
pydantic's error `loc` once the discriminator tags are taken out. `line_of` follows one down
the node tree to the deepest node that exists, so every problem can name its line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Annotated, Any, NoReturn, TypeVar

import pydantic
import yaml
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError

from agent.errors import TaskFileError
from agent.taskfile.params import PARAMS, resolve_params

Loc = tuple[str | int, ...]
_M = TypeVar("_M", bound=pydantic.BaseModel)

_MERGE_TAG = "tag:yaml.org,2002:merge"


def parse_yaml(text: str, source: str) -> tuple[yaml.Node | None, Any]:
    """The node tree and the plain data of one YAML document; TaskFileError with the line."""
    loader: yaml.SafeLoader | None = None
    try:
        loader = yaml.SafeLoader(text)
        node = loader.get_single_node()
        if node is None:
            return None, None
        _check_nodes(node, source)
        return node, loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        raise TaskFileError(_yaml_message(error, source)) from None
    except yaml.YAMLError as error:
        raise TaskFileError(f"{source}: invalid YAML: {' '.join(str(error).split())}") from None
    except RecursionError:
        raise TaskFileError(f"{source}: invalid YAML: nested too deeply") from None
    finally:
        if loader is not None:
            loader.dispose()


def _yaml_message(error: yaml.MarkedYAMLError, source: str) -> str:
    mark = error.problem_mark or error.context_mark
    where = f"{source}:{mark.line + 1}" if mark is not None else source
    message = f"{where}: invalid YAML: {error.problem or error.context or 'syntax error'}"
    if error.problem and error.context and error.context_mark is not None:
        message += f" ({error.context} on line {error.context_mark.line + 1})"
    return message


_MAX_NODES = 100_000


def _check_nodes(root: yaml.Node, source: str) -> None:
    """Refuse what PyYAML accepts but a task file must not have: a repeated key (it would
    silently win), an alias inside itself, and aliases that multiply into a huge document."""
    sizes: dict[int, int] = {}  # nodes in the document once every alias is expanded
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        line = node.start_mark.line + 1
        if id(node) in open_nodes:
            raise TaskFileError(f"{source}:{line}: an alias refers to a node that contains it")
        open_nodes.add(id(node))
        total = 1
        if isinstance(node, yaml.MappingNode):
            first_lines: dict[tuple[str, str], int] = {}
            for key, value in node.value:
                total += size(value)
                if not isinstance(key, yaml.ScalarNode) or key.tag == _MERGE_TAG:
                    continue
                key_line, identity = key.start_mark.line + 1, (key.tag, key.value)
                if identity in first_lines:
                    raise TaskFileError(
                        f"{source}:{key_line}: duplicate key {key.value!r} "
                        f"(first on line {first_lines[identity]})"
                    )
                first_lines[identity] = key_line
        elif isinstance(node, yaml.SequenceNode):
            total += sum(size(item) for item in node.value)
        if total > _MAX_NODES:
            raise TaskFileError(f"{source}:{line}: too large once its aliases are expanded")
        open_nodes.discard(id(node))
        sizes[id(node)] = total
        return total

    size(root)


def line_of(root: yaml.Node | None, loc: Loc) -> int:
    """The 1-based line of the deepest node on `loc` (for a mapping entry, its key's line)."""
    if root is None:
        return 1
    node = root
    line = root.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                    node, line = value, key.start_mark.line + 1
                    break
            else:
                break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def format_loc(loc: Loc) -> str:
    """`('steps', 2, 'click', 'x')` -> `steps[2].click.x`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


_REFERENCE = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class _SubstitutionError(ValueError):
    pass


def substitute_text(text: str, variables: Mapping[str, str], used: set[str] | None = None) -> str:
    """Replace `{name}` by its value and `{{`/`}}` by braces; ValueError names what is wrong.

    The names substituted are added to `used`.
    """

    def expand(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        name = match.group(1)
        if name is None:
            raise _SubstitutionError(
                f"lone {token!r}: write '{token * 2}' for a literal brace, "
                "or {name} for a variable"
            )
        if not _NAME.fullmatch(name):
            raise _SubstitutionError(
                f"invalid variable reference {token!r}: a name is letters, digits and '_' "
                f"(write '{{{{' and '}}}}' for literal braces)"
            )
        if name not in variables:
            known = ", ".join(sorted(variables)) or "none are defined"
            raise _SubstitutionError(f"unknown variable {name!r} (known: {known})")
        if used is not None:
            used.add(name)
        return variables[name]

    return _REFERENCE.sub(expand, text)


@dataclass
class Substituted:
    data: Any
    problems: list[tuple[Loc, str]]  # where a string could not be substituted, and why
    secret_locs: list[Loc]  # where a string now holds a secret


def substitute(
    data: Any,
    variables: Mapping[str, str],
    skip: frozenset[str] = frozenset(),
    secret_names: frozenset[str] = frozenset(),
    secret_placeholders_in: frozenset[str] = frozenset(),
) -> Substituted:
    """`data` with every string value substituted, with the problems found, each at its location.

    Keys are never substituted, nor the top-level entries named in `skip`. In the top-level
    entries named in `secret_placeholders_in` a secret stays its placeholder, `{NAME}`: what a
    model reads and what an action carries (the value goes in only as it is typed). A string
    with a problem is left as it was.
    """
    result = Substituted(None, [], [])
    placeholders = {**variables, **{name: "{" + name + "}" for name in secret_names}}

    def walk(value: Any, loc: Loc, known: Mapping[str, str]) -> Any:
        if isinstance(value, str):
            used: set[str] = set()
            try:
                value = substitute_text(value, known, used)
            except _SubstitutionError as error:
                result.problems.append((loc, str(error)))
            if used & secret_names:
                result.secret_locs.append(loc)
            return value
        if isinstance(value, dict):
            if not loc:
                return {
                    key: item
                    if key in skip
                    else walk(
                        item,
                        (_part(key),),
                        placeholders if key in secret_placeholders_in else known,
                    )
                    for key, item in value.items()
                }
            return {key: walk(item, (*loc, _part(key)), known) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item, (*loc, index), known) for index, item in enumerate(value)]
        return value

    result.data = walk(data, (), variables)
    return result


def _part(key: Any) -> str | int:
    return key if isinstance(key, str | int) and not isinstance(key, bool) else str(key)


@dataclass(frozen=True, slots=True)
class Problem:
    line: int
    loc: Loc
    message: str

    def render(self, source: str) -> str:
        where = format_loc(self.loc)
        return f"{source}:{self.line}: {where + ': ' if where else ''}{self.message}"


def raise_problems(
    problems: Iterable[Problem], source: str, secret_values: Iterable[str] = ()
) -> NoReturn:
    """One TaskFileError, a problem a line, in file order, with every secret value masked."""
    ordered = sorted(problems, key=lambda problem: problem.line)
    text = "\n".join(dict.fromkeys(problem.render(source) for problem in ordered))
    for secret in sorted(secret_values, key=len, reverse=True):
        text = text.replace(secret, "***")
    raise TaskFileError(text) from None


def refuse_unknown_keys(model: type[Any], data: Any, handler: Callable[[Any], _M]) -> _M:
    """Validate `data` with `handler`, reporting each unknown key (at its own location, with
    the keys expected) along with every other problem of the mapping. A field with an alias
    (`from`, a Python keyword) is known by its alias."""
    known = [field.alias or name for name, field in model.model_fields.items()]
    if not isinstance(data, dict) or all(key in known for key in data):
        return handler(data)
    expected = ", ".join(known)
    errors: list[InitErrorDetails] = [
        {
            "type": PydanticCustomError(
                "unknown_key",
                "unknown key {shown} (expected one of {expected})",
                {"shown": repr(key), "expected": expected},
            ),
            "loc": (_part(key),),
            "input": value,
        }
        for key, value in data.items()
        if key not in known
    ]
    try:
        handler({key: value for key, value in data.items() if key in known})
    except pydantic.ValidationError as error:
        errors += [_details(item) for item in error.errors()]
    raise pydantic.ValidationError.from_exception_data(model.__name__, errors)


def _details(item: ErrorDetails) -> InitErrorDetails:
    context = {**item.get("ctx", {}), "reason": item["msg"]}
    return {
        "type": PydanticCustomError(item["type"], "{reason}", context),
        "loc": item["loc"],
        "input": item["input"],
    }


# For each list of tagged items: what one item is called, and its kinds.
Kinds = Mapping[str, tuple[str, tuple[str, ...]]]


def validation_problems(
    error: pydantic.ValidationError, root: yaml.Node | None, kinds: Kinds, prefix: Loc = ()
) -> list[Problem]:
    """pydantic's errors as problems at data locations (tags dropped), each with its line."""
    problems = []
    for item in error.errors(include_url=False):
        loc: Loc = (*prefix, *item["loc"])
        if len(loc) > 2 and loc[0] in kinds and isinstance(loc[1], int):
            loc = (*loc[:2], *loc[3:])  # ('steps', 2, 'click', 'click', 'x'): drop the tag
        kind, message, context = item["type"], item["msg"], item.get("ctx") or {}
        line = line_of(root, loc)
        if kind == "unknown_key":
            loc = loc[:-1]  # the message names the key
        elif kind in ("union_tag_invalid", "union_tag_not_found") and loc and loc[0] in kinds:
            message = _item_message(kinds[str(loc[0])], context.get("tag"), item["input"])
        elif kind == "value_error":
            message = message.removeprefix("Value error, ")
        problems.append(Problem(line, loc, message))
    return problems


def _item_message(kinds: tuple[str, tuple[str, ...]], tag: Any, value: Any) -> str:
    what, names = kinds
    listing = ", ".join(names)
    if tag is not None:
        return f"unknown {what} {tag!r}: a {what} is one of {listing}"
    if isinstance(value, dict) and value:
        keys = ", ".join(repr(str(key)) for key in value)
        return (
            f"a {what} has exactly one key naming its kind, got {keys} "
            "(is the rest indented under the kind?)"
        )
    got = {str: "text", list: "a list", dict: "an empty mapping", type(None): "nothing"}
    return (
        f"a {what} is a mapping with one key naming its kind (one of {listing}), "
        f"got {got.get(type(value), 'a ' + type(value).__name__)}"
    )


def _number_to_str(value: Any) -> Any:
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


VarValue = Annotated[
    str,
    pydantic.BeforeValidator(_number_to_str),
    pydantic.WithJsonSchema({"type": ["string", "number"]}),
]
SecretName = Annotated[str, pydantic.Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
# Where the task's steps and its model may see secrets only as placeholders, `{NAME}`.
SECRET_PLACEHOLDERS_IN = frozenset({"goal", "steps", "oracle"})

_VARS: pydantic.TypeAdapter[dict[str, str]] = pydantic.TypeAdapter(dict[str, VarValue])
_SECRET_LIST: pydantic.TypeAdapter[list[str]] = pydantic.TypeAdapter(list[SecretName])
_SECRET_MAP: pydantic.TypeAdapter[dict[str, Any]] = pydantic.TypeAdapter(dict[SecretName, Any])
_T = TypeVar("_T")


def load_document(
    text: str,
    source: str,
    model: type[_M],
    kinds: Kinds,
    *,
    layers: Iterable[Mapping[str, str]],
    environ: Mapping[str, str],
    seed: int = 0,
) -> tuple[_M, tuple[str, ...], dict[str, str]]:
    """The validated model, the non-empty secret values and every variable.

    Variables come from the document's `vars`, then its `params` (picked by `seed`), then
    each of `layers` in turn, then the environment variables named by `secrets`, each
    overriding the ones before.
    """
    root, data = parse_yaml(text, source)
    if data is None:
        raise TaskFileError(
            f"{source}: the task file is empty; it needs a name and steps or a goal"
        )
    if not isinstance(data, dict):
        raise TaskFileError(
            f"{source}:{line_of(root, ())}: a task file is a mapping (name:, goal:, steps:, ...),"
            f" not {type(data).__name__}"
        )
    variables = _prevalidate(_VARS, data.get("vars", {}), "vars", root, source, kinds)
    specs = _prevalidate(PARAMS, data.get("params", {}), "params", root, source, kinds)
    try:
        variables.update(resolve_params(str(data.get("name", "")), specs, seed))
    except ValueError as error:
        raise_problems([Problem(line_of(root, ("params",)), ("params",), str(error))], source)
    listed = data.get("secrets", [])
    if isinstance(listed, dict):  # the names, each with its places
        places = _prevalidate(_SECRET_MAP, listed, "secrets", root, source, kinds)
        names = list(places)
    else:
        names = _prevalidate(_SECRET_LIST, listed, "secrets", root, source, kinds)
    where: list[tuple[str, str | int]] = [
        ("secrets", name if isinstance(listed, dict) else i) for i, name in enumerate(names)
    ]
    missing = [
        Problem(line_of(root, loc), loc, f"secret {name!r} is not set")
        for loc, name in zip(where, names, strict=True)
        if name not in environ
    ]
    if missing:
        raise_problems(missing, source)
    secrets = {name: environ[name] for name in names}
    secret_values = tuple(dict.fromkeys(value for value in secrets.values() if value))
    for layer in (*layers, secrets):
        variables.update(layer)

    done = substitute(
        data,
        variables,
        frozenset({"vars", "params", "secrets"}),
        frozenset(secrets),
        SECRET_PLACEHOLDERS_IN,
    )
    problems = [Problem(line_of(root, loc), loc, message) for loc, message in done.problems]
    document: _M | None = None
    invalid: list[Problem] = []
    try:
        document = model.model_validate(done.data)
    except pydantic.ValidationError as error:
        invalid = validation_problems(error, root, kinds)
    # raised outside `except`: the ValidationError, which shows the input, is not chained
    for problem in invalid:
        if any(_within(problem.loc, loc) for loc, _ in done.problems):
            continue  # a string with a bad variable: reported once, above
        if any(_within(problem.loc, loc) for loc in done.secret_locs):
            # the message may quote the value; the value holds a secret
            problem = replace(problem, message="invalid value (not shown: it holds a secret)")
        problems.append(problem)
    if problems or document is None:
        raise_problems(problems, source, secret_values)
    return document, secret_values, variables


def _within(loc: Loc, outer: Loc) -> bool:
    return loc[: len(outer)] == outer


def _prevalidate(
    adapter: pydantic.TypeAdapter[_T],
    value: Any,
    field: str,
    root: yaml.Node | None,
    source: str,
    kinds: Kinds,
) -> _T:
    try:
        return adapter.validate_python(value)
    except pydantic.ValidationError as error:
        problems = validation_problems(error, root, kinds, prefix=(field,))
    raise_problems(problems, source)
