"""Training the guard's classifier (``realty guard train``); needs scikit-learn.

Only the training split of the shared set (:func:`realty.pipeline.guard.dataset.split_of`)
and the project's own examples are read. The decision threshold is chosen by stratified
k-fold cross-validation on that training data alone: the lowest out-of-fold attack score
that keeps the out-of-fold false-positive rate on benign rows at or below ``target_fpr``
(overall and for Spanish rows). The held-out split is never looked at here.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from realty.errors import ConfigurationError
from realty.pipeline.guard.classifier import BENIGN, CharNgramClassifier
from realty.pipeline.guard.dataset import LABELS, TRAIN_SHARE, Row, load_split, own_rows
from realty.pipeline.guard.normalize import Normaliser


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """The model's hyperparameters (chosen with ``benchmarks/guard_models.py``, by
    cross-validation on the training split)."""

    ngram_range: tuple[int, int] = (2, 4)
    max_features: int = 30_000
    min_df: int = 2
    c: float = 32.0
    folds: int = 5
    target_fpr: float = 0.02
    own_weight: float = 3.0  # the project's own rows count this many times
    seed: int = 0


@dataclass(frozen=True, slots=True)
class CvResult:
    """Out-of-fold results on the training data at the chosen threshold."""

    threshold: float
    tpr: float
    fpr: float
    fpr_es: float
    auc: float


@dataclass(frozen=True, slots=True)
class TrainReport:
    """What ``realty guard train`` did."""

    rows: dict[str, int]
    cv: CvResult
    features: int
    bytes: int
    seconds: float
    out: str
    config: dict[str, Any] = field(default_factory=dict)


def _sklearn() -> Any:
    try:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ConfigurationError(
            "training the guard needs scikit-learn: pip install -e '.[train]'"
        ) from exc
    return TfidfVectorizer, LogisticRegression, StratifiedKFold


@dataclass(frozen=True, slots=True)
class TrainingData:
    """Folded texts, labels, weights and languages, row by row."""

    texts: list[str]
    labels: npt.NDArray[np.str_]
    weights: npt.NDArray[np.float64]
    langs: list[str]
    shared: npt.NDArray[np.bool_]  # the row comes from the shared set (not the project's own)

    @classmethod
    def of(
        cls, shared: Sequence[Row], own: Sequence[Row], normaliser: Normaliser, own_weight: float
    ) -> TrainingData:
        """Fold every text as the guard will see it; the project's rows weigh ``own_weight``."""
        rows = [*shared, *own]
        return cls(
            texts=[normaliser.folded(r.text) for r in rows],
            labels=np.array([r.label for r in rows]),
            weights=np.array([1.0] * len(shared) + [own_weight] * len(own)),
            langs=[r.lang for r in rows],
            shared=np.array([True] * len(shared) + [False] * len(own)),
        )


def fit(data: TrainingData, config: TrainConfig, threshold: float = 0.5) -> CharNgramClassifier:
    """Fit the vectoriser and the logistic regression and export them as plain arrays."""
    vectorizer_cls, regression_cls, _ = _sklearn()
    vectorizer = vectorizer_cls(
        analyzer="char_wb",
        ngram_range=config.ngram_range,
        lowercase=False,
        sublinear_tf=True,
        min_df=config.min_df,
        max_features=config.max_features,
        dtype=np.float32,
    )
    matrix = vectorizer.fit_transform(data.texts)
    model = regression_cls(
        C=config.c, class_weight="balanced", max_iter=3000, random_state=config.seed
    )
    model.fit(matrix, data.labels, sample_weight=data.weights)
    vocab = sorted(vectorizer.vocabulary_.items(), key=lambda item: item[1])
    classes = tuple(str(c) for c in model.classes_)
    return CharNgramClassifier(
        vocabulary=tuple(gram for gram, _ in vocab),
        idf=np.asarray(vectorizer.idf_, dtype=np.float32),
        coef=np.asarray(model.coef_, dtype=np.float32),
        intercept=np.asarray(model.intercept_, dtype=np.float32),
        classes=classes,
        ngram_range=config.ngram_range,
        threshold=threshold,
    )


def out_of_fold_scores(data: TrainingData, config: TrainConfig) -> npt.NDArray[np.float64]:
    """Each training row's attack score from a model that did not see it (k-fold)."""
    _, _, folds_cls = _sklearn()
    folds = folds_cls(n_splits=config.folds, shuffle=True, random_state=config.seed)
    scores = np.zeros(len(data.texts))
    for train_idx, test_idx in folds.split(data.texts, data.labels):
        part = TrainingData(
            texts=[data.texts[i] for i in train_idx],
            labels=data.labels[train_idx],
            weights=data.weights[train_idx],
            langs=[data.langs[i] for i in train_idx],
            shared=data.shared[train_idx],
        )
        model = fit(part, config)
        for i in test_idx:
            scores[i] = model.score(data.texts[i]).score
    return scores


def choose_threshold(
    scores: npt.NDArray[np.float64], data: TrainingData, target_fpr: float
) -> CvResult:
    """The lowest threshold whose out-of-fold FPR (all benign rows, Spanish benign rows, and
    the shared set's benign rows, which the project's easier own rows would otherwise dilute)
    stays at or below ``target_fpr``; with its out-of-fold TPR and the ROC AUC."""
    benign = data.labels == BENIGN
    spanish = np.array([lang == "es" for lang in data.langs])
    shared = data.shared

    def rate(mask: npt.NDArray[np.bool_], threshold: float) -> float:
        return float((scores[mask] >= threshold).mean()) if mask.any() else 0.0

    candidates = np.unique(np.concatenate([scores, [1.0]]))
    threshold = 1.0
    for value in candidates:
        fine = all(
            rate(mask, value) <= target_fpr for mask in (benign, benign & spanish, benign & shared)
        )
        if fine:
            threshold = float(value)
            break
    return CvResult(
        threshold=round(threshold, 6),
        tpr=round(rate(~benign, threshold), 4),
        fpr=round(rate(benign, threshold), 4),
        fpr_es=round(rate(benign & spanish, threshold), 4),
        auc=round(_auc(scores[~benign], scores[benign]), 4),
    )


def _auc(positive: npt.NDArray[np.float64], negative: npt.NDArray[np.float64]) -> float:
    """The probability that an attack scores above a benign row (ties count half)."""
    if not len(positive) or not len(negative):
        return float("nan")
    ranks = np.argsort(np.argsort(np.concatenate([positive, negative]), kind="stable"))
    wins = ranks[: len(positive)].sum() - len(positive) * (len(positive) - 1) / 2
    return float(wins / (len(positive) * len(negative)))


def train(
    dataset: Path, out: Path, config: TrainConfig | None = None, own: Sequence[Row] | None = None
) -> TrainReport:
    """Train on the training split and the project's rows, choose the threshold by
    cross-validation, fit on everything and write the model to ``out``."""
    config = config or TrainConfig()
    started = time.perf_counter()
    shared = load_split(dataset, "train")
    own = list(own_rows() if own is None else own)
    present = {row.label for row in [*shared, *own]}
    if present != set(LABELS):
        raise ConfigurationError(f"{dataset}: the training split needs every label {LABELS}")
    data = TrainingData.of(shared, own, Normaliser(), config.own_weight)
    cv = choose_threshold(out_of_fold_scores(data, config), data, config.target_fpr)
    model = fit(data, config, threshold=cv.threshold)
    counts = Counter(str(label) for label in data.labels)
    meta = {
        "trained_on": {"shared_train_rows": len(shared), "own_rows": len(own), **counts},
        "split": f"deepset's own split; other rows sha256(id) < {TRAIN_SHARE} → train",
        "cv": asdict(cv),
        "config": asdict(config),
    }
    model = CharNgramClassifier(
        vocabulary=model.vocabulary,
        idf=model.idf,
        coef=model.coef,
        intercept=model.intercept,
        classes=model.classes,
        ngram_range=model.ngram_range,
        threshold=cv.threshold,
        meta=meta,
    )
    model.save(out)
    return TrainReport(
        rows=dict(counts),
        cv=cv,
        features=len(model.vocabulary),
        bytes=out.stat().st_size,
        seconds=round(time.perf_counter() - started, 1),
        out=str(out),
        config=asdict(config),
    )
