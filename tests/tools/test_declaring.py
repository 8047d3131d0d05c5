"""Declaring tools: docstrings and field descriptions (the model-facing text), names, the decorator,
strict OpenAI schemas (held in a snapshot), argument validation, flags and the registry."""

from __future__ import annotations

import difflib
import inspect
import json
import re
import types
import typing
from pathlib import Path
from typing import Any, Union

import pytest
from pydantic import BaseModel, Field, ValidationError

from tests.tools.conftest import Harness
from tools import registry
from tools.context import ToolContext
from tools.identity import CustomerVerified, VerifyCustomerArgs, verify_customer
from tools.refunds import IssueRefundArgs, issue_refund
from tools.results import Refusal, ToolResult
from tools.spec import Preview, ToolSpec, run_tool, spec_of, tool

SNAPSHOT = Path(__file__).parent / "__snapshots__" / "tool_schemas.json"

EXPECTED_ORDER = [
    "verify_customer",
    "lookup_order",
    "get_tracking_status",
    "check_return_eligibility",
    "create_return_label",
    "check_refund_eligibility",
    "issue_refund",
    "cancel_order",
    "update_shipping_address",
    "send_verification_code",
    "check_verification_code",
    "search_store_help",
    "escalate_to_human",
]

# (mutates, needs_confirmation): every tool with a side effect a shopper would regret asks first.
EXPECTED_FLAGS = {
    "verify_customer": (False, False),
    "lookup_order": (False, False),
    "get_tracking_status": (False, False),
    "check_return_eligibility": (False, False),
    "create_return_label": (True, True),
    "check_refund_eligibility": (False, False),
    "issue_refund": (True, True),
    "cancel_order": (True, True),
    "update_shipping_address": (True, True),
    # Step-up changes nothing in the store (an email and the conversation's own record).
    "send_verification_code": (False, False),
    "check_verification_code": (False, False),
    # Reads the store's help pages only.
    "search_store_help": (False, False),
    "escalate_to_human": (False, False),
}


ALL_SPECS = registry.specs()


def spec_id(spec: ToolSpec) -> str:
    return spec.name


# ---------------------------------------------------------------------- model-facing text


def _nested_models(annotation: Any) -> list[type[BaseModel]]:
    """Pydantic models anywhere inside a type annotation (Optional, list, Annotated, unions)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _nested_models(typing.get_args(annotation)[0])
    if origin is not None or isinstance(annotation, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in _nested_models(arg)]
    return []


def undescribed_fields(model: type[BaseModel], seen: set[type[BaseModel]] | None = None) -> list[str]:
    """`Model.field` for every field, at any depth, without a `Field(description=...)`."""
    seen = seen if seen is not None else set()
    if model in seen:
        return []
    seen.add(model)
    missing = []
    for name, info in model.model_fields.items():
        if not (info.description and info.description.strip()):
            missing.append(f"{model.__name__}.{name}")
        for nested in _nested_models(info.annotation):
            missing.extend(undescribed_fields(nested, seen))
    return missing


def undescribed_schema_properties(schema: Any, path: str = "") -> list[str]:
    """Properties, at any depth of a JSON schema (including `$defs`), the model sees no description for."""
    missing: list[str] = []
    if isinstance(schema, dict):
        for name, prop in (schema.get("properties") or {}).items():
            if not (isinstance(prop, dict) and str(prop.get("description", "")).strip()):
                missing.append(f"{path}.{name}")
        for key, value in schema.items():
            missing.extend(undescribed_schema_properties(value, f"{path}/{key}"))
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            missing.extend(undescribed_schema_properties(value, f"{path}[{index}]"))
    return missing


def test_the_description_checks_catch_a_missing_description_at_any_depth() -> None:
    class Inner(BaseModel):
        described: str = Field(description="fine")
        bare: str

    class Outer(BaseModel):
        inner: list[Inner] | None = Field(description="a list of inner things")
        also_bare: int

    assert sorted(undescribed_fields(Outer)) == ["Inner.bare", "Outer.also_bare"]
    missing = undescribed_schema_properties(Outer.model_json_schema())
    assert any(m.endswith(".bare") for m in missing)
    assert any(m.endswith(".also_bare") for m in missing)


@pytest.mark.parametrize("spec", ALL_SPECS, ids=spec_id)
def test_every_tool_has_a_docstring_that_is_its_description(spec: ToolSpec) -> None:
    doc = inspect.getdoc(spec.func)
    assert doc, f"{spec.name} has no docstring"
    assert len(doc.split()) >= 8, f"{spec.name}'s docstring is too short to guide a model"
    assert spec.description == doc
    assert spec.openai_schema()["function"]["description"] == doc


@pytest.mark.parametrize("spec", ALL_SPECS, ids=spec_id)
def test_every_argument_field_has_a_description_recursively(spec: ToolSpec) -> None:
    assert undescribed_fields(spec.args_model) == []
    assert undescribed_schema_properties(spec.openai_schema()) == []


@pytest.mark.parametrize("spec", ALL_SPECS, ids=spec_id)
def test_names_are_verb_object_and_equal_the_function_name(spec: ToolSpec) -> None:
    assert spec.name == spec.func.__name__
    assert re.fullmatch(r"[a-z]+(_[a-z]+)+", spec.name), spec.name
    assert spec.openai_schema()["function"]["name"] == spec.name


def test_registered_names_are_unique_and_in_the_expected_order() -> None:
    names = [s.name for s in ALL_SPECS]
    assert names == EXPECTED_ORDER
    assert [spec_of(f).name for f in registry.ALL_TOOLS] == EXPECTED_ORDER


# ---------------------------------------------------------------------- the decorator


async def _plain(ctx: ToolContext, args: VerifyCustomerArgs) -> CustomerVerified | Refusal:
    """A tool used to check the decorator: it verifies nobody, ever, for any reason."""
    raise AssertionError("not called")


def test_the_decorator_returns_the_function_unchanged() -> None:
    decorated = tool()(_plain)
    assert decorated is _plain
    spec = spec_of(decorated)
    assert spec.func is _plain
    assert spec.args_model is VerifyCustomerArgs
    assert (spec.mutates, spec.needs_confirmation, spec.preview) == (False, False, None)
    assert inspect.iscoroutinefunction(verify_customer)
    assert spec_of(verify_customer).func is verify_customer


def test_the_decorator_refuses_incomplete_declarations() -> None:
    async def undocumented(ctx: ToolContext, args: VerifyCustomerArgs) -> ToolResult:
        raise AssertionError

    async def untyped_args(ctx: ToolContext, args: dict[str, str]) -> ToolResult:
        """Has a docstring but its arguments are not a pydantic model."""
        raise AssertionError

    async def three(ctx: ToolContext, args: VerifyCustomerArgs, extra: int) -> ToolResult:
        """Takes one parameter too many for a tool."""
        raise AssertionError

    async def preview(ctx: ToolContext, args: Any) -> Preview:
        return Preview(summary="x")

    with pytest.raises(TypeError, match="docstring"):
        tool()(undocumented)
    with pytest.raises(TypeError, match="pydantic model"):
        tool()(untyped_args)
    with pytest.raises(TypeError, match=r"\(ctx, args\)"):
        tool()(three)
    with pytest.raises(TypeError, match="only a mutating tool"):
        tool(needs_confirmation=True, preview=preview)(_plain)
    with pytest.raises(TypeError, match="preview"):
        tool(mutates=True, needs_confirmation=True)(_plain)
    with pytest.raises(TypeError, match="not declared with @tool"):
        spec_of(preview)


async def test_a_tool_is_directly_callable_with_its_typed_arguments(harness: Harness) -> None:
    ctx = harness.ctx()
    result = await verify_customer(
        ctx, VerifyCustomerArgs(email="ben.okafor@example.com", order_number="1002")
    )
    assert isinstance(result, CustomerVerified)
    assert result.email == "ben.okafor@example.com"
    assert ctx.customer is not None
    assert ctx.customer.email == "ben.okafor@example.com"


# ---------------------------------------------------------------------- schemas


def _objects(schema: Any) -> list[dict[str, Any]]:
    """Every object schema, at any depth."""
    found: list[dict[str, Any]] = []
    if isinstance(schema, dict):
        if schema.get("type") == "object" or "properties" in schema:
            found.append(schema)
        for value in schema.values():
            found.extend(_objects(value))
    elif isinstance(schema, list):
        for value in schema:
            found.extend(_objects(value))
    return found


@pytest.mark.parametrize("spec", ALL_SPECS, ids=spec_id)
def test_openai_schemas_are_strict(spec: ToolSpec) -> None:
    schema = spec.openai_schema()
    assert schema["type"] == "function"
    function = schema["function"]
    assert function["strict"] is True
    assert function["parameters"]["type"] == "object"
    objects = _objects(function["parameters"])
    assert objects, "no object schema found"
    for obj in objects:
        assert obj.get("additionalProperties") is False, obj.get("title")
        assert sorted(obj.get("required", [])) == sorted(obj.get("properties", {})), obj.get("title")


def test_no_tool_but_verify_customer_takes_an_identity_from_the_model() -> None:
    """Identity comes from state: no argument of an order tool can name the customer."""
    for spec in ALL_SPECS:
        if spec.name == "verify_customer":
            continue
        text = json.dumps(spec.openai_schema()["function"]["parameters"]["properties"])
        for word in ('"email"', '"customer', "customer_id", '"verified'):
            assert word not in text, f"{spec.name} takes {word} from the model"


def _current_schemas() -> dict[str, Any]:
    return {s.name: s.openai_schema() for s in ALL_SPECS}


def test_tool_schemas_match_the_snapshot(update_snapshots: bool) -> None:
    current = json.dumps(_current_schemas(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if update_snapshots:
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(current, encoding="utf-8")
        return
    if not SNAPSHOT.exists():
        pytest.fail(
            f"No schema snapshot at {SNAPSHOT}. Review the schemas, then write it with "
            "`pytest tests/tools --update-snapshots`."
        )
    stored = SNAPSHOT.read_text(encoding="utf-8")
    if stored != current:
        diff = "".join(
            difflib.unified_diff(
                stored.splitlines(keepends=True),
                current.splitlines(keepends=True),
                fromfile="snapshot",
                tofile="current",
            )
        )
        pytest.fail(
            "The tool schemas the model sees changed. If that is intended, update the snapshot with "
            f"`pytest tests/tools --update-snapshots` and commit it.\n{diff}"
        )


# ---------------------------------------------------------------------- argument validation


def test_parse_args_validates_raw_json_and_normalises_order_numbers() -> None:
    spec = spec_of(issue_refund)
    parsed = spec.parse_args('{"order_number": "#1002", "line_item_ids": null, "reason": "too small"}')
    assert isinstance(parsed, IssueRefundArgs)
    assert parsed.order_number == "1002"
    assert spec.parse_args({"order_number": 1002, "line_item_ids": ["1"], "reason": "x"}) == IssueRefundArgs(
        order_number="1002", line_item_ids=["1"], reason="x"
    )
    assert spec.parse_args(parsed) is parsed
    assert spec_of(verify_customer).parse_args({"email": "a@b.c", "order_number": "order no. 1001"}) == (
        VerifyCustomerArgs(email="a@b.c", order_number="1001")
    )
    with pytest.raises(ValueError, match="Expecting"):
        spec.parse_args("{not json")
    with pytest.raises(ValidationError):
        spec.parse_args({"order_number": "1002", "line_item_ids": None})  # reason missing
    with pytest.raises(ValidationError):
        spec.parse_args({"order_number": "one thousand", "line_item_ids": None, "reason": "x"})
    with pytest.raises(ValidationError):
        spec.parse_args({"order_number": "1002", "line_item_ids": None, "reason": "x" * 301})


@pytest.mark.parametrize(
    "raw",
    [
        "{broken json",
        {"order_number": "1002", "line_item_ids": None},
        {"order_number": "DROP TABLE", "line_item_ids": None, "reason": "x"},
        '{"order_number": "1002", "line_item_ids": "all", "reason": "x"}',
    ],
    ids=["bad-json", "missing-field", "bad-number", "wrong-type"],
)
async def test_run_tool_turns_bad_arguments_into_a_refusal_and_does_nothing(
    harness: Harness, raw: str | dict[str, Any]
) -> None:
    ctx = harness.ctx("ben.okafor@example.com")
    before = harness.world.digest()
    result = await run_tool(spec_of(issue_refund), ctx, raw)
    assert isinstance(result, Refusal)
    assert result.code == "invalid_arguments"
    assert "issue_refund" in result.message
    assert "Traceback" not in result.message
    assert harness.world.digest() == before
    assert harness.shopify_refunds(1002) == []
    assert ctx.ledger == {}


# ---------------------------------------------------------------------- flags and registry


@pytest.mark.parametrize("spec", ALL_SPECS, ids=spec_id)
def test_mutates_and_needs_confirmation_flags(spec: ToolSpec) -> None:
    assert (spec.mutates, spec.needs_confirmation) == EXPECTED_FLAGS[spec.name]
    if spec.needs_confirmation:
        assert spec.preview is not None, f"{spec.name} cannot show the shopper what they confirm"


def test_spec_by_name() -> None:
    found = registry.spec_by_name("issue_refund")
    assert found is not None
    assert found.func is issue_refund
    assert registry.spec_by_name("transfer_money") is None
    assert len(registry.openai_schemas()) == len(EXPECTED_ORDER)


def test_union_helper_sees_through_optional_lists() -> None:
    class M(BaseModel):
        x: int = Field(description="x")

    assert _nested_models(Union[list[M], None]) == [M]  # noqa: UP007 - the old spelling on purpose
    assert _nested_models(list[M] | None) == [M]
