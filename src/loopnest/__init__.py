"""loopnest: evaluate and co-design DNN accelerators.

Data flows one way: workload + arch -> mapping -> model -> search -> analysis -> dse -> report/cli.
Importing the package is light: heavy modules load on first use.
"""

__version__ = "0.1.0"


def __getattr__(name: str):
    """``loopnest.map_network`` (the mapper with the CLI's inputs and defaults) and
    ``loopnest.map_crossbar_network`` (the crossbar mapper, for PIM architectures), loaded on first use."""
    if name in ("map_network", "map_crossbar_network"):
        from loopnest.search import api

        return getattr(api, name)
    raise AttributeError(f"module 'loopnest' has no attribute {name!r}")


__all__ = ["__version__", "map_network", "map_crossbar_network"]
