"""Where people are: home coordinates, the nearest store and the store they use most.

Home is the mean of the coordinates on the person's customer records that give both latitude and
longitude. Distances are great-circle (haversine) distances on a sphere of the Earth's mean radius,
in km. A store appearing in several sources counts once, at the mean of its coordinates.

The nearest store is exact, but not every home is measured against every store (a million homes and
two hundred stores would be two hundred million distances). Homes are grouped in cells of
``CELL_DEGREES`` of latitude and longitude. No point of a cell is farther than ``reach`` =
R x radians(CELL_DEGREES) from the cell's centre (go along the meridian, then along the parallel: at
most half the cell's height plus half its width in arc). By the triangle inequality, a store more than
``2 x reach`` farther from the centre than the centre's nearest store is farther from every home of
the cell than that store, so it cannot be nearest; the other stores are the cell's candidates, and
each home is measured against its cell's candidates only.
"""

from __future__ import annotations

import math

import ibis
import ibis.expr.types as ir

from jingzhun.profile.keys import left_join

__all__ = ["EARTH_RADIUS_KM", "CELL_DEGREES", "haversine_km", "home_features", "store_points", "candidate_distances",
           "store_features"]

EARTH_RADIUS_KM = 6371.0088
CELL_DEGREES = 0.05  # about 5.6 km of latitude: a few thousand cells for a country's homes
_SLACK_KM = 1e-6  # rounding in the distances must never drop the true nearest store


def haversine_km(lat1, lon1, lat2, lon2) -> ir.FloatingValue:
    """Great-circle distance in km between two points given in degrees: Ibis expressions or plain numbers.

    The one distance of the project: features, the audience language's ``within`` and the location
    helpers of campaigns all call it, so a person is never 4.99 km away in one place and 5.01 in another.
    """
    lat1, lon1, lat2, lon2 = (ibis.literal(float(v)) if isinstance(v, (int, float)) else v
                              for v in (lat1, lon1, lat2, lon2))
    phi1, phi2 = lat1.radians(), lat2.radians()
    dphi = (lat2 - lat1).radians()
    dlmb = (lon2 - lon1).radians()
    a = (dphi / 2).sin() ** 2 + phi1.cos() * phi2.cos() * (dlmb / 2).sin() ** 2
    # rounding can push a a hair past 1 for antipodal points, where asin would give NaN
    return 2 * EARTH_RADIUS_KM * a.sqrt().clip(upper=1.0).asin()


def home_features(customers: ir.Table) -> ir.Table:
    located = customers.filter(customers.latitude.notnull() & customers.longitude.notnull())
    return located.group_by("profile_id").aggregate(
        home_latitude=located.latitude.mean(), home_longitude=located.longitude.mean())


def store_points(stores: ir.Table) -> ir.Table:
    """store_id, s_lat, s_lon: one row per store with coordinates (a store in several sources at their mean)."""
    s = stores.filter(stores.latitude.notnull() & stores.longitude.notnull())
    return s.group_by("store_id").aggregate(s_lat=s.latitude.mean(), s_lon=s.longitude.mean())


def _candidates(cells: ir.Table, stores: ir.Table) -> ir.Table:
    """(cell_lat, cell_lon, store_id, s_lat, s_lon): the stores that can be nearest to some point of the cell."""
    centres = cells.mutate(
        c_lat=((cells.cell_lat.cast("float64") + 0.5) * CELL_DEGREES).clip(lower=-90.0, upper=90.0),
        c_lon=(cells.cell_lon.cast("float64") + 0.5) * CELL_DEGREES)
    pairs = centres.cross_join(stores)
    pairs = pairs.mutate(c_km=haversine_km(pairs.c_lat, pairs.c_lon, pairs.s_lat, pairs.s_lon))
    best = pairs.group_by(["cell_lat", "cell_lon"]).aggregate(best_km=pairs.c_km.min())
    reach = EARTH_RADIUS_KM * math.radians(CELL_DEGREES)
    near = pairs.join(best, ["cell_lat", "cell_lon"])
    near = near.filter(near.c_km <= near.best_km + 2 * reach + _SLACK_KM)
    return near.select("cell_lat", "cell_lon", "store_id", "s_lat", "s_lon")


def candidate_distances(homes: ir.Table, stores: ir.Table) -> ir.Table:
    """profile_id, store_id, km: each home against the stores that can be nearest to it (its cell's candidates).

    ``homes`` has profile_id, home_latitude, home_longitude; ``stores`` has store_id, s_lat, s_lon (one
    row per store). The true nearest store of every home is always among its rows.
    """
    h = homes.mutate(cell_lat=(homes.home_latitude / CELL_DEGREES).floor().cast("int64"),
                     cell_lon=(homes.home_longitude / CELL_DEGREES).floor().cast("int64"))
    pairs = h.join(_candidates(h.select("cell_lat", "cell_lon").distinct(), stores), ["cell_lat", "cell_lon"])
    return pairs.select("profile_id", "store_id",
                        km=haversine_km(pairs.home_latitude, pairs.home_longitude, pairs.s_lat, pairs.s_lon))


def _nearest(homes: ir.Table, stores: ir.Table) -> ir.Table:
    """profile_id, nearest_store_km, nearest_store_id: every home against its cell's candidate stores."""
    pairs = candidate_distances(homes, stores)
    return pairs.group_by("profile_id").aggregate(
        nearest_store_km=pairs.km.min(), nearest_store_id=pairs.store_id.argmin(pairs.km))


def store_features(homes: ir.Table, orders: ir.Table, stores: ir.Table) -> ir.Table:
    """Nearest store and top store (most purchase orders; ties: smallest id) with distances from home.

    ``homes`` has profile_id, home_latitude, home_longitude; ``orders`` are purchase orders with
    profile_id and store_id.
    """
    s = store_points(stores)
    nearest = _nearest(homes, s)

    o = orders.filter(orders.store_id.notnull() & (orders.store_id != ""))
    counts = o.group_by(["profile_id", "store_id"]).aggregate(n=o.count())
    rank = ibis.row_number().over(ibis.window(group_by=counts.profile_id,
                                              order_by=[ibis.desc(counts.n), counts.store_id]))
    top = counts.mutate(rank=rank)
    top = top.filter(top["rank"] == 0).select("profile_id", store_id=top.store_id)
    top = left_join(top, homes, "profile_id")
    top = left_join(top, s, "store_id")
    top = top.select("profile_id", top_store_id=top.store_id,
                     top_store_km=haversine_km(top.home_latitude, top.home_longitude, top.s_lat, top.s_lon))
    return nearest.outer_join(top, "profile_id").select(
        profile_id=ibis.coalesce(nearest.profile_id, top.profile_id),
        nearest_store_id=nearest.nearest_store_id, nearest_store_km=nearest.nearest_store_km,
        top_store_id=top.top_store_id, top_store_km=top.top_store_km,
    )
