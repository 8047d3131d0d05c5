"""What a replay observed and how it scored: the records behind the table, report.json and report.html."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Check(BaseModel):
    """One expectation and whether it held."""

    name: str
    passed: bool
    expected: str = ""
    actual: str = ""
    turn: int | None = Field(None, description="1-based turn index; None for the whole conversation.")


class ToolCallRecord(BaseModel):
    """A tool call the model made, with how it ended."""

    id: str
    name: str
    args: dict[str, Any]
    mutates: bool = False
    outcome: str = Field("pending", description="ok, refused:<code>, error, or pending (no result yet).")
    result: str = ""


class TranscriptMessage(BaseModel):
    role: str = Field(description="shopper, assistant, agent (a human), or action (what the harness did).")
    text: str
    card: str | None = None


class TurnRecord(BaseModel):
    index: int
    kind: str
    input: str
    messages: list[TranscriptMessage] = Field(default_factory=list)
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    intents: list[str] = Field(default_factory=list)
    status: str = ""
    handoff: bool = False
    latency_s: float = 0.0
    errors: list[str] = Field(default_factory=list)
    effects: list[str] = Field(default_factory=list)


class Usage(BaseModel):
    model_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


class RunCounts(BaseModel):
    """The raw numbers the suite metrics are computed from."""

    intents: list[tuple[str, str | None]] = Field(
        default_factory=list, description="(expected, actual) for every intent expectation."
    )
    expected_calls: int = 0
    matched_expected_calls: int = 0
    mutating_calls: int = 0
    expected_mutating_calls: int = 0
    expected_handoff: bool = False
    actual_handoff: bool = False
    violations: list[str] = Field(default_factory=list, description="Side effects nobody expected.")


class RunResult(BaseModel):
    """One replay of one case."""

    case_id: str
    run: int
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    passed: bool
    error: str | None = Field(None, description="The harness could not finish the replay.")
    checks: list[Check] = Field(default_factory=list)
    turns: list[TurnRecord] = Field(default_factory=list)
    status: str = ""
    duration_s: float = 0.0
    usage: Usage = Field(default_factory=Usage)
    counts: RunCounts = Field(default_factory=RunCounts)
    changes: dict[str, Any] = Field(default_factory=dict)
    world_diff: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def failed_checks(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]

    @property
    def latencies(self) -> list[float]:
        return [t.latency_s for t in self.turns if t.kind == "shopper"]
