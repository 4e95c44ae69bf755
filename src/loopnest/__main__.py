"""`python -m loopnest ...`: the same program as the `loopnest` command."""

from loopnest.cli import main

main()
