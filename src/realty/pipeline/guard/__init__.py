"""The guard stage (limits, normalisation, heuristic rules, classifier): docs/guard.md."""

from realty.pipeline.guard.classifier import CharNgramClassifier, ClassifierScore
from realty.pipeline.guard.core import CLASSIFIER, Guard, GuardMode, GuardVerdict, clean
from realty.pipeline.guard.normalize import Normaliser, Views
from realty.pipeline.guard.rules import RuleHit, RuleSet

__all__ = [
    "CLASSIFIER",
    "CharNgramClassifier",
    "ClassifierScore",
    "Guard",
    "GuardMode",
    "GuardVerdict",
    "Normaliser",
    "RuleHit",
    "RuleSet",
    "Views",
    "clean",
]
