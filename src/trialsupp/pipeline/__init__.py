"""trialsupp.pipeline"""
