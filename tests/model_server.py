"""A scripted OpenAI-compatible server on 127.0.0.1, for tests that drive the real `openai` client.

Only the model's judgement is scripted: `server.script(...)` queues replies, and every
`POST /v1/chat/completions` or `POST /v1/responses` takes the next one from ONE shared FIFO queue
(in the order the requests arrive, whichever endpoint they hit). A reply is a `Reply` (sent as
JSON), a `Hang` (the client should time out) or a callable `(Request) -> Reply | Hang` that stands
in for the model and may look at what was sent. An empty queue answers 500 "no scripted reply
left", so a test that makes more calls than it scripted fails loudly.

`GET /v1/models` answers a one-model list and takes nothing from the queue; any other path is a
404 in OpenAI's error shape. Every request (any path) is recorded in `server.requests`.
"""

from __future__ import annotations

import base64
import io
import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from agent.actions import Action, Click, Drag, KeyPress, Scroll, TypeText
from agent.record.events import Decided, RunStarted
from agent.record.log import read_run

MODEL_ENDPOINTS = frozenset({"/v1/chat/completions", "/v1/responses"})
DEFAULT_CHAT_MODEL = "scripted-chat-model"
DEFAULT_RESPONSES_MODEL = "computer-use-preview"


@dataclass(frozen=True)
class Request:
    """One HTTP request the server received."""

    path: str  # as sent, query string included
    headers: dict[str, str]  # lower-case names
    body: Any  # the parsed JSON; the raw text when it was not JSON; None when empty
    received_at: float  # time.monotonic()
    method: str = "POST"

    def images(self) -> list[bytes]:
        """Every `data:image/...;base64,...` URL anywhere in the body, decoded, in body order."""
        return [base64.b64decode(url.split(",", 1)[1]) for url in _data_image_urls(self.body)]

    def image_sizes(self) -> list[tuple[int, int]]:
        """(width, height) of each image from `images()`."""
        from PIL import Image

        sizes = []
        for data in self.images():
            with Image.open(io.BytesIO(data)) as image:
                sizes.append((image.width, image.height))
        return sizes


def _data_image_urls(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if value.startswith("data:image/") and ";base64," in value:
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _data_image_urls(item)
    elif isinstance(value, list):
        for item in value:
            yield from _data_image_urls(item)


@dataclass(frozen=True)
class Reply:
    """An HTTP answer with a JSON body (any JSON: replies of the wrong shape are tested too),
    or with `raw` text instead when it is not JSON at all."""

    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    raw: str | None = None


@dataclass(frozen=True)
class Hang:
    """Wait `seconds` (or until the server stops), then close the connection without answering.

    Meant to outlast the client's timeout; a client that is still waiting sees a dropped
    connection (openai.APIConnectionError), never a reply.
    """

    seconds: float


Scripted = Reply | Hang | Callable[[Request], Reply | Hang]


class ModelServer:
    """A ThreadingHTTPServer on 127.0.0.1 (a free port), serving on a daemon thread from creation.

    Use as a context manager, or call `stop()`. `base_url` is what `openai.OpenAI(base_url=...)`
    takes. Callables that raise answer 500 and the exception is kept in `errors`.
    """

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.errors: list[BaseException] = []
        self._queue: deque[Scripted] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False  # a Hang in progress must not hold up stop()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def pending(self) -> int:
        """How many scripted replies have not been used yet."""
        with self._lock:
            return len(self._queue)

    def script(self, *replies: Scripted) -> None:
        """Queue replies for the next model requests (first in, first out)."""
        with self._lock:
            self._queue.extend(replies)

    def stop(self) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ModelServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def _answer(self, request: Request) -> Reply | Hang:
        route = urlsplit(request.path).path.rstrip("/")
        if request.method == "GET" and route == "/v1/models":
            model = {"id": DEFAULT_CHAT_MODEL, "object": "model", "created": 0, "owned_by": "test"}
            return Reply({"object": "list", "data": [model]})
        if request.method != "POST" or route not in MODEL_ENDPOINTS:
            return _error(404, f"Invalid URL ({request.method} {request.path})", None, None)
        with self._lock:
            scripted = self._queue.popleft() if self._queue else None
            count = len(self.requests)
        if scripted is None:
            message = f"no scripted reply left for POST {route} (request {count} of this server)"
            return _error(500, message, "server_error", "no_scripted_reply")
        if isinstance(scripted, Reply | Hang):
            return scripted
        try:
            return scripted(request)
        except Exception as error:
            self.errors.append(error)
            message = f"the scripted reply raised {type(error).__name__}: {error}"
            return _error(500, message, "server_error", "scripted_reply_raised")


def _handler_for(server: ModelServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like real servers

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _handle(self, method: str) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            body: Any = None
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw.decode("utf-8", "replace")
            headers = {name.lower(): value for name, value in self.headers.items()}
            request = Request(self.path, headers, body, time.monotonic(), method)
            server._record(request)
            answer = server._answer(request)
            if isinstance(answer, Hang):
                server._stopping.wait(answer.seconds)
                self.close_connection = True
                return
            text = (
                answer.raw
                if answer.raw is not None
                else json.dumps(answer.body, ensure_ascii=False)
            )
            payload = text.encode("utf-8")
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("x-request-id", f"req_{uuid.uuid4().hex[:16]}")
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up first

    return Handler


# --- Reply builders: bodies as the real APIs send them -------------------------------------


def _id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


def _chat(message: dict[str, Any], finish: str, usage: tuple[int, int], model: str) -> Reply:
    prompt, completion = usage
    return Reply(
        {
            "id": _id("chatcmpl"),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {"index": 0, "message": message, "finish_reason": finish, "logprobs": None}
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
        }
    )


def chat_tool_call(
    name: str,
    arguments: dict[str, Any] | str,
    *,
    content: str | None = None,
    usage: tuple[int, int] = (100, 20),
    call_id: str = "call_1",
    model: str = DEFAULT_CHAT_MODEL,
) -> Reply:
    """A chat.completion whose one message calls one function; a str `arguments` goes unchanged."""
    text = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
    call = {"id": call_id, "type": "function", "function": {"name": name, "arguments": text}}
    message = {"role": "assistant", "content": content, "refusal": None, "tool_calls": [call]}
    return _chat(message, "tool_calls", usage, model)


def chat_text(
    text: str, *, usage: tuple[int, int] = (100, 20), model: str = DEFAULT_CHAT_MODEL
) -> Reply:
    """A chat.completion whose one message is plain text."""
    return _chat({"role": "assistant", "content": text, "refusal": None}, "stop", usage, model)


def click_the_mark_named(name: str) -> Callable[[Request], Reply]:
    """The model's judgement with set-of-marks (`--marks`): click the marked element the
    request's listing calls `name` (`[7] button 'Submit' in 'Mail'`)."""

    def reply(request: Request) -> Reply:
        listing = json.dumps(request.body, ensure_ascii=False)
        mark = re.search(rf"\[(\d+)\] [a-z ]+'{re.escape(name)}'", listing)
        assert mark is not None, listing[-1500:]
        return chat_tool_call("computer", {"type": "click", "mark": int(mark.group(1))})

    return reply


def _response(
    output: list[dict[str, Any]], usage: tuple[int, int], response_id: str | None, model: str
) -> Reply:
    input_tokens, output_tokens = usage
    return Reply(
        {
            "id": response_id or _id("resp"),
            "object": "response",
            "created_at": int(time.time()),
            "status": "completed",
            "model": model,
            "output": output,
            "error": None,
            "incomplete_details": None,
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "usage": {
                "input_tokens": input_tokens,
                "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                "output_tokens": output_tokens,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": input_tokens + output_tokens,
            },
        }
    )


def responses_computer_call(
    action: dict[str, Any] | None = None,
    *,
    actions: list[dict[str, Any]] | None = None,
    call_id: str = "call_1",
    pending_safety_checks: list[dict[str, Any]] | None = None,
    reasoning: str | None = None,
    usage: tuple[int, int] = (1000, 50),
    response_id: str | None = None,
    model: str = DEFAULT_RESPONSES_MODEL,
) -> Reply:
    """A Response: [a reasoning item with `reasoning` as summary,] then one computer_call.

    Give exactly one of `action` (computer_use_preview: one action per call) or `actions`
    (the `computer` tool: a batch); the other key is left out of the call.
    """
    if (action is None) == (actions is None):
        raise ValueError("give exactly one of action= or actions=")
    output: list[dict[str, Any]] = []
    if reasoning is not None:
        summary = [{"type": "summary_text", "text": reasoning}]
        output.append({"id": _id("rs"), "type": "reasoning", "summary": summary})
    call: dict[str, Any] = {
        "id": _id("cu"),
        "type": "computer_call",
        "call_id": call_id,
        "status": "completed",
        "pending_safety_checks": list(pending_safety_checks or []),
    }
    output.append({**call, **({"action": action} if actions is None else {"actions": actions})})
    return _response(output, usage, response_id, model)


def responses_message(
    text: str,
    *,
    usage: tuple[int, int] = (1000, 50),
    response_id: str | None = None,
    model: str = DEFAULT_RESPONSES_MODEL,
) -> Reply:
    """A Response whose output is one assistant message of output_text."""
    content = [{"type": "output_text", "text": text, "annotations": []}]
    message = {"id": _id("msg"), "type": "message", "role": "assistant", "content": content}
    message["status"] = "completed"
    return _response([message], usage, response_id, model)


_ERROR_KINDS = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("permission_error", None),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}


def _error(status: int, message: str, kind: str | None, code: str | None) -> Reply:
    error = {"message": message, "type": kind or "invalid_request_error", "param": None}
    return Reply({"error": {**error, "code": code}}, status)


def error_reply(
    status: int,
    message: str,
    retry_after: float | None = None,
    *,
    error_type: str | None = None,
    code: str | None = None,
) -> Reply:
    """OpenAI's error body `{"error": {message, type, param, code}}`, with Retry-After if given."""
    default_type, default_code = _ERROR_KINDS.get(
        status, ("server_error", None) if status >= 500 else ("invalid_request_error", None)
    )
    reply = _error(status, message, error_type or default_type, code or default_code)
    if retry_after is not None:
        reply.headers["Retry-After"] = f"{retry_after:g}"
    return reply


# ---- a fake model whose judgement is a task's oracle


def the_oracles_actions(run_folder: Path) -> tuple[list[tuple[Action, ...]], int]:
    """An oracle run's actions, a tuple per step (empty where it waited; its final Done left
    out), and the width of the screen it ran on."""
    record = read_run(run_folder)
    width = record.events_of(RunStarted)[0].screen.width
    steps = [
        tuple(a for a in d.actions if isinstance(a, Action)) for d in record.events_of(Decided)
    ]
    return steps[:-1], width


def computer_call(action: Action, scale: float) -> dict[str, Any]:
    """An action as OpenAI's computer tool writes it, in pixels of a screenshot `scale` times
    the screen's size."""

    def at(x: int, y: int) -> dict[str, int]:
        return {"x": round(x * scale), "y": round(y * scale)}

    match action:
        case Click(x=x, y=y, button=button, count=count):
            kind = "double_click" if count == 2 else "click"
            return {"type": kind, **at(x, y), "button": button}
        case TypeText(text=text):
            return {"type": "type", "text": text}
        case KeyPress(keys=keys):
            return {"type": "keypress", "keys": list(keys)}
        case Drag(path=path):
            return {"type": "drag", "path": [at(p.x, p.y) for p in path]}
        case Scroll(x=x, y=y, scroll_x=right, scroll_y=down):
            return {"type": "scroll", **at(x, y), "scroll_x": right * 100, "scroll_y": down * 100}
    raise ValueError(f"the fake model cannot send {action!r}")


def _tool_call(request: Request, name: str, arguments: dict[str, Any]) -> Reply:
    return chat_tool_call(name, arguments)


def doing_as_the_oracle_did(
    steps: list[tuple[Action, ...]],
    width: int,
    answer: Callable[[Request, str, dict[str, Any]], Reply] = _tool_call,
    latency: float = 0.0,
) -> list[Callable[[Request], Reply]]:
    """Replies for `--policy openai-chat`: each of the oracle's actions in the screenshot's
    pixels, a wait where it waited, then done; `answer` makes each reply (a tool call),
    `latency` is how long the fake thinks first."""
    planned: list[Action | None] = []  # None: a wait
    for actions in steps:
        planned += list(actions) or [None]

    def reply(action: Action | None, last: bool) -> Callable[[Request], Reply]:
        def respond(request: Request) -> Reply:
            time.sleep(latency)  # as a model thinks
            if last:
                return answer(request, "done", {"summary": "did as the oracle did"})
            scale = request.image_sizes()[-1][0] / width
            call = {"type": "wait"} if action is None else computer_call(action, scale)
            return answer(request, "computer", call)

        return respond

    return [reply(action, False) for action in planned] + [reply(None, True)]
