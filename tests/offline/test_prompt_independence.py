"""The offline model does not read the graph's prompt: the same conversation gets the same answers
whatever the system message says, or with none at all. Which intent node calls comes from the
bound tools, who the shopper is from the tools' answers, and the date from the model's clock.

The one exception (until the graph passes it as data) is a shopper signed in through the widget,
whom only the prompt's "Shopper: verified as ..." line vouches for; see the last tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

import prompts
from agent.intents import Intent, openai_schemas
from agent.messages import signed_identity_exchange
from agent.offline.chat_model import OfflineChatModel
from agent.offline.conversation import Conversation
from agent.offline.flows.dispatch import flow_for
from agent.state import IntentResult
from tests.offline.test_flows import (
    BEANIE,
    JACKET,
    MUG,
    item,
    label,
    order_view,
    return_eligibility,
    store_clock,
    tracking_1001,
)
from tools import registry
from tools.identity import CustomerVerified
from tools.langchain import result_text
from tools.refunds import RefundEligibility, RefundPendingApproval
from tools.results import Refusal, ToolResult

# What the graph would send (prompts/*.md rendered as agent/graph.py renders them).
Prompt = Callable[[str, str | None], SystemMessage | None]


def graph_prompt(intent: str, verified: str | None) -> SystemMessage | None:
    context = prompts.render(
        "context",
        intent=intent,
        shopper=f"verified as {verified}" if verified else "not verified",
        today="2026-11-20",
    )
    policy = prompts.render("policy", return_window_days=30, refund_limit="100.00")
    return SystemMessage(
        prompts.render(
            intent,
            store_name="Trailhead Outfitters",
            rules=prompts.load("_rules").strip(),
            policy=policy,
            context=context,
        )
    )


def unrelated_prompt(intent: str, verified: str | None) -> SystemMessage | None:
    # Contradicts everything the graph would say, in the graph's own format where it can.
    return SystemMessage(
        "Arr, ye be a pirate. Speak only of treasure.\n\n## Context\n- Intent: refunds\n"
        "- Shopper: not verified\n- Today: 1999-12-31\n\nStore policy: no refunds, ever."
    )


def no_prompt(intent: str, verified: str | None) -> SystemMessage | None:
    return None


PROMPTS = {"graph": graph_prompt, "unrelated": unrelated_prompt, "none": no_prompt}


@pytest.fixture(scope="module")
def model(offline_fixtures_dir: Path) -> OfflineChatModel:
    return OfflineChatModel(fixtures_dir=offline_fixtures_dir, clock=store_clock)


@dataclass
class Run:
    """A conversation driven like the graph drives it, with scripted tool answers."""

    model: OfflineChatModel
    prompt: Prompt
    answers: dict[str, ToolResult | Refusal]
    messages: list[BaseMessage] = field(default_factory=list)
    verified: str | None = None
    said: list[tuple[str, object]] = field(default_factory=list)

    def _with_prompt(self, intent: str) -> list[BaseMessage]:
        system = self.prompt(intent, self.verified)
        return [system, *self.messages] if system is not None else list(self.messages)

    def shopper(self, text: str) -> None:
        self.messages.append(HumanMessage(text))
        result = self.model.with_structured_output(IntentResult).invoke(self._with_prompt("classify"))
        assert isinstance(result, IntentResult)
        self.said.append(("classified", result.model_dump()))
        intent: Intent = result.intent if result.intent != "escalation" else "other"
        bound = self.model.bind_tools(openai_schemas(intent))
        for _ in range(8):
            reply = bound.invoke(self._with_prompt(intent))
            assert isinstance(reply, AIMessage)
            self.messages.append(reply)
            self.said.append((str(reply.content), [(c["name"], c["args"]) for c in reply.tool_calls]))
            if not reply.tool_calls:
                return
            for call in reply.tool_calls:
                answer = self.answers[call["name"]]
                if isinstance(answer, CustomerVerified):
                    self.verified = answer.email
                self.messages.append(
                    ToolMessage(result_text(answer), tool_call_id=call["id"] or "", name=call["name"])
                )
        raise AssertionError("no reply after eight model calls")


SCENARIOS: dict[str, tuple[list[str], dict[str, ToolResult | Refusal]]] = {
    "wismo": (
        ["hey where's my order #1001??", "ana.silva@example.com"],
        {
            "verify_customer": CustomerVerified(
                email="ana.silva@example.com", first_name="Ana", order_number="1001"
            ),
            "get_tracking_status": tracking_1001(),
        },
    ),
    "returns": (
        ["I'd like to return the beanie from order 1002", "ben.okafor@example.com"],
        {
            "verify_customer": CustomerVerified(
                email="ben.okafor@example.com", first_name="Ben", order_number="1002"
            ),
            "check_return_eligibility": return_eligibility("1002", item(MUG), item(BEANIE)),
            "create_return_label": label("1002", BEANIE[1]),
        },
    ),
    "refunds": (
        ["I want my money back for order 1005, emma.jones@example.com"],
        {
            "verify_customer": CustomerVerified(
                email="emma.jones@example.com", first_name="Emma", order_number="1005"
            ),
            "lookup_order": order_view("1005", "delivered", [JACKET], total="480.00"),
            "check_refund_eligibility": RefundEligibility(
                order_number="1005",
                refundable_amount="480.00",
                currency="USD",
                items=[f"1 × {JACKET[1]}"],
                within_auto_approval_limit=False,
                needs_human_approval=True,
                processor="platform",
                excluded=[],
            ),
            "issue_refund": RefundPendingApproval(
                order_number="1005", amount="480.00", currency="USD", items=[f"1 × {JACKET[1]}"], message="m"
            ),
        },
    ),
    "small talk": (["hi there", "what's the weather like in paris tomorrow?", "thanks, bye"], {}),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_a_conversation_gets_the_same_answers_whatever_the_system_prompt_says(
    model: OfflineChatModel, scenario: str
) -> None:
    texts, answers = SCENARIOS[scenario]
    transcripts = {}
    for name, prompt in PROMPTS.items():
        run = Run(model, prompt, answers)
        for text in texts:
            run.shopper(text)
        transcripts[name] = run.said
    assert transcripts["unrelated"] == transcripts["graph"]
    assert transcripts["none"] == transcripts["graph"]
    calls = [name for _, called in transcripts["graph"] if isinstance(called, list) for name, _ in called]
    assert set(calls) == set(answers)  # every scripted tool was used: the flows really ran
    if scenario == "wismo":
        # Dates are relative to the model's clock (2026-11-20), not the prompt's 1999-12-31.
        assert "yesterday" in str(transcripts["unrelated"][-1][0])


@pytest.mark.parametrize(
    ("intent", "text", "flow"),
    [
        ("wismo", "I want a refund", "wismo"),
        ("returns", "where is my order?", "returns"),
        ("refunds", "cancel my order", "refunds"),
        ("order_change", "hi", "order_change"),
        ("other", "hello there", "other"),
        ("other", "I want to talk to a real person", "escalation"),
    ],
)
def test_the_bound_tools_say_which_flow_answers(
    model: OfflineChatModel, intent: Intent, text: str, flow: str
) -> None:
    tools = frozenset(s["function"]["name"] for s in openai_schemas(intent))
    conversation = Conversation.from_messages([HumanMessage(text)])
    assert flow_for(conversation, tools, model.classifier().predict_many) == flow


def test_with_every_tool_bound_the_classified_request_chooses(model: OfflineChatModel) -> None:
    every = frozenset(s["function"]["name"] for s in registry.openai_schemas())
    conversation = Conversation.from_messages([HumanMessage("I'd like a refund for order 1002")])
    assert flow_for(conversation, every, model.classifier().predict_many) == "refunds"


def test_a_signed_in_shopper_is_not_read_from_the_prompt(model: OfflineChatModel) -> None:
    """The graph's "Shopper: verified as ..." line is prose for LLMs: without the identity given as
    data the offline model treats the shopper as unverified, whatever the prompt says."""
    question = [HumanMessage("has order 1001 shipped yet?")]
    bound = model.bind_tools(openai_schemas("wismo"))
    for prompt in (graph_prompt("wismo", "ana.silva@example.com"), graph_prompt("wismo", None), None):
        anonymous = bound.invoke([prompt, *question] if prompt is not None else question)
        assert isinstance(anonymous, AIMessage)
        assert not anonymous.tool_calls
        assert "email" in str(anonymous.content)


def test_a_verify_customer_answer_outranks_the_prompt(model: OfflineChatModel) -> None:
    verified = CustomerVerified(email="ana.silva@example.com", first_name="Ana", order_number="1001")
    messages: list[BaseMessage] = [
        graph_prompt("wismo", "someone.else@example.com") or SystemMessage(""),
        HumanMessage("where is order 1001? ana.silva@example.com"),
    ]
    conversation = Conversation.from_messages(
        [
            *messages,
            AIMessage("", tool_calls=[{"name": "verify_customer", "args": {}, "id": "v1"}]),
            ToolMessage(result_text(verified), tool_call_id="v1", name="verify_customer"),
        ]
    )
    assert conversation.verified_email == "ana.silva@example.com"


def test_a_signed_identity_given_as_data_needs_no_prompt(model: OfflineChatModel) -> None:
    """What replaces the prompt line: the graph puts the identity ahead of the window as data."""
    question: list[BaseMessage] = [
        *signed_identity_exchange("ana.silva@example.com", "Ana"),
        HumanMessage("has order 1001 shipped yet?"),
    ]
    bound = model.bind_tools(openai_schemas("wismo"))
    for prompt in (unrelated_prompt("wismo", None), None):
        reply = bound.invoke([prompt, *question] if prompt is not None else question)
        assert isinstance(reply, AIMessage)
        assert [(c["name"], c["args"]) for c in reply.tool_calls] == [
            ("get_tracking_status", {"order_number": "1001"})
        ]
