"""The evaluation suites: scoring arithmetic, SGD slot selection, STAR rows, the report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from realty.domain.brief import City, Money, Scalar
from realty.domain.market import Market
from realty.domain.turn import Candidate
from realty.evaluation.golden import joint_ok, score_brief
from realty.evaluation.metrics import Counts, FieldScores, TurnStats, percentile
from realty.evaluation.runner import run_eval, sgd_settings
from realty.evaluation.sgd import (
    KEY_MAP,
    SERVICE_SLOTS,
    SgdTurn,
    load_dialogues,
    normalise_date,
    parse_dialogue,
    predicted_pairs,
    score_turn,
)
from realty.evaluation.star import StarResult, parse_row, score_row
from realty.settings import Settings

GOLDEN_DIR = Path(__file__).parent.parent / "dialogues"

COUNT_CASES = [
    # tp, fp, fn, precision, recall, f1
    (8, 2, 0, 0.8, 1.0, 0.888889),
    (3, 1, 3, 0.75, 0.5, 0.6),
    (0, 0, 0, 1.0, 1.0, 1.0),
    (0, 4, 2, 0.0, 0.0, 0.0),
    (5, 0, 5, 1.0, 0.5, 0.666667),
]


@pytest.mark.parametrize(("tp", "fp", "fn", "p", "r", "f1"), COUNT_CASES)
def test_counts_give_precision_recall_f1(
    tp: int, fp: int, fn: int, p: float, r: float, f1: float
) -> None:
    counts = Counts(tp=tp, fp=fp, fn=fn)
    assert counts.precision == pytest.approx(p)
    assert counts.recall == pytest.approx(r)
    assert counts.f1 == pytest.approx(f1, abs=1e-6)


def test_field_scores_micro_average_sums_counts() -> None:
    scores = FieldScores()
    scores.score_sets(
        expected={("area", "fremont"), ("beds", "3"), ("baths", "2")},
        predicted={("area", "fremont"), ("beds", "2")},
    )
    assert scores.by_field["area"].tp == 1
    assert (scores.by_field["beds"].fp, scores.by_field["beds"].fn) == (1, 1)
    assert scores.by_field["baths"].fn == 1
    assert (scores.total.tp, scores.total.fp, scores.total.fn) == (1, 1, 2)
    assert scores.to_json()["micro"]["precision"] == 0.5


PERCENTILE_CASES = [
    ([], 50, 0.0),
    ([4.0], 95, 4.0),
    ([1.0, 2.0, 3.0, 4.0], 50, 2.5),
    ([1.0, 2.0, 3.0, 4.0, 5.0], 95, 4.8),
    ([10.0, 1.0, 5.0], 0, 1.0),
]


@pytest.mark.parametrize(("values", "q", "want"), PERCENTILE_CASES)
def test_percentile_interpolates(values: list[float], q: float, want: float) -> None:
    assert percentile(values, q) == pytest.approx(want)


def test_turn_stats_average_llm_calls() -> None:
    stats = TurnStats()
    for latency, calls in ((1.0, 0), (3.0, 1), (2.0, 1), (4.0, 0)):
        stats.record(latency, calls)
    data = stats.to_json()
    assert data["turns"] == 4
    assert data["llm_calls_per_turn"] == 0.5
    assert data["latency_ms_p50"] == 2.5


GOLDEN_SCORE_CASES = [
    # expected section, actual section, (tp, fp, fn)
    (
        {"city": {"value": "Mexico City"}},
        {"city": {"value": "Mexico City", "country": "MX"}},
        (1, 0, 0),
    ),
    (
        {"budget": {"amount": 20000, "currency": "USD"}},
        {"budget": {"amount": 20000.0, "currency": "MXN"}},
        (1, 1, 1),
    ),
    ({"size": {"m2": 500}}, {}, (0, 0, 1)),
    ({}, {"parking": {"value": True}}, (0, 1, 0)),
    ({"pets_allowed": {"value": False}}, {"pets_allowed": {"value": 0}}, (0, 1, 1)),
]


@pytest.mark.parametrize(("expected", "actual", "counts"), GOLDEN_SCORE_CASES)
def test_golden_turn_scoring(
    expected: dict[str, Any], actual: dict[str, Any], counts: tuple[int, int, int]
) -> None:
    scores = FieldScores()
    score_brief(expected, actual, scores)
    total = scores.total
    assert (total.tp, total.fp, total.fn) == counts


REQUIRED = ("property_type", "city", "budget", "size")
JOINT_CASES = [
    ({"city": {"value": "Monterrey"}}, {"city": {"value": "Monterrey", "country": "MX"}}, True),
    ({"city": {"value": "Monterrey"}}, {"city": {"value": "Monterrey"}, "size": {"m2": 3}}, False),
    ({"budget": {"amount": 5}}, {"budget": {"amount": 6}}, False),
    ({"budget": {"amount": 5}}, {}, False),
    # extras are not required fields: an unexpected one does not break joint accuracy
    ({}, {"parking": {"value": True}}, True),
]


@pytest.mark.parametrize(("expected", "actual", "ok"), JOINT_CASES)
def test_joint_accuracy_rule(expected: dict[str, Any], actual: dict[str, Any], ok: bool) -> None:
    assert joint_ok(expected, actual, REQUIRED) is ok


DIALOGUE: dict[str, Any] = {
    "id": "t_1",
    "split": "test",
    "services": ["Homes_2"],
    "turns": [
        {
            "speaker": "USER",
            "utterance": "I want to buy a 3 bedroom place in San Jose.",
            "state": {"area": ["San Jose"], "number_of_beds": ["3"], "intent": ["buy"]},
            "state_delta": {"area": ["San Jose"], "number_of_beds": ["3"], "intent": ["buy"]},
            "slot_spans": [{"slot": "area", "start": 35, "end": 43, "value": "San Jose"}],
        },
        {
            "speaker": "SYSTEM",
            "utterance": "Casa Loma has 2 baths and a garage, price $900,000.",
            "actions": [
                {"act": "OFFER", "slot": "property_name", "values": ["Casa Loma"]},
                {"act": "OFFER", "slot": "number_of_baths", "values": ["2"]},
                {"act": "OFFER", "slot": "has_garage", "values": ["True"]},
            ],
        },
        {
            "speaker": "USER",
            "utterance": "Sounds good, I want to visit on the 6th.",
            "state": {
                "area": ["San Jose"],
                "number_of_baths": ["2"],
                "has_garage": ["True"],
                "property_name": ["Casa Loma"],
                "visit_date": ["the 6th"],
            },
            "state_delta": {
                "number_of_baths": ["2"],
                "has_garage": ["True"],
                "property_name": ["Casa Loma"],
                "visit_date": ["the 6th"],
            },
            "slot_spans": [
                {"slot": "visit_date", "start": 33, "end": 40, "value": "the 6th"},
                {"slot": "property_name", "start": 0, "end": 0, "value": "Casa Loma"},
            ],
        },
    ],
}


def test_sgd_expected_slots_are_what_the_user_said() -> None:
    dialogue = parse_dialogue(DIALOGUE)
    assert dialogue.service == "Homes_2"
    first, second = dialogue.turns
    assert first.expected == {"area": ("San Jose",), "number_of_beds": ("3",), "intent": ("buy",)}
    # baths and garage restate the offer; the property name is an offer slot
    assert second.expected == {"visit_date": ("the 6th",)}


KEY_MAP_CASES = [
    ("city", "area"),
    ("bedrooms", "number_of_beds"),
    ("bathrooms", "number_of_baths"),
    ("garage", "has_garage"),
    ("parking", "has_garage"),
    ("budget", "intent"),
    ("visit_date", "visit_date"),
    ("in_unit_laundry", "in_unit_laundry"),
]


@pytest.mark.parametrize(("ours", "theirs"), KEY_MAP_CASES)
def test_key_map(ours: str, theirs: str) -> None:
    assert KEY_MAP[ours] == theirs


def _city(name: str) -> City:
    return City(value=name, country="US", lat=0.0, lon=0.0)


PREDICTED_CASES = [
    (Candidate(key="city", value=_city("San Jose"), span=(0, 8)), ("area", "san jose")),
    (
        Candidate(key="bedrooms", value=Scalar(kind="int", value=3), span=(0, 1)),
        ("number_of_beds", "3"),
    ),
    (
        Candidate(key="pets_allowed", value=Scalar(kind="bool", value=True), span=(0, 1)),
        ("pets_allowed", "true"),
    ),
    (
        Candidate(key="budget", value=Money(modality="buy"), op="merge", span=(0, 1)),
        ("intent", "buy"),
    ),
    (
        Candidate(key="visit_date", value=Scalar(kind="date", value="2019-03-06"), span=(0, 1)),
        ("visit_date", "2019-03-06"),
    ),
]


@pytest.mark.parametrize(("candidate", "pair"), PREDICTED_CASES)
def test_predicted_pairs_map_candidates(candidate: Candidate, pair: tuple[str, str]) -> None:
    assert predicted_pairs([candidate]) == {pair}


def test_removals_and_unmapped_keys_predict_nothing() -> None:
    cands = [
        Candidate(key="parking", op="remove", span=(0, 1)),
        Candidate(key="elevator", value=Scalar(kind="bool", value=True), span=(0, 1)),
    ]
    assert predicted_pairs(cands) == set()


DATE_CASES = [
    ("the 6th", "2019-03-06"),
    ("4th of this month", "2019-03-04"),
    ("March 14th", "2019-03-14"),
    ("next Monday", "2019-03-04"),
    ("Wednesday next week", "2019-03-06"),
    ("day after tomorrow", "2019-03-03"),
    ("later today", "2019-03-01"),
    ("Sunday this week", "2019-03-03"),
]


@pytest.mark.parametrize(("text", "iso"), DATE_CASES)
def test_sgd_dates_normalise_to_iso(text: str, iso: str) -> None:
    assert normalise_date(text) == iso


SCORE_TURN_CASES = [
    # expected, state, predicted, (tp, fp, fn)
    ({"area": ("San jose",)}, {}, {("area", "san jose")}, (1, 0, 0)),
    ({"area": ("SF",)}, {}, {("area", "san francisco")}, (1, 0, 0)),  # gazetteer alias
    ({"number_of_beds": ("3",)}, {}, {("number_of_beds", "2")}, (0, 1, 1)),
    ({}, {"number_of_beds": ("2",)}, {("number_of_beds", "2")}, (0, 0, 0)),  # restated
    ({}, {}, {("pets_allowed", "true")}, (0, 0, 0)),  # not a Homes_2 slot
    ({}, {}, {("has_garage", "true")}, (0, 1, 0)),
    ({"visit_date": ("the 6th",)}, {}, set(), (0, 0, 1)),
]


@pytest.mark.parametrize(("expected", "state", "predicted", "counts"), SCORE_TURN_CASES)
def test_sgd_turn_scoring(
    expected: dict[str, tuple[str, ...]],
    state: dict[str, tuple[str, ...]],
    predicted: set[tuple[str, str]],
    counts: tuple[int, int, int],
) -> None:
    scores = FieldScores()
    turn = SgdTurn(text="", expected=expected, state=state)
    aliases = {"SF": "San Francisco"}
    score_turn(turn, predicted, SERVICE_SLOTS["Homes_2"], scores, aliases.get)
    total = scores.total
    assert (total.tp, total.fp, total.fn) == counts


STAR_ROW = {
    "dialogue_id": "star_3",
    "query_idx": 0,
    "history": [
        {"speaker": "USER", "utterance": "I want a 1 bedroom apartment, on floor 15 or higher."},
        {"speaker": "SYSTEM", "utterance": "What is your budget?"},
    ],
    "utterance": "3996 credits.",
    "expected_constraints": {
        "Level": {"op": ">=", "value": 15},
        "NumRooms": {"op": "==", "value": "1"},
        "Price": {"op": "<=", "value": 3996},
    },
}

STAR_CASES = [
    (
        {
            "fields": {"budget": {"amount": 3996, "currency": "CREDITS"}},
            "extras": {"bedrooms": {"value": 1}, "floor": {"value": 15}},
        },
        {"Price": 1, "NumRooms": 1, "Level": 1},
    ),
    (
        {"fields": {"budget": {"amount": 3000}}, "extras": {"bedrooms": {"value": 1}}},
        {"Price": 0, "NumRooms": 1, "Level": 0},
    ),
    ({"fields": {}, "extras": {}}, {"Price": 0, "NumRooms": 0, "Level": 0}),
]


@pytest.mark.parametrize(("brief", "hits"), STAR_CASES)
def test_star_row_scoring(brief: dict[str, Any], hits: dict[str, int]) -> None:
    row = parse_row(STAR_ROW)
    assert row.user_turns == (
        "I want a 1 bedroom apartment, on floor 15 or higher.",
        "3996 credits.",
    )
    result = StarResult()
    score_row(row, brief, result)
    assert {k: v.hits for k, v in result.by_constraint.items()} == hits
    assert {k: v.rows for k, v in result.by_constraint.items()} == {
        "Price": 1,
        "NumRooms": 1,
        "Level": 1,
    }


def test_run_eval_golden_meets_the_target_without_a_model(tmp_path: Path) -> None:
    report_path = tmp_path / "eval.json"
    report = run_eval(
        "golden",
        settings=Settings(llm_provider="none"),
        data_dir=tmp_path,
        limit=None,
        every_turn=False,
        report_path=report_path,
        progress=False,
        golden_dir=GOLDEN_DIR,
    )
    assert report.golden is not None
    assert report.golden.joint_accuracy >= 0.97
    assert report.golden.stats.llm_calls == 0
    assert report.golden.stats.turns > 30
    data = json.loads(report_path.read_text("utf-8"))
    assert set(data) == {"suite", "provider", "mode", "elapsed_s", "golden", "sgd", "star"}
    assert data["provider"] == "none"
    assert data["golden"]["joint_accuracy"] >= 0.97
    assert {"turns", "llm_calls_per_turn", "latency_ms_p50", "latency_ms_p95"} <= set(
        data["golden"]
    )
    assert "micro" in data["golden"]["scores"]
    assert data["sgd"] == {}
    assert data["star"] is None
    table = report.table()
    assert "joint accuracy" in table
    assert "golden" in table


def test_run_eval_all_on_tiny_datasets(tmp_path: Path) -> None:
    (tmp_path / "sgd_homes_dialogues.jsonl").write_text(json.dumps(DIALOGUE) + "\n", "utf-8")
    (tmp_path / "star_apartment_turns.jsonl").write_text(json.dumps(STAR_ROW) + "\n", "utf-8")
    report = run_eval(
        "all",
        settings=Settings(llm_provider="none"),
        data_dir=tmp_path,
        limit=1,
        report_path=tmp_path / "all.json",
        progress=False,
        golden_dir=GOLDEN_DIR,
    )
    assert report.golden is not None
    assert report.golden.conversations == 1
    homes = report.sgd["Homes_2"]
    assert homes.dialogues == 1
    assert homes.stats.turns == 2
    # San Jose, 3 bedrooms and "to buy" in the first turn; the visit date in the second
    assert {name: c.tp for name, c in homes.scores.by_field.items()} == {
        "area": 1,
        "number_of_beds": 1,
        "intent": 1,
        "visit_date": 1,
    }
    assert report.star is not None
    assert report.star.by_constraint["Price"].hits == 1
    assert report.star.by_constraint["NumRooms"].hits == 1
    data = json.loads((tmp_path / "all.json").read_text("utf-8"))
    assert set(data["sgd"]) == {"Homes_2"}
    assert data["star"]["accuracy"]["Price"]["accuracy"] == 1.0
    table = report.table()
    assert "sgd Homes_2" in table
    assert "Price" in table


def test_sgd_runs_as_a_us_deployment_whatever_the_configured_market() -> None:
    mexican = Settings(llm_provider="none", home_country="MX", exchange_rates={"USD": 17.5})
    assert sgd_settings(mexican).market() == Market.default("US")
    assert sgd_settings(mexican).llm_provider == "none"


def test_sgd_service_option_keeps_one_service(tmp_path: Path) -> None:
    other = {**DIALOGUE, "id": "other", "services": ["Homes_1"]}
    path = tmp_path / "sgd_homes_dialogues.jsonl"
    path.write_text("\n".join(json.dumps(d) for d in (other, DIALOGUE, other)) + "\n", "utf-8")
    assert [d.service for d in load_dialogues(path)] == ["Homes_1", "Homes_2", "Homes_1"]
    assert [d.service for d in load_dialogues(path, limit=1)] == ["Homes_1", "Homes_2"]
    assert [d.service for d in load_dialogues(path, service="Homes_2")] == ["Homes_2"]
    report = run_eval(
        "sgd",
        settings=Settings(llm_provider="none"),
        data_dir=tmp_path,
        sgd_service="Homes_1",
        report_path=tmp_path / "sgd.json",
        progress=False,
    )
    assert set(report.sgd) == {"Homes_1"}
    assert report.sgd["Homes_1"].dialogues == 2
