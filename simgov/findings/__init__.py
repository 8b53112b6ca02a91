"""Findings: every kind of trouble the detectors find in one list (counterfeit suspects, duplicate
groups, rings of linked accounts, bank hits), kept current, reviewed through verdicts, and the
seller risk they add up to."""
