"""loopnest.codesign"""
