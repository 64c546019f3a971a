"""Golden conversations: the expected brief after every user turn (tests/dialogues/*.yaml)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from realty.evaluation.dialogues import ExpectedBrief, GoldenConversation, check_turn, load_dir
from realty.services.conversation import ConversationService

DIALOGUES = load_dir(Path(__file__).parent.parent / "dialogues")


def test_the_golden_set_covers_the_required_conversations() -> None:
    stems = {stem for stem, _ in DIALOGUES}
    assert {
        "canonical_en",
        "single_fields",
        "spanish_bodega",
        "extras_persist",
        "negative_budget",
        "priority_parking",
        "gibberish",
        "long_message",
        "euros",
    } <= stems
    assert len(DIALOGUES) >= 20


async def _run(service: ConversationService, conv: GoldenConversation) -> list[str]:
    start = await service.start(conv.language)  # type: ignore[arg-type]
    problems = []
    expected = ExpectedBrief()
    for number, turn in enumerate(conv.turns, start=1):
        result = await service.handle_turn(start.conversation_id, turn.user, access=start.access)
        issues = check_turn(
            expected.after(turn.expect),
            brief=result.brief,
            reply=result.reply,
            actions=result.actions,
            asked=result.asked,
        )
        problems += [f"turn {number} ({turn.user[:60]!r}): {p}" for p in issues]
    return problems


@pytest.mark.parametrize(
    "conversation", [c for _, c in DIALOGUES], ids=[f"{s}:{c.name}" for s, c in DIALOGUES]
)
def test_golden_conversation(
    conversation: GoldenConversation, make_service: Callable[..., ConversationService]
) -> None:
    problems = asyncio.run(_run(make_service(), conversation))
    assert not problems, "\n".join(problems)
