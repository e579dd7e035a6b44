"""The simulator as referee: how well did the pipeline recover the truth?

Identity: every identifier the simulator wrote is normalised and keyed exactly as a load does it, looked
up in ``identity_map``, and the resolved profiles are compared with the true persons by pairwise
precision and recall (two identifiers of one true person in one profile is a true pair).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from jingzhun.config import Settings
from jingzhun.identity.evaluate import pairwise_scores
from jingzhun.privacy import key_for
from jingzhun.quality.normalise import normalise_value
from jingzhun.warehouse import Warehouse

__all__ = ["identity_scores", "keyed_truth", "person_profiles"]


def keyed_truth(truth_dir: str | Path, *, secret: str, settings: Settings) -> pd.DataFrame:
    """The simulator's identifiers with the key a load gives each (null where quality rejects the value)."""
    truth = pd.read_parquet(Path(truth_dir) / "identifiers.parquet")
    truth = truth[truth.kind != "record_id"].copy()
    norm = [normalise_value(k, v, default_country_code=settings.quality.default_country_code).value
            for k, v in zip(truth.kind, truth.value)]
    truth["key"] = [key_for(k, n, secret) for k, n in zip(truth.kind, norm)]
    return truth


def person_profiles(warehouse: Warehouse, truth_dir: str | Path, *, secret: str, settings: Settings) -> pd.DataFrame:
    """Each true person's profile: the one holding most of their identifiers (ties: the smallest id).

    Columns person_id, profile_id; people none of whose identifiers reached a profile are left out.
    Tests and reports use it to compare what the pipeline computed per profile with the truth per person.
    """
    truth = keyed_truth(truth_dir, secret=secret, settings=settings)
    truth = truth[truth.person_id.notna() & truth.key.notna()].drop_duplicates(["kind", "key"])
    imap = warehouse.execute(warehouse.table("identity_map").select("kind", "key", "profile_id", "is_shared"))
    linked = truth.merge(imap[~imap.is_shared.astype(bool)], on=["kind", "key"])
    votes = linked.groupby(["person_id", "profile_id"]).size().rename("n").reset_index()
    votes = votes.sort_values(["person_id", "n", "profile_id"], ascending=[True, False, True])
    return votes.drop_duplicates("person_id")[["person_id", "profile_id"]].reset_index(drop=True)


def identity_scores(warehouse: Warehouse, truth_dir: str | Path, *, secret: str, settings: Settings) -> dict:
    truth = keyed_truth(truth_dir, secret=secret, settings=settings)
    imap = warehouse.execute(warehouse.table("identity_map").select("kind", "key", "profile_id", "is_shared"))
    merged = truth.merge(imap, on=["kind", "key"], how="left")
    usable = merged[merged.key.notna() & ~merged.is_shared_x.astype(bool)]
    usable = usable.drop_duplicates(["kind", "key"])
    found = usable[usable.profile_id.notna()]
    precision, recall = pairwise_scores(found.profile_id.reset_index(drop=True),
                                        found.person_id.reset_index(drop=True))
    persons_per_profile = found.groupby("profile_id").person_id.nunique()
    shared = merged[merged.is_shared_x.astype(bool) & merged.key.notna()].drop_duplicates(["kind", "key"])
    return {
        "identifiers": int(len(usable)),
        "identifiers_missing_from_map": int(usable.profile_id.isna().sum()),
        "identifiers_rejected_by_quality": int(merged.key.isna().sum()),
        "true_persons": int(found.person_id.nunique()),
        "profiles": int(found.profile_id.nunique()),
        "pairwise_precision": round(precision, 5),
        "pairwise_recall": round(recall, 5),
        "profiles_mixing_persons": int((persons_per_profile > 1).sum()),
        "shared_identifiers": int(len(shared)),
        "shared_identifiers_isolated": int((shared.is_shared_y.isna() | shared.is_shared_y.eq(True)).sum()),
    }
