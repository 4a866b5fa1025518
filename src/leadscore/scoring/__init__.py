"""Scoring support code: rulebook validation before any scoring SQL runs."""
