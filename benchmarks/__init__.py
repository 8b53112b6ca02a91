"""Every benchmark of simgov and the runner behind `make bench` (run_all).

Run from the repository root: `.venv/bin/python -m benchmarks.NAME --help`; shared helpers live in common.py.
"""
