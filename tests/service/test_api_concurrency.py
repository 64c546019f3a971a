"""Concurrent messages to one conversation, through two server processes' worth of apps.

Two servers over one database stand for two pods behind a load balancer. Fifty messages sent
at once, alternating between them, must all be stored, in one order, and the final brief
must be exactly what applying the stored messages one by one gives.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date

import httpx

from livesupport import MakeSettings, Opened, Serve
from realty.pipeline.parse import Parser
from realty.services.factory import build_service
from realty.settings import Settings

MESSAGES = 50


def _texts() -> list[str]:
    # Every message changes something, so the order they were applied in shows in the brief.
    texts = []
    for n in range(1, MESSAGES + 1):
        if n % 3 == 0:
            texts.append(f"my budget is {n * 1000} USD per month")
        elif n % 3 == 1:
            texts.append(f"we need {n} parking spaces")
        else:
            texts.append(f"about {n * 10} m2")
    return texts


async def _send_all(urls: list[str], conv: Opened, texts: list[str]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=MESSAGES)
    async with httpx.AsyncClient(timeout=120, limits=limits) as http:
        requests = [
            http.post(
                f"{urls[i % len(urls)]}/v1/conversations/{conv.id}/messages",
                json={"text": text, "client_message_id": f"c-{i}"},
                headers=conv.auth,
            )
            for i, text in enumerate(texts)
        ]
        return list(await asyncio.gather(*requests))


async def _replay(parser: Parser, first: str, texts: list[str]) -> dict[str, object]:
    service = build_service(Settings(llm_provider="none"), parser=parser, today=date.today)
    start = await service.start()
    brief: dict[str, object] = start.brief
    for text in [first, *texts]:
        brief = (await service.handle_turn(start.conversation_id, text, access=start.access)).brief
    return brief


def test_fifty_parallel_messages_are_all_applied_in_one_order(
    database_url: str,
    make_settings: MakeSettings,
    serve: Serve,
    open_conv: Callable[..., Opened],
    parser: Parser,
) -> None:
    settings = make_settings(database_url)
    pods = [serve(settings), serve(settings)]
    with pods[0].client() as http:
        conv = open_conv(http, text="I need an office in Mexico City.")
    texts = _texts()
    responses = asyncio.run(_send_all([p.url for p in pods], conv, texts))
    assert [r.status_code for r in responses] == [200] * MESSAGES
    seqs = sorted(r.json()["seq"] for r in responses)
    assert seqs == list(range(3, MESSAGES + 3))  # 1: greeting, 2: the first message
    with pods[1].client() as http:
        stored = http.get(f"/v1/conversations/{conv.id}", headers=conv.auth).json()
    history = stored["history"]
    assert [e["seq"] for e in history] == list(range(1, MESSAGES + 3))
    applied = [e["text"] for e in history[2:]]
    assert sorted(applied) == sorted(texts)  # every message stored exactly once
    assert stored["turns"] == MESSAGES + 1
    # Each reply was computed on the state the previous stored message left.
    by_seq = {r.json()["seq"]: r.json() for r in responses}
    assert by_seq[max(by_seq)]["brief"] == stored["brief"]
    expected = asyncio.run(_replay(parser, "I need an office in Mexico City.", applied))
    assert stored["brief"] == expected
    # The pods did collide, and the version check resolved it (the turn re-ran).
    assert sum(p.app.state.resources.service.version_conflicts for p in pods) > 0
