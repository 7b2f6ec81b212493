"""Markbook: headless assessment tracking."""
