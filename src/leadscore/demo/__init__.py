"""Synthetic demo data for the lead-scoring pipeline: landing files plus the hidden ground truth.

Run `python -m leadscore.demo.generate --help`.
"""
