"""The simulated retail world (placeholder docstring; see world.py)."""

from jingzhun.sim.options import SimOptions
from jingzhun.sim.world import SOURCE_FILES, TRUTH_FILES, World, simulate

__all__ = ["simulate", "World", "SimOptions", "SOURCE_FILES", "TRUTH_FILES"]
