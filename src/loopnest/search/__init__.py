"""loopnest.search"""
