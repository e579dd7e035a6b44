"""Where people are: home coordinates, the nearest store and the store they use most.

Home is the mean of the coordinates on the person's customer records that give both latitude and
longitude. Distances are great-circle (haversine) distances on a sphere of the Earth's mean radius,
in km. A store appearing in several sources counts once, at the mean of its coordinates.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from jingzhun.profile.keys import left_join

__all__ = ["EARTH_RADIUS_KM", "haversine_km", "home_features", "store_features"]

EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1: ir.FloatingValue, lon1: ir.FloatingValue,
                 lat2: ir.FloatingValue, lon2: ir.FloatingValue) -> ir.FloatingValue:
    phi1, phi2 = lat1.radians(), lat2.radians()
    dphi = (lat2 - lat1).radians()
    dlmb = (lon2 - lon1).radians()
    a = (dphi / 2).sin() ** 2 + phi1.cos() * phi2.cos() * (dlmb / 2).sin() ** 2
    return 2 * EARTH_RADIUS_KM * a.sqrt().clip(upper=1.0).asin()


def home_features(customers: ir.Table) -> ir.Table:
    located = customers.filter(customers.latitude.notnull() & customers.longitude.notnull())
    return located.group_by("profile_id").aggregate(
        home_latitude=located.latitude.mean(), home_longitude=located.longitude.mean())


def _stores(stores: ir.Table) -> ir.Table:
    s = stores.filter(stores.latitude.notnull() & stores.longitude.notnull())
    return s.group_by("store_id").aggregate(s_lat=s.latitude.mean(), s_lon=s.longitude.mean())


def store_features(homes: ir.Table, orders: ir.Table, stores: ir.Table) -> ir.Table:
    """Nearest store and top store (most purchase orders; ties: smallest id) with distances from home.

    ``homes`` has profile_id, home_latitude, home_longitude; ``orders`` are purchase orders with
    profile_id and store_id.
    """
    s = _stores(stores)
    pairs = homes.cross_join(s)
    pairs = pairs.mutate(km=haversine_km(pairs.home_latitude, pairs.home_longitude, pairs.s_lat, pairs.s_lon))
    nearest = pairs.group_by("profile_id").aggregate(
        nearest_store_km=pairs.km.min(), nearest_store_id=pairs.store_id.argmin(pairs.km))

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
