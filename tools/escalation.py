"""escalate_to_human: hand the conversation to the support team."""

from __future__ import annotations

from pydantic import BaseModel, Field

from tools.context import ToolContext
from tools.results import ToolResult
from tools.spec import tool


class EscalateToHumanArgs(BaseModel):
    reason: str = Field(
        description="Why a person is needed, e.g. 'asked for a person', 'parcel lost', 'chargeback threat'.",
        max_length=300,
    )
    summary: str = Field(description="Two or three sentences a support agent can act on.", max_length=2000)


class Escalated(ToolResult):
    reason: str
    message: str


@tool(progress="Bringing in our support team…")
async def escalate_to_human(ctx: ToolContext, args: EscalateToHumanArgs) -> Escalated:
    """Hand the conversation to a person on the support team, with the reason and a short summary. Use
    when the shopper asks for a person, threatens legal action or a chargeback, when a parcel is lost or
    stuck, or when you cannot help after trying. The team is notified and replies in this chat."""
    ctx.escalate_reason = f"{args.reason}: {args.summary}" if args.summary else args.reason
    return Escalated(
        reason=args.reason,
        message="The conversation is being handed to the support team; a person will reply here.",
    )
