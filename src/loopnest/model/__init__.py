"""loopnest.model"""
