"""trialsupp.display"""
