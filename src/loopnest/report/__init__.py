"""loopnest.report"""
