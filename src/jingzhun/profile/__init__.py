"""Profiles: features per person (RFM, shares, hours, price sensitivity, tenure, ...) and later the tags.

    from jingzhun.profile import build_features
    result = build_features(warehouse, as_of="2025-01-01T00:00:00Z")               # incremental when it can
    result = build_features(warehouse, as_of="2025-01-01T00:00:00Z", full=True)    # everyone

docs/features.md defines every column of ``profile_features`` and how the refresh works.
"""

from jingzhun.profile.clock import Clock
from jingzhun.profile.features import FeatureInputs, feature_table, prepare_inputs, time_relative
from jingzhun.profile.keys import attach_profiles, keyed_customers, keyed_events, keyed_orders
from jingzhun.profile.refresh import FeatureResult, build_features, last_state

__all__ = [
    "build_features", "FeatureResult", "last_state", "Clock", "FeatureInputs", "prepare_inputs", "feature_table",
    "time_relative", "attach_profiles", "keyed_orders", "keyed_events", "keyed_customers",
]
