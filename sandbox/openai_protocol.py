"""The OpenAI Chat Completions protocol as the sandbox serves it: request and response models, and
the `ChatBackend` seam a chat model plugs into.

The HTTP layer (`sandbox/vendors/openai_api.py`) validates a request into `ChatCompletionRequest`,
hands it to the `ChatBackend` found at `app.state.chat_backend` and renders the backend's
`ChatCompletionResult` as a `chat.completion` object or a stream of `chat.completion.chunk`s.
The backend lives in `agent/` (the sandbox may not import the agent), see
`agent.openai_compat.LangChainChatBackend`.

Validation follows the real API closely enough that a request the sandbox accepts is one OpenAI
accepts too: cross-field rules (a `tool` message answers a preceding tool call, every tool call
gets an answer, `tool_choice` names a declared tool ...) raise `PydanticCustomError`s whose context
carries the offending `field`, so the HTTP layer can name the parameter as OpenAI does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

Role = Literal["system", "developer", "user", "assistant", "tool"]
FinishReason = Literal["stop", "length", "tool_calls", "content_filter"]
TOOL_NAME_PATTERN = r"^[a-zA-Z0-9_-]{1,64}$"


def invalid(message: str, field: str | None = None, code: str = "invalid_value") -> PydanticCustomError:
    """A validation error naming `field` (relative to where it is raised) for the error's `param`."""
    # Braces would be read as template placeholders by pydantic-core.
    safe = message.replace("{", "(").replace("}", ")")
    return PydanticCustomError(code, safe, {"openai_error": True, "field": field or ""})


def _text_of(value: Any, field: str) -> Any:
    """Content as a string: text parts are joined, anything else but a string or null is refused."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        texts = []
        for index, part in enumerate(value):
            if not isinstance(part, dict) or part.get("type") not in {"text", "refusal"}:
                raise invalid(
                    f"Invalid value for '{field}[{index}]': the sandbox's model reads only content parts of "
                    "type 'text'."
                )
            text = part.get("text", part.get("refusal"))
            if not isinstance(text, str):
                raise invalid(
                    f"Invalid type for '{field}[{index}].text': expected a string.", code="invalid_type"
                )
            texts.append(text)
        return "".join(texts)
    raise invalid(
        f"Invalid type for '{field}': expected one of a string or array of objects, but got "
        f"{type(value).__name__} instead.",
        code="invalid_type",
    )


# --------------------------------------------------------------------------- request


class FunctionCall(BaseModel):
    """A function call as the model made it: `arguments` is a JSON string (possibly invalid)."""

    model_config = ConfigDict(extra="ignore")

    name: str
    arguments: str


class ToolCall(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class ChatMessage(BaseModel):
    """One message of the conversation, any role (`developer` is the newer name of `system`)."""

    model_config = ConfigDict(extra="ignore")

    role: Role
    content: str | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = Field(None, description="Assistant messages only.")
    tool_call_id: str | None = Field(None, description="Tool messages only: the call answered.")

    @field_validator("content", mode="before")
    @classmethod
    def _join_text_parts(cls, value: Any) -> Any:
        return _text_of(value, "content")

    @model_validator(mode="after")
    def _check_role_fields(self) -> ChatMessage:
        if self.role == "assistant":
            if self.content is None and not self.tool_calls:
                raise invalid(
                    "Invalid value for 'content': expected a string, got null "
                    "(an assistant message needs content or tool_calls).",
                    "content",
                )
        elif self.content is None:
            raise invalid("Missing required parameter: 'content'.", "content", "missing_required_parameter")
        if self.role == "tool" and not self.tool_call_id:
            raise invalid(
                "Missing required parameter: 'tool_call_id'.", "tool_call_id", "missing_required_parameter"
            )
        if self.role != "assistant" and self.tool_calls:
            raise invalid(f"Unrecognized parameter 'tool_calls' for a '{self.role}' message.", "tool_calls")
        return self


class FunctionDefinition(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = Field(pattern=TOOL_NAME_PATTERN)
    description: str | None = None
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})
    strict: bool | None = None


class ToolDefinition(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["function"]
    function: FunctionDefinition


class FunctionName(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str


class NamedToolChoice(BaseModel):
    """`{"type": "function", "function": {"name": ...}}`: the model must call that tool."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["function"]
    function: FunctionName


ToolChoice = Literal["auto", "none", "required"] | NamedToolChoice


class JsonSchemaFormat(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    name: str = Field(pattern=TOOL_NAME_PATTERN)
    description: str | None = None
    # `schema` would shadow a BaseModel attribute, hence the alias.
    schema_: dict[str, Any] = Field(default_factory=dict, alias="schema")
    strict: bool | None = None


class ResponseFormat(BaseModel):
    """`{"type": "text"}`, `{"type": "json_object"}` or `{"type": "json_schema", "json_schema": ...}`."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None

    @model_validator(mode="after")
    def _schema_given(self) -> ResponseFormat:
        if self.type == "json_schema" and self.json_schema is None:
            raise invalid(
                "Missing required parameter: 'json_schema'.", "json_schema", "missing_required_parameter"
            )
        return self


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    """A `POST /chat/completions` body: the parameters the sandbox understands.

    Parameters it has no use for (`seed`, `user`, `top_p`, penalties, `metadata`, ...) are accepted
    and ignored, as OpenAI-compatible servers do, so any client runs unchanged.
    """

    model_config = ConfigDict(extra="ignore")

    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    tools: list[ToolDefinition] | None = None
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    n: int | None = None
    stop: list[str] | None = None

    @field_validator("tool_choice", mode="before")
    @classmethod
    def _tool_choice_shape(cls, value: Any) -> Any:
        if value is None or value in ("auto", "none", "required"):
            return value
        if isinstance(value, dict) and value.get("type") == "function":
            return value
        raise invalid(
            "Invalid value for 'tool_choice': expected 'auto', 'none', 'required' or an object with "
            "type 'function' and function.name."
        )

    @field_validator("stop", mode="before")
    @classmethod
    def _stop_as_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [value]
        if value is None or (isinstance(value, list) and all(isinstance(item, str) for item in value)):
            return value
        raise invalid(
            "Invalid type for 'stop': expected a string or an array of strings.", code="invalid_type"
        )

    @model_validator(mode="after")
    def _check_consistency(self) -> ChatCompletionRequest:
        if self.n is not None and self.n != 1:
            raise invalid("Invalid value for 'n': the sandbox's model returns exactly one choice (n=1).", "n")
        if self.stream_options is not None and not self.stream:
            raise invalid(
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options"
            )
        self._check_tool_choice()
        self._check_tool_answers()
        wants_json_object = self.response_format is not None and self.response_format.type == "json_object"
        if wants_json_object and not any(
            "json" in (message.content or "").lower() for message in self.messages
        ):
            raise invalid(
                "'messages' must contain the word 'json' in some form, to use 'response_format' of type "
                "'json_object'.",
                "messages",
            )
        return self

    def _check_tool_choice(self) -> None:
        if self.tool_choice is None or self.tool_choice == "none":
            return
        if not self.tools:
            raise invalid(
                "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
                "tool_choice",
            )
        if isinstance(self.tool_choice, NamedToolChoice):
            wanted = self.tool_choice.function.name
            if wanted not in {tool.function.name for tool in self.tools}:
                raise invalid(
                    f"Invalid value for 'tool_choice': no function named '{wanted}' in 'tools'.",
                    "tool_choice",
                )

    def _check_tool_answers(self) -> None:
        """Tool messages answer the tool calls just before them, and every call gets an answer."""
        pending: dict[str, int] = {}  # tool call id -> index of the assistant message that made it
        for index, message in enumerate(self.messages):
            if message.role == "tool":
                if message.tool_call_id not in pending:
                    raise invalid(
                        "Invalid parameter: messages with role 'tool' must be a response to a preceding "
                        "message with 'tool_calls'.",
                        f"messages[{index}].role",
                    )
                del pending[message.tool_call_id]
                continue
            self._raise_unanswered(pending)
            if message.role == "assistant" and message.tool_calls:
                pending = {call.id: index for call in message.tool_calls}
        self._raise_unanswered(pending)

    @staticmethod
    def _raise_unanswered(pending: dict[str, int]) -> None:
        if pending:
            index = min(pending.values())
            raise invalid(
                "An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                f"'tool_call_id'. The following tool_call_ids did not have response messages: "
                f"{', '.join(pending)}",
                f"messages[{index}].role",
            )

    @property
    def output_token_limit(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens

    @property
    def include_usage_in_stream(self) -> bool:
        return self.stream_options is not None and self.stream_options.include_usage


# --------------------------------------------------------------------------- what a backend returns


class Usage(BaseModel):
    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)
    total_tokens: int = Field(ge=0)

    @classmethod
    def of(cls, prompt_tokens: int, completion_tokens: int) -> Usage:
        return cls(
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            total_tokens=prompt_tokens + completion_tokens,
        )


class ToolCallResult(BaseModel):
    """A tool call the model made; the endpoint assigns an id when the backend has none."""

    id: str | None = None
    name: str
    arguments: str = Field("{}", description="JSON text of the arguments, as OpenAI sends it.")


class ChatCompletionResult(BaseModel):
    """One completion, protocol-neutral: the endpoint renders it as a completion or as chunks."""

    content: str | None = None
    tool_calls: list[ToolCallResult] = Field(default_factory=list)
    finish_reason: FinishReason = Field(
        "stop", description="`tool_calls` when omitted and tools were called."
    )
    usage: Usage

    @model_validator(mode="before")
    @classmethod
    def _derive_finish_reason(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("finish_reason") is None and data.get("tool_calls"):
            return {**data, "finish_reason": "tool_calls"}
        return data


class ChatBackend(Protocol):
    """What answers chat completions: set an implementation at `app.state.chat_backend`."""

    @property
    def model_ids(self) -> Sequence[str]:
        """Model names this backend answers to (`GET /models`; anything else is a 404)."""
        ...

    async def complete(self, request: ChatCompletionRequest) -> ChatCompletionResult:
        """The assistant's reply to a validated request."""
        ...


# --------------------------------------------------------------------------- responses (wire shapes)


class _OmitNone(BaseModel):
    """Serialises without its null fields: stream deltas carry only what changed."""

    @model_serializer(mode="wrap")
    def _drop_nulls(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {key: value for key, value in data.items() if value is not None}


class ResponseMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str | None
    refusal: str | None = None
    tool_calls: list[ToolCall] | None = None

    @model_serializer(mode="wrap")
    def _omit_missing_tool_calls(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # OpenAI sends `"content": null` beside tool calls but no `tool_calls` key without them.
        data: dict[str, Any] = handler(self)
        if data.get("tool_calls") is None:
            data.pop("tool_calls", None)
        return data


class Choice(BaseModel):
    index: int = 0
    message: ResponseMessage
    logprobs: None = None
    finish_reason: FinishReason


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage
    system_fingerprint: str | None = None


class ChunkFunction(_OmitNone):
    name: str | None = None
    arguments: str | None = None


class ChunkToolCall(_OmitNone):
    index: int
    id: str | None = None
    type: Literal["function"] | None = None
    function: ChunkFunction | None = None


class ChoiceDelta(_OmitNone):
    role: Literal["assistant"] | None = None
    content: str | None = None
    tool_calls: list[ChunkToolCall] | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: ChoiceDelta
    logprobs: None = None
    finish_reason: FinishReason | None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    system_fingerprint: str | None = None
    usage: Usage | None = None

    @model_serializer(mode="wrap")
    def _omit_missing_usage(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if data.get("usage") is None:
            data.pop("usage", None)
        return data


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "sandbox"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


def chunk_tool_calls(calls: Sequence[ToolCall], piece: int = 24) -> list[ChunkToolCall]:
    """Tool-call deltas as OpenAI streams them: id, type and name first, then the arguments in pieces."""
    deltas: list[ChunkToolCall] = []
    for index, call in enumerate(calls):
        deltas.append(
            ChunkToolCall(
                index=index,
                id=call.id,
                type="function",
                function=ChunkFunction(name=call.function.name, arguments=""),
            )
        )
        arguments = call.function.arguments
        for start in range(0, len(arguments), piece):
            deltas.append(
                ChunkToolCall(index=index, function=ChunkFunction(arguments=arguments[start : start + piece]))
            )
    return deltas
