"""The graph's typed state and the classifier's typed result."""

from __future__ import annotations

import functools
import json
import operator
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal, TypedDict, cast, get_origin, get_type_hints

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from pydantic import BaseModel, Field, field_validator
from pydantic.json_schema import DEFAULT_REF_TEMPLATE, GenerateJsonSchema, JsonSchemaMode

from agent import intents
from agent.intents import Intent

Status = Literal["active", "awaiting_confirmation", "awaiting_approval", "human_handling", "closed"]


def _one_of_the_intents(schema: dict[str, Any]) -> None:
    # Read when the schema is generated (each classification), so a registered intent is offered.
    schema["enum"] = list(intents.names())
    schema["description"] = intents.classifier_guide() + "."


def _intents_enum(schema: dict[str, Any]) -> None:
    schema["items"] = {"type": "string", "enum": list(intents.names())}


class IntentResult(BaseModel):
    """What the shopper wants, from the latest message (structured output of `classify`)."""

    intent: Intent = Field(json_schema_extra=_one_of_the_intents)
    confidence: float = Field(ge=0, le=1, description="How sure, from 0 to 1.")
    additional_intents: list[Intent] = Field(
        default_factory=list,
        description="Further distinct requests in the same message, in the order asked (usually empty).",
        json_schema_extra=_intents_enum,
    )
    order_number: str | None = Field(None, description="An order number in the message, digits only.")
    email: str | None = Field(None, description="An email address in the message.")

    @classmethod
    def model_json_schema(
        cls,
        by_alias: bool | None = None,
        ref_template: str = DEFAULT_REF_TEMPLATE,
        schema_generator: type[GenerateJsonSchema] = GenerateJsonSchema,
        mode: JsonSchemaMode = "validation",
        *,
        union_format: Literal["any_of", "primitive_type_array"] = "any_of",
    ) -> dict[str, Any]:
        """The schema, generated once per registry content and arguments.

        LangChain asks for it on every classification (for its tracing metadata), and generating it
        costs about as much CPU as the offline model's whole answer; callers get their own copy."""
        key = (
            intents.names(),
            intents.classifier_guide(),
            by_alias,
            ref_template,
            schema_generator,
            mode,
            union_format,
        )
        schema = _SCHEMAS.get(key)
        if schema is None:
            schema = super().model_json_schema(
                by_alias, ref_template, schema_generator, mode, union_format=union_format
            )
            if len(_SCHEMAS) > 16:  # the registry changes in tests only; keep the cache small
                _SCHEMAS.clear()
            _SCHEMAS[key] = schema
        # A JSON schema is plain JSON: a round trip through the C encoder copies it ~10× faster than
        # `copy.deepcopy` (LangChain pops keys from the copy it gets).
        return cast(dict[str, Any], json.loads(json.dumps(schema)))

    @field_validator("intent")
    @classmethod
    def _known(cls, value: str) -> str:
        if intents.get(value) is None:
            raise ValueError(f"unknown intent {value!r}; one of {', '.join(intents.names())}")
        return value

    @field_validator("additional_intents")
    @classmethod
    def _known_only(cls, value: list[str]) -> list[str]:
        return [v for v in value if intents.get(v) is not None]  # a stray extra is dropped, not fatal


_SCHEMAS: dict[tuple[Any, ...], dict[str, Any]] = {}


def merge_dicts(left: dict[str, Any] | None, right: dict[str, Any] | None) -> dict[str, Any]:
    """Reducer for the action ledger: entries are only ever added."""
    return {**(left or {}), **(right or {})}


def keep_last(left: Any, right: Any) -> Any:
    return right


class AgentState(TypedDict, total=False):
    """Everything a conversation is. Checkpointed after every node."""

    messages: Annotated[list[AnyMessage], add_messages]
    conversation_id: str
    customer: dict[str, Any] | None
    intent: Intent | None
    intent_confidence: float
    language: str  # the shopper's (en, es, fr, de), as of the latest classified message
    pending_intents: list[Intent]
    turn_intents: list[Intent]
    status: Status
    ticket_id: str | None
    ledger: Annotated[dict[str, Any], merge_dicts]
    verification_attempts: Annotated[int, operator.add]
    escalation: str | None
    pending_approval: dict[str, Any] | None
    """A refund waiting for the team: `tools.context.PendingApproval` as JSON (read it through the model)."""
    step_up: dict[str, Any] | None
    """Step-up verification (tools.step_up.StepUp): code HMAC, expiry, tries; never the code."""
    model_calls: int
    unhelpful_turns: int
    synced: Annotated[dict[str, Any], merge_dicts]  # before the outbox (kept for old checkpoints)
    helpdesk: Annotated[dict[str, Any], merge_dicts]
    """Requests for the helpdesk (notes, tags, team email), keyed; the outbox delivers them."""
    event: dict[str, Any] | None
    client: str | None
    """This turn's client address as an opaque reference (None for in-process turns): throttles."""


@functools.cache
def _reducers() -> dict[str, Callable[[Any, Any], Any]]:
    hints = get_type_hints(AgentState, include_extras=True)
    return {
        key: hint.__metadata__[0]
        for key, hint in hints.items()
        if get_origin(hint) is Annotated and hint.__metadata__ and callable(hint.__metadata__[0])
    }


def apply_update(state: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """`state` with `update` applied through the state's own reducers, as LangGraph would apply it
    at the end of the step (for work inside one node that must see an earlier call's effect)."""
    reducers = _reducers()
    merged = dict(state)
    for key, value in update.items():
        reducer = reducers.get(key)
        merged[key] = reducer(merged[key], value) if reducer is not None and key in merged else value
    return merged
