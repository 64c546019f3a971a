"""The guard's learned layer: a character n-gram linear classifier scored with numpy alone.

The model is trained by ``realty guard train`` (:mod:`realty.pipeline.guard.train`, which
needs scikit-learn) and shipped as ``realty/data/guard_model.npz``: plain arrays (the n-gram
vocabulary, its idf weights, the coefficients of a multinomial logistic regression, the
decision threshold chosen by cross-validation) and a JSON header, no pickle. Features are
scikit-learn's ``TfidfVectorizer(analyzer="char_wb", lowercase=False, sublinear_tf=True)``,
rebuilt here so that serving needs numpy only; a test checks both give the same scores.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from realty.errors import ConfigurationError

AttackLabel = Literal["injection", "jailbreak"]
BENIGN = "benign"
FORMAT = "realty-guard-charngram/1"
_SEPARATOR = "\x00"  # joins the vocabulary into one byte string (n-grams never contain it)

Floats = npt.NDArray[np.float32]


def char_wb_ngrams(text: str, low: int, high: int) -> Iterator[str]:
    """The character n-grams of each word padded with a space, as scikit-learn's ``char_wb``
    analyzer produces them (a word shorter than ``n`` yields itself once)."""
    for word in text.split():
        padded = f" {word} "
        size = len(padded)
        for n in range(low, high + 1):
            if size <= n:
                yield padded
                break
            for start in range(size - n + 1):
                yield padded[start : start + n]


@dataclass(frozen=True, slots=True)
class ClassifierScore:
    """How likely a message is an attack, and of which kind."""

    score: float  # 1 - P(benign), in 0..1
    label: AttackLabel  # the likelier attack class


@dataclass(frozen=True)
class CharNgramClassifier:
    """Scores the guard's folded view of a message (see :mod:`realty.pipeline.guard.normalize`).

    Build it with :meth:`load` once per process (the service factory does); it is immutable
    and safe to share between threads.
    """

    vocabulary: tuple[str, ...]
    idf: Floats
    coef: Floats  # (classes, features)
    intercept: Floats  # (classes,)
    classes: tuple[str, ...]
    ngram_range: tuple[int, int]
    threshold: float
    meta: dict[str, Any] = field(default_factory=dict)
    _index: dict[str, int] = field(init=False, repr=False, compare=False)
    _benign: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if BENIGN not in self.classes or len(self.classes) < 2:
            raise ConfigurationError("guard model: the classes must include 'benign'")
        shape = (len(self.classes), len(self.vocabulary))
        if self.coef.shape != shape or self.idf.shape != (len(self.vocabulary),):
            raise ConfigurationError(f"guard model: arrays do not match {shape}")
        object.__setattr__(self, "_index", {g: i for i, g in enumerate(self.vocabulary)})
        object.__setattr__(self, "_benign", self.classes.index(BENIGN))

    # ---- scoring ----

    def features(self, text: str) -> tuple[npt.NDArray[np.intp], Floats]:
        """The non-zero tf-idf features of ``text``: indices and L2-normalised values."""
        low, high = self.ngram_range
        index = self._index
        counts = Counter(
            i for i in (index.get(g) for g in char_wb_ngrams(text, low, high)) if i is not None
        )
        if not counts:
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.float32)
        idx = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
        values = (np.log(tf) + 1.0) * self.idf[idx]
        norm = float(np.sqrt(np.dot(values, values)))
        return idx, (values / norm).astype(np.float32)

    def probabilities(self, text: str) -> Floats:
        """The class probabilities of ``text``, in the order of :attr:`classes`."""
        idx, values = self.features(text)
        logits: Floats = self.coef[:, idx] @ values + self.intercept
        exp: Floats = np.exp(logits - logits.max())
        probabilities: Floats = (exp / exp.sum()).astype(np.float32)
        return probabilities

    def score(self, text: str) -> ClassifierScore:
        """The attack score of ``text`` (the folded view) and the likelier attack class."""
        probs = self.probabilities(text)
        attack = [(float(p), c) for c, p in zip(self.classes, probs, strict=True) if c != BENIGN]
        label = max(attack)[1]
        score = 1.0 - float(probs[self._benign])
        return ClassifierScore(
            score=min(1.0, max(0.0, score)),
            label="jailbreak" if label == "jailbreak" else "injection",
        )

    # ---- storage ----

    def save(self, path: Path) -> None:
        """Write the model as a compressed ``.npz`` of plain arrays (no pickle)."""
        header = {
            "format": FORMAT,
            "classes": list(self.classes),
            "ngram_range": list(self.ngram_range),
            "threshold": self.threshold,
            "meta": self.meta,
        }
        vocab = _SEPARATOR.join(self.vocabulary).encode("utf-8")
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as sink:
            np.savez_compressed(
                sink,
                header=np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8),
                vocabulary=np.frombuffer(vocab, dtype=np.uint8),
                idf=self.idf.astype(np.float32),
                coef=self.coef.astype(np.float32),
                intercept=self.intercept.astype(np.float32),
            )

    @classmethod
    def load(cls, path: Path | None = None) -> CharNgramClassifier:
        """Read a model written by :meth:`save` (default: the packaged ``guard_model.npz``).

        Raises:
            ConfigurationError: The file is missing, unreadable or not a guard model.
        """
        source = str(path) if path is not None else "the packaged guard_model.npz"
        try:
            if path is None:
                ref = resources.files("realty.data").joinpath("guard_model.npz")
                with ref.open("rb") as stream:
                    return cls._read(stream)
            with path.open("rb") as stream:
                return cls._read(stream)
        except (OSError, ValueError, KeyError) as exc:
            raise ConfigurationError(
                f"{source} is not a usable guard model ({exc}); rebuild it with "
                "`realty guard train` or set REALTY_GUARD_MODEL_PATH"
            ) from exc

    @classmethod
    def _read(cls, stream: Any) -> CharNgramClassifier:
        with np.load(stream, allow_pickle=False) as data:
            header = json.loads(bytes(data["header"]).decode("utf-8"))
            if header.get("format") != FORMAT:
                raise ValueError(f"format {header.get('format')!r}, expected {FORMAT!r}")
            vocab = bytes(data["vocabulary"]).decode("utf-8").split(_SEPARATOR)
            low, high = (int(n) for n in header["ngram_range"])
            threshold = float(header["threshold"])
            if not math.isfinite(threshold):
                raise ValueError("the threshold is not a number")
            return cls(
                vocabulary=tuple(vocab),
                idf=np.asarray(data["idf"], dtype=np.float32),
                coef=np.asarray(data["coef"], dtype=np.float32),
                intercept=np.asarray(data["intercept"], dtype=np.float32),
                classes=tuple(str(c) for c in header["classes"]),
                ngram_range=(low, high),
                threshold=threshold,
                meta=dict(header.get("meta", {})),
            )
