"""trialsupp.publish"""
