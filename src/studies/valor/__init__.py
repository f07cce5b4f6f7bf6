"""Analyses of the simulated VALOR / OLE study: data selection plus calls to
``trialsupp.stats``, returning ARD rows. No statistic is computed here.

Modules: ``design`` (study-config constants, data dictionary), ``baseline``,
``consort``, ``survival``, ``safety`` (long-term supplement frame); efficacy,
biomarker, individual and calibration analyses live beside them.
"""
