"""Cost model: mappings -> per-level access counts -> energy, cycles, utilization."""

from loopnest.model.costs import BatchCosts, evaluate_batch
from loopnest.model.result import Result, evaluate

__all__ = ["BatchCosts", "Result", "evaluate", "evaluate_batch"]
