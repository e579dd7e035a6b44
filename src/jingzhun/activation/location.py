"""Where a campaign's people are: around stores, around a point, inside an area, in a store's catchment.

Every function returns an Ibis table with ``profile_id`` (and the distance where there is one), which a
campaign uses as its audience or joins to one. A person's home is ``home_latitude`` / ``home_longitude``
of ``profile_features`` (the mean of the coordinates on their customer records); people without home
coordinates are in no location selection. Stores are the ``stores`` table, a store listed by several
sources once, at the mean of its coordinates.

Distances are great-circle (haversine) km from :func:`jingzhun.profile.geo.haversine_km`, the one
distance the features and the audience language's ``within`` also use. The nearest of several stores is
found exactly without measuring every home against every store (the feature build's cell pruning,
:func:`jingzhun.profile.geo.candidate_distances`); two stores at exactly the same distance go to the
smaller store id, so both engines pick the same one.

Areas drawn as polygons are tested in the plane of longitude and latitude (edges are straight lines on
a map in degrees): right for the few kilometres of a district or a city, not for areas that cross the
180th meridian or a pole.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import ibis
import ibis.expr.types as ir

from jingzhun.activation.errors import ActivationError
from jingzhun.profile.geo import candidate_distances, haversine_km, store_points
from jingzhun.warehouse import Warehouse

__all__ = ["LocationError", "BOUNDARY_DEGREES", "homes", "nearest_store", "near_store", "near_point", "in_area",
           "store_catchment"]

# A home this close to a polygon's edge (in degrees, about 0.1 mm) is on the edge, and inside.
BOUNDARY_DEGREES = 1e-9


class LocationError(ActivationError):
    """A location selection asked with stores, radii or areas that cannot be used."""


def homes(warehouse: Warehouse) -> ir.Table:
    """profile_id, home_latitude, home_longitude of everyone with a known home."""
    pf = warehouse.table("profile_features")
    pf = pf.filter(pf.home_latitude.notnull() & pf.home_longitude.notnull())
    return pf.select("profile_id", "home_latitude", "home_longitude")


def _stores(warehouse: Warehouse, store_ids: Iterable[str] | None) -> ir.Table:
    points = store_points(warehouse.table("stores"))
    if store_ids is None:
        return points
    wanted = sorted({str(s) for s in ([store_ids] if isinstance(store_ids, str) else store_ids)})
    if not wanted:
        raise LocationError("name at least one store")
    points = points.filter(points.store_id.isin(wanted))
    known = set(warehouse.execute(points.select("store_id")).store_id)
    missing = [s for s in wanted if s not in known]
    if missing:
        raise LocationError(f"no store {', '.join(map(repr, missing))} with coordinates in `stores`; "
                            "check the store ids, or load the stores' latitude and longitude")
    return points


def _radius(km: float) -> float:
    if not (isinstance(km, (int, float)) and math.isfinite(km) and km >= 0):
        raise LocationError(f"a radius is a number of km, 0 or more, got {km!r}")
    return float(km)


def _point(lat: float, lon: float) -> tuple[float, float]:
    if not (isinstance(lat, (int, float)) and isinstance(lon, (int, float)) and -90 <= lat <= 90
            and -180 <= lon <= 180):
        raise LocationError(f"a point is (latitude, longitude) in degrees, latitude -90..90 and longitude "
                            f"-180..180, got ({lat!r}, {lon!r})")
    return float(lat), float(lon)


def nearest_store(warehouse: Warehouse, store_ids: Iterable[str] | None = None) -> ir.Table:
    """profile_id, store_id, distance_km: each person's nearest store among ``store_ids`` (default: all)."""
    pairs = candidate_distances(homes(warehouse), _stores(warehouse, store_ids))
    first = ibis.row_number().over(ibis.window(group_by=pairs.profile_id, order_by=[pairs.km, pairs.store_id]))
    ranked = pairs.mutate(_rank=first)
    ranked = ranked.filter(ranked._rank == 0)
    return ranked.select("profile_id", "store_id", distance_km=ranked.km)


def near_store(warehouse: Warehouse, store_ids: Iterable[str] | str, km: float) -> ir.Table:
    """profile_id, store_id, distance_km: everyone within ``km`` of any of the stores, with the nearest of them."""
    near = nearest_store(warehouse, store_ids)
    return near.filter(near.distance_km <= _radius(km))


def near_point(warehouse: Warehouse, lat: float, lon: float, km: float) -> ir.Table:
    """profile_id, distance_km: everyone within ``km`` of the point (``lat``, ``lon``)."""
    lat, lon = _point(lat, lon)
    h = homes(warehouse)
    h = h.select("profile_id", distance_km=haversine_km(h.home_latitude, h.home_longitude, lat, lon))
    return h.filter(h.distance_km <= _radius(km))


def store_catchment(warehouse: Warehouse, store_id: str) -> ir.Table:
    """profile_id, store_id, distance_km: the people whose nearest store (among all stores) is ``store_id``."""
    _stores(warehouse, [store_id])  # an unknown store is an error, not an empty catchment
    near = nearest_store(warehouse)
    return near.filter(near.store_id == str(store_id))


def in_area(warehouse: Warehouse, polygon: Sequence[tuple[float, float]] | None = None, *,
            city: str | Iterable[str] | None = None, region: str | Iterable[str] | None = None) -> ir.Table:
    """profile_id of the people whose home is inside ``polygon``, or whose city or region is one given.

    ``polygon`` is its corners as (latitude, longitude), in order around it (either way round; the first
    corner may be repeated at the end); it may be concave. A home on an edge or a corner (within
    :data:`BOUNDARY_DEGREES`) is inside. ``city`` and ``region`` compare with the profile's ``city`` and
    ``region`` exactly as the customer records spell them (``上海``, ``上海市``). Give exactly one.
    """
    given = [name for name, value in (("polygon", polygon), ("city", city), ("region", region)) if value is not None]
    if len(given) != 1:
        raise LocationError("give exactly one area: polygon=[(lat, lon), ...], city= or region="
                            + (f" (got {' and '.join(given)})" if given else ""))
    if polygon is not None:
        h = homes(warehouse)
        return h.filter(_inside(_corners(polygon), h.home_latitude, h.home_longitude)).select("profile_id")
    field, values = ("city", city) if city is not None else ("region", region)
    names = [values] if isinstance(values, str) else [str(v) for v in values]
    if not names:
        raise LocationError(f"name at least one {field}")
    pf = warehouse.table("profile_features")
    return pf.filter(pf[field].isin(names)).select("profile_id")


def _corners(polygon: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    corners = []
    for i, corner in enumerate(polygon):
        try:
            lat, lon = corner
        except (TypeError, ValueError):
            raise LocationError(f"polygon corner {i} is {corner!r}; a corner is (latitude, longitude)") from None
        try:
            corners.append(_point(lat, lon))
        except LocationError as exc:
            raise LocationError(f"polygon corner {i}: {exc}") from None
    if len(corners) > 1 and corners[0] == corners[-1]:
        corners.pop()
    if len(set(corners)) < 3:
        raise LocationError(f"a polygon needs at least 3 different corners, got {len(set(corners))}")
    return corners


def _inside(corners: list[tuple[float, float]], lat: ir.FloatingValue, lon: ir.FloatingValue) -> ir.BooleanValue:
    """Even-odd rule: a ray from the point towards growing longitude crosses the edges an odd number of
    times when the point is inside; points on an edge are caught first, since the ray cannot judge them.

    With y = latitude and x = longitude, an edge (x1, y1) -> (x2, y2) is crossed when exactly one end
    is above the point (y1 > y) != (y2 > y), left of where the edge meets the point's parallel:
    x < x1 + (y - y1) (x2 - x1) / (y2 - y1). The corners are numbers, so each edge is a few literals.
    """
    crossings = []
    on_edge = []
    for (y1, x1), (y2, x2) in zip(corners, corners[1:] + corners[:1]):
        if y1 != y2:
            meets = x1 + (lat - y1) * ((x2 - x1) / (y2 - y1))
            crossings.append(ibis.ifelse(((lat > y1) != (lat > y2)) & (lon < meets), 1, 0))
        length = math.hypot(x2 - x1, y2 - y1)
        cross = (lon - x1) * (y2 - y1) - (lat - y1) * (x2 - x1)  # zero on the edge's line
        on_edge.append((cross.abs() <= BOUNDARY_DEGREES * length)
                       & lat.between(min(y1, y2) - BOUNDARY_DEGREES, max(y1, y2) + BOUNDARY_DEGREES)
                       & lon.between(min(x1, x2) - BOUNDARY_DEGREES, max(x1, x2) + BOUNDARY_DEGREES))
    odd = (sum(crossings[1:], crossings[0]) % 2 == 1) if crossings else ibis.literal(False)
    edge = on_edge[0]
    for e in on_edge[1:]:
        edge = edge | e
    return (edge | odd).fill_null(False)
