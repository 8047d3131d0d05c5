"""Declaring a tool once: `@tool` on a plain async function `(ctx, args) -> result`.

The decorator attaches a `ToolSpec` and returns the function unchanged, so it stays directly
callable and fully typed. From the spec come the strict OpenAI function schema, validation of
raw model arguments, the LangChain tool for `ToolNode` (see `tools.langchain`), and the
`mutates` / `needs_confirmation` flags the graph and the evals use.
"""

from __future__ import annotations

import inspect
import json
import logging
import types
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

import openai
from pydantic import BaseModel, TypeAdapter, ValidationError

from integrations._http import AuthError, IntegrationError, NotFound, VendorError
from tools.context import ToolContext
from tools.results import Refusal, ToolResult, outcome_adapter, refuse

ToolFunc = Callable[[ToolContext, Any], Awaitable[ToolResult | Refusal]]
PreviewFunc = Callable[[ToolContext, Any], Awaitable["Preview | Refusal"]]


class Preview(BaseModel):
    """Exactly what a confirmed call will do, shown to the shopper before they say yes."""

    summary: str
    items: list[str] = []
    amount: str | None = None
    address: str | None = None
    excluded: list[str] = []
    """What the call leaves out and why (a final-sale item of a whole-order refund): said before the yes."""


F = TypeVar("F", bound=Callable[..., Awaitable[Any]])

_SPEC_ATTR = "__tool_spec__"
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    args_model: type[BaseModel]
    func: ToolFunc
    mutates: bool
    needs_confirmation: bool
    preview: PreviewFunc | None = None
    lookup: bool = False
    """Only reads (the store's systems, the conversation's own bookkeeping): no payment, label,
    message, email or ticket. The intent node runs such calls at once and asks the model again in
    the same graph step; every other call goes through the tools node (or a confirmation) first."""
    progress: str = "Working on it…"
    """What the shopper sees while it runs."""
    result_types: tuple[type[ToolResult], ...] = ()
    """What the tool returns when it does not refuse (from its return annotation)."""

    def openai_schema(self) -> dict[str, Any]:
        """The strict OpenAI function-calling schema of this tool."""
        schema: dict[str, Any] = dict(
            openai.pydantic_function_tool(self.args_model, name=self.name, description=self.description)
        )
        return schema

    def parse_args(self, raw: str | dict[str, Any] | BaseModel) -> BaseModel:
        """Validate raw model arguments (JSON text or a dict); raises `ValidationError`/`ValueError`."""
        if isinstance(raw, self.args_model):
            return raw
        if isinstance(raw, BaseModel):
            raw = raw.model_dump()
        if isinstance(raw, str):
            raw = json.loads(raw or "{}")
        return self.args_model.model_validate(raw)

    @cached_property
    def _outcome(self) -> TypeAdapter[Any]:
        success: Any = Union[self.result_types] if self.result_types else ToolResult  # noqa: UP007
        return outcome_adapter(success)

    def parse_result(self, raw: str | bytes | Mapping[str, Any]) -> ToolResult | Refusal:
        """This tool's answer as its typed result or a `Refusal`, from the JSON the model was shown
        (or a dict); raises `ValidationError` for anything else (garbled text, another tool's result)."""
        if isinstance(raw, str | bytes):
            parsed: ToolResult | Refusal = self._outcome.validate_json(raw)
        else:
            parsed = self._outcome.validate_python(dict(raw))
        return parsed


def _result_types(annotation: Any) -> tuple[type[ToolResult], ...]:
    """The `ToolResult` classes in a return annotation such as `OrderDetails | RecentOrders | Refusal`."""
    members = get_args(annotation) if get_origin(annotation) in (Union, types.UnionType) else (annotation,)
    return tuple(m for m in members if isinstance(m, type) and issubclass(m, ToolResult))


def tool(
    *,
    mutates: bool = False,
    needs_confirmation: bool = False,
    preview: PreviewFunc | None = None,
    progress: str = "Working on it…",
    lookup: bool = False,
) -> Callable[[F], F]:
    """Declare a tool. Name = function name; description = docstring; args = the second parameter's
    model; `progress` is what the shopper sees while it runs; `lookup` marks a tool that only reads
    (see `ToolSpec.lookup`)."""

    def decorate(func: F) -> F:
        hints = get_type_hints(func)
        params = list(inspect.signature(func).parameters)
        if len(params) != 2:
            raise TypeError(f"tool {func.__name__} must take (ctx, args)")
        args_model = hints.get(params[1])
        if not (isinstance(args_model, type) and issubclass(args_model, BaseModel)):
            raise TypeError(f"tool {func.__name__}: the args parameter must be a pydantic model")
        description = inspect.getdoc(func)
        if not description:
            raise TypeError(f"tool {func.__name__} needs a docstring: it is what the model reads")
        if needs_confirmation and not mutates:
            raise TypeError(f"tool {func.__name__}: only a mutating tool needs confirmation")
        if lookup and mutates:
            raise TypeError(f"tool {func.__name__}: a lookup only reads, it cannot mutate")
        if needs_confirmation and preview is None:
            raise TypeError(f"tool {func.__name__}: a confirmed tool needs a preview of what it will do")
        spec = ToolSpec(
            name=func.__name__,
            description=description,
            args_model=args_model,
            func=func,
            mutates=mutates,
            needs_confirmation=needs_confirmation,
            preview=preview,
            progress=progress,
            lookup=lookup,
            result_types=_result_types(hints.get("return")),
        )
        setattr(func, _SPEC_ATTR, spec)
        return func

    return decorate


def spec_of(func: Callable[..., Any]) -> ToolSpec:
    spec = getattr(func, _SPEC_ATTR, None)
    if not isinstance(spec, ToolSpec):
        raise TypeError(f"{getattr(func, '__name__', func)!r} is not declared with @tool")
    return spec


VENDOR_DOWN_MESSAGE = (
    "One of the store's systems is not answering right now, so this could not be done. Nothing was changed. "
    "Offer to try again in a few minutes or to hand the conversation to a person."
)


async def run_tool(
    spec: ToolSpec, ctx: ToolContext, raw_args: str | dict[str, Any] | BaseModel
) -> ToolResult | Refusal:
    """Validate arguments and run a tool, turning every failure into a structured refusal.

    A mutating call whose idempotency key is already in the ledger is not run again: the
    recorded result is returned (a retried or resumed graph cannot act twice).
    """
    try:
        args = spec.parse_args(raw_args)
    except (ValidationError, ValueError) as exc:
        return refuse("invalid_arguments", f"The arguments for {spec.name} were not valid: {_short(exc)}")
    recorded = ctx.ledger.get(ctx.idempotency_key) if spec.mutates else None
    if recorded is not None:
        return _restore(recorded["result"])
    try:
        result = await spec.func(ctx, args)
    except (VendorError, NotFound) as exc:
        if exc.status is not None and 400 <= exc.status < 500 and exc.status != 429:
            # The vendor answered and said no: not an outage, and retrying will not help.
            logger.warning("%s rejected %s: %s", exc.vendor, spec.name, exc)
            return refuse(
                "vendor_rejected",
                f"The store's {exc.vendor} system refused this request, so nothing was changed. Offer to hand "
                "the conversation to a person who can look into it.",
                vendor=exc.vendor,
            )
        return refuse("vendor_unavailable", VENDOR_DOWN_MESSAGE, vendor=exc.vendor)
    except IntegrationError as exc:
        if isinstance(exc, AuthError):
            logger.error("%s credentials rejected: fix the setting %s", exc.vendor, exc.setting)
        return refuse("vendor_unavailable", VENDOR_DOWN_MESSAGE, vendor=exc.vendor)
    if spec.mutates and result.ok:
        ctx.ledger[ctx.idempotency_key] = {"tool": spec.name, "step": "result", "result": _dump(result)}
    return result


def _dump(result: ToolResult | Refusal) -> dict[str, Any]:
    return {
        "type": type(result).__module__ + ":" + type(result).__qualname__,
        "data": result.model_dump(mode="json"),
    }


def _restore(stored: dict[str, Any]) -> ToolResult | Refusal:
    module_name, _, qualname = str(stored["type"]).partition(":")
    if not module_name.startswith("tools."):  # the ledger only ever holds our own result types
        raise ValueError(f"unexpected result type in the ledger: {module_name}")
    module = __import__(module_name, fromlist=[qualname])
    cls = getattr(module, qualname)
    restored: ToolResult | Refusal = cls.model_validate(stored["data"])
    return restored


def _short(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in exc.errors()[:3]
        )
    return str(exc)[:200]
