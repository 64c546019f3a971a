"""Distances on the Earth's surface. Pure functions."""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0088  # the mean radius (IUGG)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points given in degrees, in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lon: float, km: float) -> tuple[float, float, float, float]:
    """``(lat_min, lat_max, lon_min, lon_max)`` of a box holding every point within ``km``.

    The box is what an index can search; the exact circle is checked with
    :func:`haversine_km` afterwards. Near the poles the box spans every longitude.
    """
    dlat = math.degrees(km / EARTH_RADIUS_KM)
    lat_min, lat_max = max(-90.0, lat - dlat), min(90.0, lat + dlat)
    cos_lat = math.cos(math.radians(max(abs(lat_min), abs(lat_max))))
    if cos_lat < 1e-6:
        return lat_min, lat_max, -180.0, 180.0
    dlon = math.degrees(km / (EARTH_RADIUS_KM * cos_lat))
    if dlon >= 180:
        return lat_min, lat_max, -180.0, 180.0
    return lat_min, lat_max, lon - dlon, lon + dlon
