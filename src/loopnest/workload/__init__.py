"""loopnest.workload"""
