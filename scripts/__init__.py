"""Operator tools: the kill test of the build (kill_build), the soak test (soak) and the calibration study
(calibrate_from_verdicts). Run from the repository root: `.venv/bin/python -m scripts.NAME --help`.
"""
