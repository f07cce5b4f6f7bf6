"""trialsupp: traceable clinical-trial supplements.

Import stays cheap (no pandas/matplotlib at import time); use the subpackages:
``trialsupp.data``, ``trialsupp.stats``, ``trialsupp.ard``, ``trialsupp.display``,
``trialsupp.publish``, ``trialsupp.pipeline``, ``trialsupp.project``.
"""
__version__ = "0.1.0"
