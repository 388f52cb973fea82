"""ModelClient: the real `openai` client against a scripted local server, with Shain's retries."""

from __future__ import annotations

import email.utils
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletion

from agent.config.profiles import Profile
from agent.errors import ConfigError, ModelError, Stopped
from agent.policy.client import ModelClient, RetryNotice
from agent.stop import StopToken
from tests.model_server import Hang, ModelServer, chat_text, error_reply

KEY = "sk-test-very-secret-key-123"


@pytest.fixture
def server() -> Iterator[ModelServer]:
    with ModelServer() as running:
        yield running


def _client(
    base_url: str,
    *,
    stop: StopToken | None = None,
    environ: dict[str, str] | None = None,
    notices: list[RetryNotice] | None = None,
    **changes: Any,
) -> ModelClient:
    settings: dict[str, Any] = {"base_url": base_url, "max_retries": 2, "timeout_seconds": 5}
    profile = Profile.model_validate({**settings, **changes})
    return ModelClient(
        profile,
        stop or StopToken(),
        environ={"OPENAI_API_KEY": KEY} if environ is None else environ,
        on_retry=None if notices is None else notices.append,
    )


def _ask(client: ModelClient) -> ChatCompletion:
    return client.call(
        lambda api: api.chat.completions.create(
            model="scripted-chat-model", messages=[{"role": "user", "content": "hello"}]
        )
    )


class _SleepRecorder(StopToken):
    """A stop token that notes the waits it is asked for instead of sitting through them."""

    def __init__(self) -> None:
        super().__init__()
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.raise_if_stopped()
        self.slept.append(seconds)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_reply_comes_back_with_the_key_sent(server: ModelServer) -> None:
    server.script(chat_text("Hello, boss."))
    notices: list[RetryNotice] = []
    completion = _ask(_client(server.base_url, notices=notices))

    assert completion.choices[0].message.content == "Hello, boss."
    (request,) = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert notices == []


def test_a_rate_limit_waits_as_long_as_the_server_asks(server: ModelServer) -> None:
    server.script(error_reply(429, "slow down", retry_after=0.3), chat_text("ok"))
    notices: list[RetryNotice] = []
    completion = _ask(_client(server.base_url, notices=notices))

    assert completion.choices[0].message.content == "ok"
    (notice,) = notices
    assert notice.attempt == 1
    assert "HTTP 429" in notice.reason
    assert "slow down" in notice.reason
    assert notice.wait_seconds == pytest.approx(0.3)
    first, second = server.requests
    assert 0.25 <= second.received_at - first.received_at < 2.0


def test_a_retry_after_http_date_is_honoured(server: ModelServer) -> None:
    # An HTTP date has whole seconds: one 3 s ahead means a wait of about 2 to 3 s.
    soon = email.utils.formatdate(time.time() + 3, usegmt=True)
    passed = email.utils.formatdate(time.time() - 60, usegmt=True)
    later = error_reply(503, "busy")
    later.headers["Retry-After"] = soon
    earlier = error_reply(503, "busy")
    earlier.headers["Retry-After"] = passed
    server.script(earlier, later)
    stop = StopToken()
    notices: list[RetryNotice] = []

    def record(notice: RetryNotice) -> None:
        notices.append(notice)
        if len(notices) == 2:
            stop.stop("seen enough")  # no need to sit through the second wait

    profile = Profile(base_url=server.base_url, max_retries=3, timeout_seconds=5)
    client = ModelClient(profile, stop, environ={"OPENAI_API_KEY": KEY}, on_retry=record)
    with pytest.raises(Stopped):
        _ask(client)

    assert notices[0].wait_seconds == 0.0  # a date in the past: go again at once
    assert 1.5 < notices[1].wait_seconds <= 3.0


def test_an_unreadable_retry_after_falls_back_to_the_usual_wait(server: ModelServer) -> None:
    # Some proxies send Retry-After values that are neither seconds nor an HTTP date. The
    # error is still a 503 worth retrying; it must not end the run with a ValueError.
    odd = error_reply(503, "busy")
    odd.headers["Retry-After"] = "soon"
    server.script(odd, chat_text("ok"))
    stop = _SleepRecorder()
    notices: list[RetryNotice] = []
    client = _client(server.base_url, stop=stop, notices=notices)
    assert _ask(client).choices[0].message.content == "ok"
    assert [notice.wait_seconds for notice in notices] == [0.5]


def test_server_errors_are_retried_then_reported_with_the_count(server: ModelServer) -> None:
    server.script(*[error_reply(503, "overloaded", retry_after=0) for _ in range(3)])
    notices: list[RetryNotice] = []
    with pytest.raises(ModelError) as raised:
        _ask(_client(server.base_url, notices=notices, max_retries=2))

    message = str(raised.value)
    assert "failed 3 times" in message
    assert server.base_url in message
    assert "HTTP 503" in message and "overloaded" in message
    assert [notice.attempt for notice in notices] == [1, 2]
    assert len(server.requests) == 3
    assert server.pending == 0


def test_without_retry_after_the_wait_doubles(server: ModelServer) -> None:
    server.script(error_reply(500, "oops"), error_reply(502, "oops"), chat_text("ok"))
    stop = _SleepRecorder()
    notices: list[RetryNotice] = []
    client = _client(server.base_url, stop=stop, notices=notices, max_retries=3)
    assert _ask(client).choices[0].message.content == "ok"
    assert [notice.wait_seconds for notice in notices] == [0.5, 1.0]
    assert stop.slept == [0.5, 1.0]


def test_a_rejected_key_fails_at_once_and_never_shows_the_key(server: ModelServer) -> None:
    server.script(error_reply(401, f"Incorrect API key provided: {KEY}."), chat_text("unused"))
    notices: list[RetryNotice] = []
    started = time.monotonic()
    with pytest.raises(ModelError) as raised:
        _ask(_client(server.base_url, notices=notices))

    assert time.monotonic() - started < 2.0
    message = str(raised.value)
    assert "HTTP 401" in message
    assert server.base_url in message
    assert "Incorrect API key provided" in message
    assert KEY not in message
    assert notices == []
    assert len(server.requests) == 1


def test_a_retried_error_never_shows_the_key_either(server: ModelServer) -> None:
    server.script(*[error_reply(500, f"upstream refused {KEY}", retry_after=0)] * 2)
    notices: list[RetryNotice] = []
    with pytest.raises(ModelError) as raised:
        _ask(_client(server.base_url, notices=notices, max_retries=1))
    assert "upstream refused [secret]" in str(raised.value)
    assert KEY not in str(raised.value)
    assert [KEY in notice.reason for notice in notices] == [False]


def test_an_unknown_model_fails_at_once(server: ModelServer) -> None:
    server.script(error_reply(404, "The model `gpt-9` does not exist"))
    with pytest.raises(ModelError, match=r"HTTP 404.*gpt-9"):
        _ask(_client(server.base_url))
    assert len(server.requests) == 1


def test_a_refused_connection_names_the_url_and_is_not_retried() -> None:
    base_url = f"http://127.0.0.1:{_closed_port()}/v1"
    notices: list[RetryNotice] = []
    started = time.monotonic()
    with pytest.raises(ModelError) as raised:
        _ask(_client(base_url, notices=notices, max_retries=5))

    assert time.monotonic() - started < 3.0
    assert str(raised.value).startswith(f"cannot reach the model at {base_url}")
    assert notices == []


def test_no_answer_within_the_timeout_is_retried(server: ModelServer) -> None:
    server.script(Hang(10), chat_text("late but fine"))
    notices: list[RetryNotice] = []
    started = time.monotonic()
    completion = _ask(_client(server.base_url, notices=notices, timeout_seconds=0.5))

    assert completion.choices[0].message.content == "late but fine"
    (notice,) = notices
    assert notice.attempt == 1
    assert "no answer within 0.5s" in notice.reason
    assert time.monotonic() - started < 4.0
    assert len(server.requests) == 2


def test_a_stop_during_a_retry_wait_ends_the_call_quickly(server: ModelServer) -> None:
    server.script(error_reply(429, "slow down", retry_after=30), chat_text("unused"))
    stop = StopToken()
    notices: list[RetryNotice] = []
    client = _client(server.base_url, stop=stop, notices=notices)

    def stop_once_waiting() -> None:
        deadline = time.monotonic() + 5
        while not notices and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # well into the 30 s wait
        stop.stop("boss said stop")

    stopper = threading.Thread(target=stop_once_waiting)
    stopper.start()
    started = time.monotonic()
    try:
        with pytest.raises(Stopped, match="boss said stop"):
            _ask(client)
    finally:
        stopper.join(5)
    assert time.monotonic() - started < 2.0
    assert [notice.wait_seconds for notice in notices] == [30.0]
    assert len(server.requests) == 1
    assert server.pending == 1


def test_a_stopped_token_makes_no_request(server: ModelServer) -> None:
    stop = StopToken()
    stop.stop()
    with pytest.raises(Stopped):
        _ask(_client(server.base_url, stop=stop))
    assert server.requests == []


def test_the_official_url_without_a_key_asks_for_one() -> None:
    with pytest.raises(ConfigError, match="set OPENAI_API_KEY"):
        _client("https://api.openai.com/v1", environ={})
    with pytest.raises(ConfigError, match="set OPENAI_API_KEY"):
        ModelClient(Profile(), StopToken(), environ={})


def test_a_custom_key_variable_is_named_in_the_message() -> None:
    profile = Profile(api_key_env="MY_OPENAI_KEY")
    with pytest.raises(ConfigError, match="set MY_OPENAI_KEY"):
        ModelClient(profile, StopToken(), environ={"OPENAI_API_KEY": "sk-wrong-variable"})


def test_a_local_server_needs_no_key(server: ModelServer) -> None:
    server.script(chat_text("hi"))
    client = _client(server.base_url, environ={})
    assert _ask(client).choices[0].message.content == "hi"
    assert server.requests[0].headers["authorization"] == "Bearer not-needed"


def test_openai_base_url_from_the_environment_is_used(server: ModelServer) -> None:
    server.script(chat_text("hi"))
    client = ModelClient(Profile(), StopToken(), environ={"OPENAI_BASE_URL": server.base_url})
    assert client.base_url == server.base_url
    assert _ask(client).choices[0].message.content == "hi"
    assert len(server.requests) == 1


def test_the_sdk_does_not_retry_on_its_own(server: ModelServer) -> None:
    client = _client(server.base_url)
    assert client.openai.max_retries == 0
    server.script(error_reply(503, "busy"))
    with pytest.raises(openai.InternalServerError):
        client.openai.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "x"}]
        )
    assert len(server.requests) == 1


def test_no_request_leaves_with_a_secret_value_whatever_the_policy_put_in_it(
    server: ModelServer,
) -> None:
    secret = "hunter2-パスワード"
    server.script(chat_text("ok"))
    profile = Profile(base_url=server.base_url, max_retries=0, timeout_seconds=5)
    client = ModelClient(profile, StopToken(), environ={}, secrets={"MAIL_PASSWORD": secret})
    # What a set-of-marks list or a field's text on the screen could bring into a request.
    marks = f"[3] entry 'Password' showing {secret!r}; [4] label '{secret}{secret}'"
    client.call(
        lambda api: api.chat.completions.create(
            model="m", messages=[{"role": "user", "content": [{"type": "text", "text": marks}]}]
        )
    )
    sent = server.requests[-1].body["messages"][0]["content"][0]["text"]
    assert sent == (
        "[3] entry 'Password' showing '{MAIL_PASSWORD}'; [4] label '{MAIL_PASSWORD}{MAIL_PASSWORD}'"
    )
