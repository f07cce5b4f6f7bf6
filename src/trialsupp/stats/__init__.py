"""trialsupp.stats"""
