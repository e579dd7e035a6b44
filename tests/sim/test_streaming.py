"""simulate_to writes the same world as simulate().write, without holding it in memory."""

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from jingzhun.sim import SOURCE_FILES, TRUTH_FILES, simulate, simulate_to


def _same_files(a, b):
    for rel in {**SOURCE_FILES, **TRUTH_FILES}.values():
        if rel.endswith(".csv"):
            assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
        else:
            assert pq.read_table(a / rel).equals(pq.read_table(b / rel)), rel
    assert (a / "truth/params.json").read_text() == (b / "truth/params.json").read_text()


def test_streamed_world_equals_the_in_memory_one(tmp_path):
    simulate(1500, seed=4).write(tmp_path / "memory")
    simulate_to(tmp_path / "stream", 1500, seed=4)
    _same_files(tmp_path / "memory", tmp_path / "stream")


@pytest.mark.slow
def test_streamed_world_equals_the_in_memory_one_across_blocks(tmp_path):
    n = 120_000  # three blocks of 50,000
    simulate(n, seed=2).write(tmp_path / "memory")
    simulate_to(tmp_path / "stream", n, seed=2)
    _same_files(tmp_path / "memory", tmp_path / "stream")
    customers = pacsv.read_csv(tmp_path / "stream" / "customers.csv")
    assert customers.num_rows > n
