"""The one way Shain calls a model endpoint: the `openai` client, with Shain's own retries.

The SDK's built-in retries are off (`max_retries=0`) so that every retry is announced (and
logged) and waits through the stop token: 429, 5xx and timeouts are retried with backoff,
honouring `Retry-After`; a refused connection before any answer, a rejected key or an unknown
model end the run at once with a message naming the URL.
"""

from __future__ import annotations

import email.utils
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import openai
from openai._legacy_response import LegacyAPIResponse

from agent.config.credentials import stored_key
from agent.config.profiles import Profile
from agent.errors import ConfigError, ModelError
from agent.policy.placeholders import PlaceholderTransport
from agent.stop import StopToken

T = TypeVar("T")
OPENAI_URL = "https://api.openai.com/v1"
_MAX_WAIT_SECONDS = 60.0
_STOP_POLL_SECONDS = 0.02  # how often a wait for the server looks at the stop token


class _UnreadableBody(Exception):
    """A 200 whose body is not JSON (a proxy's error page, a cut connection)."""


@dataclass(frozen=True, slots=True)
class RetryNotice:
    attempt: int  # 1 for the first retry
    reason: str
    wait_seconds: float


def _retry_after(error: openai.APIStatusError) -> float | None:
    value = error.response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None  # unreadable: fall back to the usual backoff
    return max(0.0, parsed.timestamp() - time.time())


class ModelClient:
    def __init__(
        self,
        profile: Profile,
        stop: StopToken,
        *,
        environ: Mapping[str, str] | None = None,
        on_retry: Callable[[RetryNotice], None] | None = None,
        secrets: Mapping[str, str] | None = None,
    ) -> None:
        environment = os.environ if environ is None else environ
        self.base_url = profile.base_url or environment.get("OPENAI_BASE_URL") or OPENAI_URL
        key = environment.get(profile.api_key_env) or stored_key(profile.api_key_env)
        if not key:
            if self.base_url.rstrip("/") == OPENAI_URL:
                raise ConfigError(f"set {profile.api_key_env} to your OpenAI API key")
            key = "not-needed"  # local servers (Ollama, vLLM, LM Studio) take any key
        self.api_key = key
        self.profile = profile
        self.stop = stop
        self.on_retry = on_retry
        self.openai = openai.OpenAI(
            base_url=self.base_url,
            api_key=key,
            timeout=profile.timeout_seconds,
            max_retries=0,
            # Every request through the one door that writes secrets as their placeholders.
            http_client=openai.DefaultHttpxClient(transport=PlaceholderTransport(secrets or {})),
        )
        self._answered = False

    def call(self, request: Callable[[openai.OpenAI], T]) -> T:
        """Run one API request with retries; raises ModelError when it cannot succeed."""
        attempt = 0
        while True:
            self.stop.raise_if_stopped()
            try:
                result = self._while_not_stopped(request)
            except openai.APIConnectionError as error:
                timed_out = isinstance(error, openai.APITimeoutError)
                if not timed_out and not self._answered:
                    raise ModelError(
                        f"cannot reach the model at {self.base_url}: {error.__cause__ or error}"
                    ) from None
                reason = (
                    f"no answer within {self.profile.timeout_seconds:g}s"
                    if timed_out
                    else f"connection failed: {error}"
                )
                wait = None
            except openai.APIStatusError as error:
                if error.status_code != 429 and error.status_code < 500:
                    raise ModelError(self._describe(error)) from None
                reason, wait = self._describe(error), _retry_after(error)
            except _UnreadableBody as error:
                reason, wait = str(error), None
            else:
                self._answered = True
                return result
            attempt += 1
            if attempt > self.profile.max_retries:
                raise ModelError(
                    f"the model at {self.base_url} failed {attempt} times; last: {reason}"
                )
            delay = min(wait if wait is not None else 0.5 * 2 ** (attempt - 1), _MAX_WAIT_SECONDS)
            if self.on_retry is not None:
                self.on_retry(RetryNotice(attempt, reason, delay))
            self.stop.sleep(delay)

    def call_json(self, request: Callable[[openai.OpenAI], LegacyAPIResponse[Any]]) -> Any:
        """A raw request's body as JSON, with the retries of `call`.

        Replies are read as JSON rather than through the SDK's typed parse, so a reply of
        the wrong shape reaches the policy (which rejects it) instead of crashing the run. A
        body that is not JSON at all is the transport's fault and is retried like a 5xx.
        """

        def read(client: openai.OpenAI) -> Any:
            response = request(client).http_response
            try:
                return response.json()
            except ValueError:
                shown = response.text[:80]
                raise _UnreadableBody(
                    f"the answer from {self.base_url} is not JSON: {shown!r}"
                ) from None

        return self.call(read)

    def _while_not_stopped(self, request: Callable[[openai.OpenAI], T]) -> T:
        """The request on its own thread, so that a stop lands at once even while a server
        takes its time to answer; the abandoned request ends with its own timeout."""
        outcome: list[T] = []
        failure: list[BaseException] = []
        answered = threading.Event()

        def send() -> None:
            try:
                outcome.append(request(self.openai))
            except BaseException as error:  # handed to the run's thread as it is
                failure.append(error)
            finally:
                answered.set()

        threading.Thread(target=send, name="model-request", daemon=True).start()
        while not answered.wait(_STOP_POLL_SECONDS):
            self.stop.raise_if_stopped()
        if failure:
            raise failure[0]
        return outcome[0]

    def _describe(self, error: openai.APIStatusError) -> str:
        message = str(error.message).replace(self.api_key, "[secret]")
        return f"HTTP {error.status_code} from {self.base_url}: {message}"
