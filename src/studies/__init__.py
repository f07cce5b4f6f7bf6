"""Study-specific analyses: data selection plus calls to trialsupp.stats, returning ARD rows."""
