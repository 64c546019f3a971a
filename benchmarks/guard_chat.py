"""False positives of the guard on real conversational turns (none of them attacks).

    python benchmarks/guard_chat.py [--datasets DIR] [--show N]

Every distinct user turn of the SGD Homes and STAR apartment dialogues (``shared/datasets``,
never trained on, never copied into the repository) goes through the guard the default
settings build (rules and classifier, the limits left out as in ``realty eval guard``). Prints
how many each length band blocks, then the blocked turns with the highest scores.
docs/guard.md ("Short replies in a conversation") reports the figures.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from realty.evaluation.runner import SGD_FILE
from realty.evaluation.sgd import load_dialogues
from realty.services.factory import build_guard
from realty.settings import Settings

DEFAULT_DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
STAR_DIALOGUES = "star_apartment_dialogues.jsonl"
BANDS = ((3, "1–3 words"), (8, "4–8 words"), (10**9, "9+ words"))


def user_turns(directory: Path) -> Iterator[str]:
    """The user utterances of every SGD Homes dialogue, then of every STAR dialogue."""
    for dialogue in load_dialogues(directory / SGD_FILE):
        yield from (turn.text.strip() for turn in dialogue.turns if turn.text.strip())
    with (directory / STAR_DIALOGUES).open(encoding="utf-8") as lines:
        for line in lines:
            for turn in json.loads(line)["turns"]:
                if turn.get("speaker") == "USER" and turn.get("utterance", "").strip():
                    yield turn["utterance"].strip()


def band(text: str) -> str:
    """The length band of ``text``, in words."""
    words = len(text.split())
    return next(name for most, name in BANDS if words <= most)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=DEFAULT_DATASETS, help="shared/datasets")
    parser.add_argument("--show", type=int, default=15, help="blocked turns to list")
    args = parser.parse_args()
    guard = build_guard(Settings(llm_provider="none"))
    turns = sorted(set(user_turns(args.datasets)))
    rows, blocked = Counter[str](), Counter[str]()
    shown: list[tuple[float, str, str]] = []
    for text in turns:
        verdict = guard.detect(text)
        rows[band(text)] += 1
        if not verdict.allowed:
            blocked[band(text)] += 1
            shown.append((verdict.score or 0.0, verdict.reason or "", text))
    print(f"{'user turns':<12} {'blocked':>8} {'turns':>7} {'rate':>7}")
    for _, name in BANDS:
        print(f"{name:<12} {blocked[name]:>8} {rows[name]:>7} {blocked[name] / rows[name]:>7.3f}")
    total, hits = sum(rows.values()), sum(blocked.values())
    print(f"{'all':<12} {hits:>8} {total:>7} {hits / total:>7.3f}")
    for score, reason, text in sorted(shown, reverse=True)[: args.show]:
        print(f"  {score:.3f} {reason:<12} {text[:90]!r}")


if __name__ == "__main__":
    main()
