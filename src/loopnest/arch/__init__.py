"""loopnest.arch"""
