"""search_store_help: answer a question about the store from its own help content."""

from __future__ import annotations

import asyncio

from pydantic import BaseModel, Field

from tools.context import ToolContext
from tools.help_content import language_code
from tools.results import ToolResult
from tools.spec import tool


class SearchStoreHelpArgs(BaseModel):
    question: str = Field(
        description="The shopper's question about the store, in their words (shipping, returns, final sale, "
        "payment, gift cards, contact ...).",
        min_length=1,
        max_length=500,
    )
    language: str | None = Field(
        default=None,
        description="The shopper's language, as an ISO 639-1 code (en, es, fr, de ...): the help pages in "
        "that language are searched first, then the English ones. Null means English.",
        max_length=8,
    )


class HelpAnswer(BaseModel):
    source: str = Field(description="Where the answer comes from: the help topic and section; name it.")
    file: str
    text: str
    language: str = Field(default="en", description="The language the passage is written in (ISO 639-1).")


class StoreHelp(ToolResult):
    found: bool = Field(description="False: the help content does not answer this; say so, offer a person.")
    answers: list[HelpAnswer]
    fallback: bool = Field(
        default=False,
        description="True: no page in the shopper's language answers this, the passages are from the "
        "default-language pages; say which language the page is in.",
    )


@tool(lookup=True, progress="Checking our help pages…")
async def search_store_help(ctx: ToolContext, args: SearchStoreHelpArgs) -> StoreHelp:
    """Search the store's own help pages (shipping, returns, final sale, refunds, payment, gift cards,
    contact, what the store sells) for the shopper's question. Answer only from the passages returned
    and name their source; when nothing is found, say you don't know and offer a person. Pass the
    shopper's language: when the answer comes from a page in another language (`fallback`), say so.
    Needs no verification and reads no order."""
    knowledge = ctx.deps.knowledge
    language = language_code(args.language)
    # Reading the pages (the first time) and scoring them is blocking work: never on the event loop.
    hits = (
        await asyncio.to_thread(knowledge.search, args.question, 2, language) if knowledge is not None else []
    )
    return StoreHelp(
        found=bool(hits),
        answers=[
            HelpAnswer(source=h.passage.source, file=h.passage.file, text=h.passage.text, language=h.language)
            for h in hits
        ],
        fallback=any(h.language != language for h in hits),
    )
