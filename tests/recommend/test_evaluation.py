"""Ranking metrics against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from jingzhun.recommend.evaluation import coverage, mean_metrics, novelty, ranking_metrics, relevant_new_items


def _rows(sets, n_items=10):
    data = [(r, i) for r, items in enumerate(sets) for i in items]
    r, c = zip(*data)
    return sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(len(sets), n_items))


def test_ranking_metrics_by_hand():
    recommended = np.array([[0, 1, 2], [3, 4, -1]])
    relevant = _rows([{1, 5}, {4}])
    got = ranking_metrics(recommended, relevant)
    # person 0: a hit at rank 2 of 3, two relevant items
    assert got.loc[0, "precision"] == pytest.approx(1 / 3)
    assert got.loc[0, "recall"] == pytest.approx(1 / 2)
    assert got.loc[0, "ndcg"] == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    assert got.loc[0, "map"] == pytest.approx((1 / 2) / 2)
    # person 1: a hit at rank 2, one relevant item; the empty third slot is no hit
    assert got.loc[1, "recall"] == 1.0
    assert got.loc[1, "ndcg"] == pytest.approx(1 / math.log2(3))
    assert got.loc[1, "map"] == pytest.approx(1 / 2)
    assert got["hit_rate"].tolist() == [1.0, 1.0]
    means = mean_metrics(recommended, relevant)
    assert means["ndcg"] == pytest.approx(got["ndcg"].mean())


def test_perfect_and_empty_lists():
    relevant = _rows([{2, 7}])
    perfect = ranking_metrics(np.array([[7, 2, 0]]), relevant).iloc[0]
    assert perfect["ndcg"] == pytest.approx(1.0) and perfect["map"] == pytest.approx(1.0)
    assert perfect["recall"] == 1.0 and perfect["precision"] == pytest.approx(2 / 3)
    empty = ranking_metrics(np.array([[-1, -1, -1]]), relevant).iloc[0]
    assert empty["ndcg"] == 0 and empty["hit_rate"] == 0 and empty["map"] == 0


def test_coverage_and_novelty_by_hand():
    recommended = np.array([[0, 1, 2], [3, 4, -1]])
    assert coverage(recommended, 10) == 0.5
    # four training buyers: item 0 bought by 2 (1 bit), 1 by 1 (2 bits), 2 by all (0 bits),
    # 3 by nobody (counted as one buyer: 2 bits), 4 by 1 (2 bits)
    train = _rows([{0, 1, 2}, {0, 2}, {2, 4}, {2}])
    assert novelty(recommended, train) == pytest.approx((1 + 2 + 0 + 2 + 2) / 5)


def test_relevant_items_are_new_to_the_person():
    train = _rows([{0, 1}, {2}])
    test = _rows([{1, 3}, {2}])
    assert relevant_new_items(train, test).toarray().nonzero() == (np.array([0]), np.array([3]))
