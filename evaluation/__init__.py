"""Quality evaluations on public benchmarks (Abt-Buy, FEBRL), run through the shipped CLI.

Run from the repository root: `.venv/bin/python -m evaluation.NAME --help`.
"""
