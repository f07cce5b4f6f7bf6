"""trialsupp.simulate"""
