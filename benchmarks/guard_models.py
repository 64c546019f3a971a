"""Compare guard classifiers by cross-validation on the training split only.

    python benchmarks/guard_models.py [--dataset PATH] [--folds N]

Every candidate is scored with out-of-fold predictions on the training split of the shared
prompt-injection set plus the project's own rows (never the held-out split): the TPR at an
out-of-fold FPR of 1% and 2%, the ROC AUC, the size of the exported model and the time to fit
it once. Prints one table; docs/guard.md explains the choice.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from realty.pipeline.guard.dataset import DEFAULT_DATASET, load_split, own_rows
from realty.pipeline.guard.normalize import Normaliser
from realty.pipeline.guard.train import TrainConfig, TrainingData, fit

Scores = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Candidate:
    name: str
    vectorizer: Callable[[], Any]
    model: Callable[[], Any]
    config: TrainConfig | None = None  # set when the model is the shipped kind (exportable)


def _char(low: int, high: int, features: int) -> Callable[[], Any]:
    return lambda: TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(low, high),
        lowercase=False,
        sublinear_tf=True,
        min_df=2,
        max_features=features,
        dtype=np.float32,
    )


def _word() -> Any:
    return TfidfVectorizer(
        analyzer="word", ngram_range=(1, 2), lowercase=False, sublinear_tf=True, min_df=1
    )


def _lr(c: float) -> Callable[[], Any]:
    return lambda: LogisticRegression(C=c, class_weight="balanced", max_iter=3000)


CANDIDATES = [
    Candidate("word 1-2 + LR C=8", _word, _lr(8.0)),
    Candidate(
        "char_wb 2-4, 30k + LR C=8",
        _char(2, 4, 30_000),
        _lr(8.0),
        TrainConfig(ngram_range=(2, 4), max_features=30_000),
    ),
    Candidate(
        "char_wb 2-4, 30k + LR C=32",
        _char(2, 4, 30_000),
        _lr(32.0),
        TrainConfig(ngram_range=(2, 4), max_features=30_000, c=32.0),
    ),
    Candidate("char_wb 2-5, 60k + LR C=2", _char(2, 5, 60_000), _lr(2.0), TrainConfig(c=2.0)),
    Candidate("char_wb 2-5, 60k + LR C=8", _char(2, 5, 60_000), _lr(8.0), TrainConfig(c=8.0)),
    Candidate("char_wb 2-5, 60k + LR C=32", _char(2, 5, 60_000), _lr(32.0), TrainConfig(c=32.0)),
    Candidate(
        "char_wb 2-5, 150k + LR C=8",
        _char(2, 5, 150_000),
        _lr(8.0),
        TrainConfig(max_features=150_000, c=8.0),
    ),
    Candidate(
        "char_wb 3-6, 100k + LR C=8",
        _char(3, 6, 100_000),
        _lr(8.0),
        TrainConfig(ngram_range=(3, 6), max_features=100_000, c=8.0),
    ),
    Candidate(
        "char_wb 2-5, 60k + LinearSVC",
        _char(2, 5, 60_000),
        lambda: LinearSVC(C=0.5, class_weight="balanced"),
    ),
]


def _attack_scores(model: Any, matrix: Any) -> Scores:
    classes = list(model.classes_)
    if hasattr(model, "predict_proba"):
        return 1.0 - np.asarray(model.predict_proba(matrix))[:, classes.index("benign")]
    decision = np.asarray(model.decision_function(matrix))
    return -decision[:, classes.index("benign")]


def _tpr_at(scores: Scores, attack: npt.NDArray[np.bool_], fpr: float) -> float:
    benign = np.sort(scores[~attack])[::-1]
    allowed = int(np.floor(fpr * len(benign)))
    threshold = benign[allowed] if allowed < len(benign) else -np.inf
    return float((scores[attack] > threshold).mean())


def _auc(scores: Scores, attack: npt.NDArray[np.bool_]) -> float:
    pos, neg = scores[attack], scores[~attack]
    ranks = np.argsort(np.argsort(np.concatenate([pos, neg]), kind="stable"))
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) - 1) / 2) / (len(pos) * len(neg)))


def _size(candidate: Candidate, data: TrainingData) -> str:
    """The exported model's size in MB (only for the kind the guard ships)."""
    if candidate.config is None:
        return "-"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.npz"
        fit(data, candidate.config).save(path)
        return f"{path.stat().st_size / 1e6:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    shared = load_split(args.dataset, "train")
    own = own_rows()
    data = TrainingData.of(shared, own, Normaliser(), TrainConfig().own_weight)
    attack = data.labels != "benign"
    folds = list(
        StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=0).split(
            data.texts, data.labels
        )
    )
    print(f"{len(data.texts)} training rows ({len(own)} the project's own), {args.folds} folds")
    print(f"{'candidate':34}{'TPR@1%':>8}{'TPR@2%':>8}{'AUC':>8}{'MB':>7}{'fit s':>7}")
    for candidate in CANDIDATES:
        scores = np.zeros(len(data.texts))
        fit_s = 0.0
        for train_idx, test_idx in folds:
            vectorizer, model = candidate.vectorizer(), candidate.model()
            started = time.perf_counter()
            matrix = vectorizer.fit_transform([data.texts[i] for i in train_idx])
            model.fit(matrix, data.labels[train_idx], sample_weight=data.weights[train_idx])
            fit_s += time.perf_counter() - started
            scores[test_idx] = _attack_scores(
                model, vectorizer.transform([data.texts[i] for i in test_idx])
            )
        print(
            f"{candidate.name:34}{_tpr_at(scores, attack, 0.01):>8.3f}"
            f"{_tpr_at(scores, attack, 0.02):>8.3f}{_auc(scores, attack):>8.4f}"
            f"{_size(candidate, data):>7}{fit_s / len(folds):>7.1f}"
        )


if __name__ == "__main__":
    main()
