"""A fake held to its platform's published OpenAPI: openapi-core reads every request the fake
gets and every successful answer it gives, so that a publisher is never tested against a
request the platform would refuse or an answer shape it never sends."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from functools import cache
from pathlib import Path

from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from starlette.requests import Request
from starlette.responses import Response


@cache
def _load(path: Path) -> OpenAPI:
    # Published specs carry slips strict spec validation rejects (X's duplicated enum value);
    # validating requests and answers against them is unaffected.
    return OpenAPI.from_dict(json.loads(path.read_text()), config=Config(spec_validator_cls=None))


def _cause(error: Exception) -> Exception:
    return getattr(error, "__cause__", None) or error


class Contract:
    """The OpenAPI at `path`, for an API served at `origin`; `excused` passes over a request
    error the document makes by mistake (its cause given)."""

    def __init__(
        self,
        path: Path,
        origin: str,
        excused: Callable[[Exception], bool] = lambda cause: False,
    ) -> None:
        self.path = path
        self.origin = origin
        self.excused = excused

    def load(self) -> None:
        """Read the document now (a fake does it before serving, not on its first request)."""
        _load(self.path)

    def _mock(self, request: Request, body: bytes) -> MockRequest:
        return MockRequest(
            self.origin,
            request.method.lower(),
            request.url.path,
            args=dict(request.query_params),
            data=body or None,
            content_type=request.headers.get("content-type", "application/json"),
            headers=dict(request.headers),
        )

    def request_problem(self, request: Request, body: bytes) -> str | None:
        """What the document refuses in the request, or None."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Unsupported scheme type" for OAuth2 security
            result = _load(self.path).unmarshal_request(self._mock(request, body))
        causes = [repr(c) for e in result.errors if not self.excused(c := _cause(e))]
        if not causes:
            return None
        return f"{request.method} {request.url.path}: {'; '.join(causes)}"

    def answer_problems(self, request: Request, body: bytes, response: Response) -> list[str]:
        """What the document refuses in the fake's own answer to `request` (none or one)."""
        answer = MockResponse(
            bytes(response.body), response.status_code, content_type="application/json"
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = _load(self.path).unmarshal_response(self._mock(request, body), answer)
        if not result.errors:
            return []
        causes = [repr(_cause(e)) for e in result.errors]
        return [f"answer to {request.url.path}: {'; '.join(causes)}"]
