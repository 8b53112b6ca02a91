"""Combining signal scores into decisions: the item-pair combination (`combine`), the decision
and relation (`decision`), thresholds (`thresholds`, `calibration.json`), grouping of links
(`grouping`) and thresholds set from verdicts (`calibrate`).

No signal is named here: each signal class declares its part in the combination
(`simgov.signals.base.Signal.match_part`), and the combination iterates over the registered
signals. Import the submodules directly (`simgov.matching.thresholds` is a leaf that any layer may
read)."""
