"""The checks of a task file: each reads real state once the work is done."""

from __future__ import annotations

from typing import Annotated

from pydantic import Discriminator, Field, Tag, field_validator

from agent.taskfile.items import Item, Seconds, TargetFields, TaskModel, Text, kind_of, regex


class PathSpec(TaskModel):
    path: Text


class FileContainsSpec(PathSpec):
    text: Text


class FileEqualsSpec(PathSpec):
    text: str
    strip: Annotated[bool, Field(description="ignore leading and trailing whitespace")] = True


class CommandSpec(TaskModel):
    run: Text
    exit_code: int = 0
    stdout: str | None = None
    stdout_contains: str | None = None
    timeout: Seconds = 30


class ClipboardSpec(TaskModel):
    text: str


class WindowTitleSpec(TaskModel):
    matches: Annotated[Text, Field(description="regular expression")]
    active: Annotated[bool, Field(description="the active window must match, else any")] = True

    @field_validator("matches")
    @classmethod
    def _valid_regex(cls, value: str) -> str:
        return regex(value)


class FileExistsCheck(Item):
    file_exists: PathSpec


class FileContainsCheck(Item):
    file_contains: FileContainsSpec


class FileEqualsCheck(Item):
    file_equals: FileEqualsSpec


class CommandCheck(Item):
    command: CommandSpec


class ClipboardEqualsCheck(Item):
    clipboard_equals: ClipboardSpec


class WindowTitleCheck(Item):
    window_title: WindowTitleSpec


class ScreenTextSpec(TargetFields):
    text: Text  # required here: the text to look for
    present: Annotated[bool, Field(description="false: the text must NOT be on the screen")] = True


class ScreenTextCheck(Item):
    """Text on the screen, found as `click: {text: ...}` finds it (accessibility, then OCR)."""

    screen_text: ScreenTextSpec


class FileAbsentCheck(Item):
    """The file must not exist (moved, renamed or deleted)."""

    file_absent: PathSpec


_CHECKS = (
    "file_exists file_absent file_contains file_equals command clipboard_equals window_title "
    "screen_text"
)
CHECK_KINDS = tuple(_CHECKS.split())

Check = Annotated[
    Annotated[FileExistsCheck, Tag("file_exists")]
    | Annotated[FileAbsentCheck, Tag("file_absent")]
    | Annotated[FileContainsCheck, Tag("file_contains")]
    | Annotated[FileEqualsCheck, Tag("file_equals")]
    | Annotated[CommandCheck, Tag("command")]
    | Annotated[ClipboardEqualsCheck, Tag("clipboard_equals")]
    | Annotated[WindowTitleCheck, Tag("window_title")]
    | Annotated[ScreenTextCheck, Tag("screen_text")],
    Discriminator(kind_of),
]
