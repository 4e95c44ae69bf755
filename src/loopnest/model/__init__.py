"""Cost model: mappings -> per-level access counts -> energy, cycles, utilization."""

from loopnest.model.costs import BatchCosts, ModelInvariantError, evaluate_batch
from loopnest.model.limits import CountLimitError, check_countable
from loopnest.model.result import Result, evaluate

__all__ = ["BatchCosts", "CountLimitError", "ModelInvariantError", "Result", "check_countable", "evaluate", "evaluate_batch"]
