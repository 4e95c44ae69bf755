"""loopnest: evaluate and co-design DNN accelerators.

Data flows one way: workload + arch -> mapping -> model -> search -> analysis -> dse -> report/cli.
Importing the package is light: heavy modules load on first use.
"""

__version__ = "0.1.0"
