"""trialsupp.data"""
