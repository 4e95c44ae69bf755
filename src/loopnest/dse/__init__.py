"""loopnest.dse"""
