"""loopnest.analysis"""
