"""OpenAI-compatible Chat Completions, mounted at `/openai/v1` (DESIGN.md §4, issue 5).

`POST /chat/completions` (plain and `stream: true`), `GET /models` and `GET /models/{id}`, with
OpenAI's auth (`Authorization: Bearer sk-sandbox`), error bodies (`{"error": {"message", "type",
"param", "code"}}`) and status codes, so the official `openai` SDK and `langchain-openai` run
against it unchanged. The HTTP protocol only: the reply comes from the `ChatBackend` at
`app.state.chat_backend` (the agent attaches its offline model there, see
`agent.openai_compat.attach_chat_backend`); without one, calls answer 503.

Faults injected for vendor `openai` (429 with Retry-After, 500, delay, malformed body) are applied
by the sandbox app's middleware before these routes run.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
from collections.abc import AsyncIterator, Iterator

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from sandbox.http import WorldDep, require_openai, vendor_error_body
from sandbox.openai_protocol import (
    ChatBackend,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatCompletionResult,
    ChoiceDelta,
    ChunkChoice,
    FinishReason,
    FunctionCall,
    ModelCard,
    ModelList,
    ResponseMessage,
    ToolCall,
    chunk_tool_calls,
)
from sandbox.openai_protocol import Choice as CompletionChoice

VENDOR = "openai"
SYSTEM_FINGERPRINT = "fp_sandbox"
NOT_JSON = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your "
    "HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)"
)
NO_BACKEND = (
    "The sandbox's offline model is not attached to this server, so it cannot answer chat completions. "
    "Attach one with agent.openai_compat.attach_chat_backend(sandbox_app, model)."
)

logger = logging.getLogger(__name__)
router = APIRouter(dependencies=[Depends(require_openai)])


class OpenAIError(Exception):
    """An error answered in OpenAI's shape, with the parameter at fault when there is one."""

    def __init__(
        self, status: int, message: str, *, param: str | None = None, code: str | None = None
    ) -> None:
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        super().__init__(message)

    def response(self, request_id: str) -> JSONResponse:
        body = vendor_error_body(VENDOR, self.status, self.message, code=self.code)
        body["error"]["param"] = self.param
        return JSONResponse(body, status_code=self.status, headers={"x-request-id": request_id})


# --------------------------------------------------------------------------- routes


@router.get("/models")
async def list_models(request: Request, world: WorldDep) -> Response:
    request_id = _next_id(request, "req")
    try:
        backend = _backend(request)
    except OpenAIError as error:
        return error.response(request_id)
    created = int(world.now().timestamp())
    listing = ModelList(data=[ModelCard(id=model_id, created=created) for model_id in backend.model_ids])
    return JSONResponse(listing.model_dump(mode="json"), headers={"x-request-id": request_id})


@router.get("/models/{model_id}")
async def retrieve_model(model_id: str, request: Request, world: WorldDep) -> Response:
    request_id = _next_id(request, "req")
    try:
        _check_model(_backend(request), model_id)
    except OpenAIError as error:
        return error.response(request_id)
    card = ModelCard(id=model_id, created=int(world.now().timestamp()))
    return JSONResponse(card.model_dump(mode="json"), headers={"x-request-id": request_id})


@router.post("/chat/completions")
async def create_chat_completion(request: Request, world: WorldDep) -> Response:
    request_id = _next_id(request, "req")
    try:
        completion_request = _parse_request(await request.body())
        backend = _backend(request)
        _check_model(backend, completion_request.model)
        result = await _complete(backend, completion_request)
    except OpenAIError as error:
        return error.response(request_id)
    completion_id = _next_id(request, "chatcmpl")
    created = int(world.now().timestamp())
    message = _message_of(result, completion_id)
    headers = {"x-request-id": request_id}
    if completion_request.stream:
        chunks = _stream_chunks(completion_request, result, message, completion_id, created)
        return StreamingResponse(
            _sse(chunks), media_type="text/event-stream", headers={**headers, "Cache-Control": "no-cache"}
        )
    completion = ChatCompletion(
        id=completion_id,
        created=created,
        model=completion_request.model,
        choices=[CompletionChoice(message=message, finish_reason=result.finish_reason)],
        usage=result.usage,
        system_fingerprint=SYSTEM_FINGERPRINT,
    )
    return JSONResponse(completion.model_dump(mode="json"), headers=headers)


# --------------------------------------------------------------------------- request handling


def _parse_request(raw: bytes) -> ChatCompletionRequest:
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise OpenAIError(400, NOT_JSON) from None
    if not isinstance(body, dict):
        raise OpenAIError(
            400, f"Invalid type for body: expected an object, but got {type(body).__name__} instead."
        )
    try:
        return ChatCompletionRequest.model_validate(body)
    except ValidationError as error:
        raise _as_openai_error(error.errors()[0]) from None


def _as_openai_error(detail: ErrorDetails) -> OpenAIError:
    """The first validation error in OpenAI's words, naming the parameter like `messages[1].content`."""
    param = _param_path(detail["loc"])
    ctx = detail.get("ctx") or {}
    kind = detail["type"]
    if ctx.get("openai_error"):  # raised by the protocol models, already in OpenAI's words
        field = ctx.get("field")
        if field:
            param = f"{param}.{field}" if param else str(field)
        return OpenAIError(400, detail["msg"], param=param or None, code=kind)
    if kind == "missing":
        return OpenAIError(
            400, f"Missing required parameter: '{param}'.", param=param, code="missing_required_parameter"
        )
    if kind.endswith(("_type", "_parsing")):
        return OpenAIError(
            400, f"Invalid type for '{param}': {detail['msg']}.", param=param, code="invalid_type"
        )
    return OpenAIError(
        400, f"Invalid value for '{param}': {detail['msg']}.", param=param or None, code="invalid_value"
    )


def _param_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _backend(request: Request) -> ChatBackend:
    backend: ChatBackend | None = getattr(request.app.state, "chat_backend", None)
    if backend is None:
        raise OpenAIError(503, NO_BACKEND, code="model_not_attached")
    return backend


def _check_model(backend: ChatBackend, model: str) -> None:
    if model not in backend.model_ids:
        raise OpenAIError(
            404,
            f"The model `{model}` does not exist or you do not have access to it.",
            code="model_not_found",
        )


async def _complete(backend: ChatBackend, request: ChatCompletionRequest) -> ChatCompletionResult:
    try:
        return await backend.complete(request)
    except Exception as error:  # the HTTP boundary: any backend failure becomes OpenAI's 500
        # The exception text may quote the conversation, so only its type is logged.
        logger.error("chat backend failed: %s", type(error).__name__)
        raise OpenAIError(500, "The model failed to produce a completion. Retry the request.") from error


def _next_id(request: Request, prefix: str) -> str:
    """Sequential ids per sandbox app: deterministic, and kept out of the World (not business state)."""
    counter: Iterator[int] | None = getattr(request.app.state, "openai_serial", None)
    if counter is None:
        counter = itertools.count(1)
        request.app.state.openai_serial = counter
    return f"{prefix}-sandbox{next(counter):012d}"


# --------------------------------------------------------------------------- responses


def _message_of(result: ChatCompletionResult, completion_id: str) -> ResponseMessage:
    serial = completion_id.rsplit("sandbox", 1)[-1]
    calls = [
        ToolCall(
            id=call.id or f"call_{serial}_{index}",
            function=FunctionCall(name=call.name, arguments=call.arguments),
        )
        for index, call in enumerate(result.tool_calls)
    ]
    return ResponseMessage(content=result.content, tool_calls=calls or None)


def _stream_chunks(
    request: ChatCompletionRequest,
    result: ChatCompletionResult,
    message: ResponseMessage,
    completion_id: str,
    created: int,
) -> list[ChatCompletionChunk]:
    """The completion as OpenAI streams it: role, content pieces, tool-call pieces, finish, usage."""

    def chunk(delta: ChoiceDelta, finish_reason: FinishReason | None = None) -> ChatCompletionChunk:
        return ChatCompletionChunk(
            id=completion_id,
            created=created,
            model=request.model,
            system_fingerprint=SYSTEM_FINGERPRINT,
            choices=[ChunkChoice(delta=delta, finish_reason=finish_reason)],
        )

    chunks = [chunk(ChoiceDelta(role="assistant", content="" if message.content is not None else None))]
    for piece in re.findall(r"\s*\S+|\s+", message.content or ""):
        chunks.append(chunk(ChoiceDelta(content=piece)))
    for call_delta in chunk_tool_calls(message.tool_calls or []):
        chunks.append(chunk(ChoiceDelta(tool_calls=[call_delta])))
    chunks.append(chunk(ChoiceDelta(), result.finish_reason))
    if request.include_usage_in_stream:
        chunks.append(
            ChatCompletionChunk(
                id=completion_id,
                created=created,
                model=request.model,
                system_fingerprint=SYSTEM_FINGERPRINT,
                choices=[],
                usage=result.usage,
            )
        )
    return chunks


async def _sse(chunks: list[ChatCompletionChunk]) -> AsyncIterator[bytes]:
    for item in chunks:
        yield f"data: {json.dumps(item.model_dump(mode='json'), separators=(',', ':'))}\n\n".encode()
    yield b"data: [DONE]\n\n"
