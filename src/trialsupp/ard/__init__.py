"""trialsupp.ard"""
