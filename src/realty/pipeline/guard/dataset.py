"""The guard's data: the shared prompt-injection set, its split, and the project's own rows.

The shared set (``prompt_injection.jsonl``, 3,287 rows, see ``shared/datasets/README.md``) is
never copied into the repository; it is read from a path (default
``../shared/datasets/prompt_injection.jsonl`` relative to the repository). Its split is
deterministic:

* rows of deepset's own split keep it: ``category`` ``deepset_train`` → train,
  ``deepset_test`` → held-out;
* every other row goes by a stable hash of its ``id``: the first 8 bytes of
  ``sha256(id)`` as a big-endian integer, divided by 2**64; below 0.8 → train, else held-out.

The project's own examples (``realty/data/guard_train.jsonl``, written for this product:
Spanish injections and jailbreaks, Spanish and English real-estate messages including
corrections that say "ignore" or "olvida") are training data only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from realty.errors import ConfigurationError

Label = Literal["benign", "injection", "jailbreak"]
Split = Literal["train", "heldout"]
LABELS: tuple[Label, ...] = ("benign", "injection", "jailbreak")
TRAIN_SHARE = 0.8
DEFAULT_DATASET = Path("../shared/datasets/prompt_injection.jsonl")


def default_dataset() -> Path:
    """``../shared/datasets/prompt_injection.jsonl`` from the working directory, else from the
    repository this package was installed from (an editable install)."""
    if DEFAULT_DATASET.is_file():
        return DEFAULT_DATASET
    repository = Path(__file__).resolve().parents[4]
    beside = repository / DEFAULT_DATASET
    return beside if beside.is_file() else DEFAULT_DATASET


class Row(BaseModel):
    """One labelled message."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    text: str
    label: Label
    source: str = ""
    category: str = ""
    lang: str = "unk"


def split_of(row: Row) -> Split:
    """The split a row of the shared set belongs to (see the module docstring)."""
    if row.category == "deepset_train":
        return "train"
    if row.category == "deepset_test":
        return "heldout"
    digest = hashlib.sha256(row.id.encode("utf-8")).digest()
    share = int.from_bytes(digest[:8], "big") / 2**64
    return "train" if share < TRAIN_SHARE else "heldout"


def _parse(lines: Iterable[str], source: str) -> list[Row]:
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rows.append(Row.model_validate(json.loads(line)))
        except (ValueError, ValidationError) as exc:
            raise ConfigurationError(f"{source}, line {number}: not a labelled row: {exc}") from exc
    return rows


def load_rows(path: Path) -> list[Row]:
    """Every row of a JSONL file of labelled messages.

    Raises:
        ConfigurationError: The file cannot be read or a line is not a labelled row.
    """
    try:
        with path.open(encoding="utf-8") as source:
            return _parse(source, str(path))
    except OSError as exc:
        raise ConfigurationError(
            f"cannot read the guard dataset {path}: {exc}; pass --dataset PATH"
        ) from exc


def load_split(path: Path, split: Split) -> list[Row]:
    """The rows of the shared set in ``split``."""
    return [row for row in load_rows(path) if split_of(row) == split]


def own_rows() -> list[Row]:
    """The project's hand-written training examples (``realty/data/guard_train.jsonl``)."""
    ref = resources.files("realty.data").joinpath("guard_train.jsonl")
    return _parse(ref.read_text("utf-8").splitlines(), "guard_train.jsonl")
