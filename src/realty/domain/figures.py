"""Figures as people say them: the roundest amount a computed one stands for."""

from __future__ import annotations


def roundest(value: float, error: float) -> float:
    """The roundest figure within ``error`` of ``value`` (to two decimals at least): "1 USD
    per sq ft" for 10,000 sq ft is 10.76 USD/m² × 929.03 m² = 9,996.36, but that product can
    be off by 4.6 either way, and 10,000 is within it."""
    best = round(value, 2)
    for digits in range(13):
        rounder = float(round(value, -digits))
        if abs(rounder - value) > error or rounder == 0:
            break
        best = rounder
    return best
