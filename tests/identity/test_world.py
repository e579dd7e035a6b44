"""A generated world with the truth known: pairwise precision and recall, and the guards at scale."""

from __future__ import annotations

import pandas as pd
import pytest

from jingzhun.identity import pairwise_scores, resolve
from jingzhun.identity.synthetic import generate_world


@pytest.fixture(scope="module")
def world2000():
    return generate_world(2000, seed=7)


def _scored(warehouse, world):
    imap = warehouse.execute(warehouse.table("identity_map"))
    return world.truth.merge(imap, on=["kind", "key"], how="left")


def test_precision_and_recall_on_a_generated_world(warehouse, world2000):
    world2000.load(warehouse)
    result = resolve(warehouse)
    merged = _scored(warehouse, world2000)
    assert merged.profile_id.notna().all(), "every identifier gets a row in identity_map"
    people = merged[merged.person >= 0]
    precision, recall = pairwise_scores(people.profile_id, people.person)
    assert precision >= 0.995, (precision, recall)
    assert recall >= 0.98, (precision, recall)
    # every planted identifier that belongs to nobody is set aside
    planted = merged[merged.person < 0]
    assert planted.is_shared.all(), planted[~planted.is_shared]
    assert result.matched_edges > 0 and result.shared == len(planted)


def test_used_edges_partition_equals_the_map(warehouse, world2000):
    world2000.load(warehouse)
    resolve(warehouse)
    edges = warehouse.execute(warehouse.table("identity_edges"))
    imap = warehouse.execute(warehouse.table("identity_map"))
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:
            parent[x], x = root, parent[x]
        return root

    used = edges[edges.used]
    for a, b in zip(used.kind_a + ":" + used.key_a, used.kind_b + ":" + used.key_b):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    imap["node"] = imap.kind + ":" + imap.key
    imap["root"] = imap.node.map(find)
    people = imap[~imap.is_shared]
    # the same partition: every profile is one union-find set and every set one profile
    assert (people.groupby("profile_id").root.nunique() == 1).all()
    assert (people.groupby("root").profile_id.nunique() == 1).all()
    shared_nodes = set(imap.node[imap.is_shared])
    touching = used[(used.kind_a + ":" + used.key_a).isin(shared_nodes) | (used.kind_b + ":" + used.key_b).isin(shared_nodes)]
    assert touching.empty, "no used edge touches a shared identifier"


def test_pairwise_scores_from_cluster_sizes():
    precision, recall = pairwise_scores(pd.Series(["a", "a", "b", "b", None]), pd.Series([1, 1, 1, 2, 2]))
    assert (precision, recall) == (0.5, 0.25)
    assert pairwise_scores(pd.Series(["a", "b"]), pd.Series([1, 2])) == (1.0, 1.0)
