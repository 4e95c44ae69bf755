"""loopnest.mapping"""
