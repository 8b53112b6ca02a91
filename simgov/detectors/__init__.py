"""Detectors turn nearest neighbours into findings: duplicates, counterfeits, linked accounts."""
