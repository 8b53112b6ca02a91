#!/usr/bin/env python
"""Fit the bundled level match model (simgov/matching/level_model.json) on the development sets.

Development sets only (the split of issue 15, fixed before any result): WDC {cameras, computers,
shoes, watches}-train and beer (all splits) from ../shared/testdata/product-pairs, each pair alone as
`simgov compare --pairs` decides it; and Abt-Buy as a catalogue: the candidate pairs that index
lookups give (title kNN, k=10, both ways, plus model-code keys, as evaluation/abt_buy_matcher.py),
labelled by its gold pairs. The held-out sets (WDC *-valid, itunes-amazon) are never read here.

Every pair's comparison levels come from the shipped code (`simgov.compare.Comparer`), the title levels
from the exact model's cosines whatever the default engine: the static engine re-scores with the exact
model every pair that a title band would decide otherwise, so the bands its decisions rest on are the
exact model's (fitted on the static engine's own cosines, the held-out WDC F1 was 0.762 / 0.790 / 0.786 /
0.788 against 0.768 / 0.799 / 0.783 / 0.798, session 10). The weights
are a logistic regression (L2, C=1) on the one-hot levels (`simgov.matching.levels.design`), each
set weighted equally: Fellegi-Sunter match weights fitted jointly, so that correlated comparisons
are not counted twice. Needs scikit-learn (the dev extra); the runtime model needs only the JSON.

    HF_HUB_OFFLINE=1 .venv/bin/python -m evaluation.fit_level_model [--out FILE] [--C 1.0] [--added NAME,...]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402

from evaluation.abt_buy_matcher import DEFAULT_DATA as ABT_BUY, candidates, load  # noqa: E402
from evaluation.product_pairs import DATA, DEVELOPMENT, load_pairs, prf  # noqa: E402
from simgov.compare import Comparer, Listing  # noqa: E402
from simgov.config import Config, TextModelConfig  # noqa: E402
from simgov.matching.levels import (JOINT, LEVELS, MODEL_FILE, MatchModel, bundled_model, design,  # noqa: E402
                                    feature_names)
from simgov.signals.text import profile  # noqa: E402


def pairs_levels(comparer: Comparer, name: str) -> tuple[list[dict], np.ndarray]:
    """The levels of every pair of a pairs set (word weights over the set's listings) and its labels."""
    pairs = load_pairs(name)
    listings = [(Listing.model_validate(a), Listing.model_validate(b)) for a, b, _ in pairs]
    comparer.idf = comparer.population_idf([x for pair in listings for x in pair])
    results = comparer.compare_many(listings, [DATA])
    return [r.levels for r in results], np.array([y for *_, y in pairs])


def abt_buy_levels(comparer: Comparer, data: Path = ABT_BUY) -> tuple[list[dict], np.ndarray]:
    """Abt-Buy's candidate pairs from index-style lookups, their levels and gold labels."""
    abt, buy, gold = load(data)
    side_a = [Listing(title=n, description=d or None) for n, d in zip(abt["name"], abt["description"])]
    side_b = [Listing(title=n, description=d or None) for n, d in zip(buy["name"], buy["description"])]
    ea, eb = comparer.title.encode(list(abt["name"])), comparer.title.encode(list(buy["name"]))
    pa = [profile(x.title, description=x.description) for x in side_a]
    pb = [profile(x.title, description=x.description) for x in side_b]
    knn, codes = candidates(ea, eb, pa, pb, 10, 50)
    found = sorted(knn | codes)
    comparer.idf = comparer.population_idf(side_a + side_b)
    results = comparer.compare_many([(side_a[i], side_b[j]) for i, j in found], [data])
    labels = np.array([int((abt["id"][i], buy["id"][j]) in gold) for i, j in found])
    return [r.levels for r in results], labels


def fit(sets: dict[str, tuple[list[dict], np.ndarray]], C: float) -> MatchModel:
    from sklearn.linear_model import LogisticRegression

    X = np.concatenate([design(levels) for levels, _ in sets.values()])
    y = np.concatenate([labels for _, labels in sets.values()])
    w = np.concatenate([np.full(len(labels), 1.0 / len(labels)) for _, labels in sets.values()])
    w *= len(w) / w.sum()
    lr = LogisticRegression(C=C, max_iter=5000).fit(X, y, sample_weight=w)
    source = (f"python -m evaluation.fit_level_model: logistic regression (C={C}) on the one-hot levels of "
              f"{len(y)} labelled pairs of the development sets ({', '.join(sets)}), each set weighted equally")
    return MatchModel(float(lr.intercept_[0]), dict(zip(feature_names(), map(float, lr.coef_[0]))),
                      comparisons=list(LEVELS), joint=JOINT, train_prior=float(np.average(y, weights=w)),
                      source=source)


def fit_added(sets: dict[str, tuple[list[dict], np.ndarray]], base: MatchModel, added: list[str],
              C: float) -> MatchModel:
    """The weights of comparisons `added` to a fitted model, the model's own weights kept: the same
    L2 logistic loss with the base model's logit as an offset. A refit of every weight moves categories
    the new levels never fire on by up to a point (the weights are shared); this one leaves them as
    they were."""
    from scipy.optimize import minimize

    wanted = set(added_features(added))
    columns = [i for i, name in enumerate(feature_names()) if name in wanted]
    X = np.concatenate([design(levels)[:, columns] for levels, _ in sets.values()])
    offset = np.concatenate([[base.logit(lv) for lv in levels] for levels, _ in sets.values()])
    y = np.concatenate([labels for _, labels in sets.values()])
    w = np.concatenate([np.full(len(labels), 1.0 / len(labels)) for _, labels in sets.values()])
    w *= len(w) / w.sum()

    def loss(beta):
        z = offset + X @ beta
        return (np.sum(w * (np.logaddexp(0, z) - y * z)) + beta @ beta / (2 * C),
                X.T @ (w * (1 / (1 + np.exp(-z)) - y)) + beta / C)

    beta = minimize(loss, np.zeros(X.shape[1]), jac=True, method="L-BFGS-B").x
    joint = [f"{x}&{y}" for x, y in _joint_of(added)]
    what = ", ".join(added) + (f" and of their joint levels ({', '.join(joint)})" if joint else "")
    source = (f"{base.source}; then the weights of {what} alone (python -m evaluation.fit_level_model "
              f"--added {','.join(added)}: logistic regression (C={C}) with the other weights kept)")
    fitted = dict(zip([feature_names()[i] for i in columns], map(float, beta)))
    return MatchModel(base.intercept, {**base.weights, **fitted},
                      comparisons=[c for c in LEVELS if c in base.comparisons or c in added], joint=base.joint,
                      train_prior=base.train_prior, source=source)


def added_features(added: list[str]) -> list[str]:
    """The weights `fit_added` fits: the levels of the comparisons `added`, and the joint levels of every pair
    of JOINT that one of them is part of (a joint level's weight is fitted again with its comparison's)."""
    return feature_names(added, ()) + feature_names((), _joint_of(added))


def _joint_of(added: list[str]) -> list[tuple[str, str]]:
    """The pairs of JOINT that a comparison of `added` is part of."""
    return [pair for pair in JOINT if set(pair) & set(added)]


def without(model: MatchModel, comparisons: list[str]) -> MatchModel:
    """The model less some comparisons and their weights: the base of `fit_added` when their levels
    changed (a comparison that reads more of the titles is fitted again, the others kept)."""
    prefixes = tuple(f"{c}=" for c in comparisons)
    return MatchModel(model.intercept, {n: w for n, w in model.weights.items()
                                        if not any(part.startswith(prefixes) for part in n.split("&"))},
                      comparisons=[c for c in model.comparisons if c not in comparisons], joint=model.joint,
                      train_prior=model.train_prior, source=model.source)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=MODEL_FILE, help=f"where to write the model (default {MODEL_FILE})")
    ap.add_argument("--C", type=float, default=1.0, help="inverse L2 strength of the logistic regression")
    ap.add_argument("--added", help="comparisons new to the bundled model, or whose levels changed (comma-separated): "
                                    "fit their weights alone, the bundled model's other weights kept")
    args = ap.parse_args(argv)
    comparer = Comparer.bundled(Config(text_model=TextModelConfig(engine="exact")))
    sets = {}
    for name in DEVELOPMENT:
        sets[name] = pairs_levels(comparer, name)
        print(f"{name}: {len(sets[name][1])} pairs", file=sys.stderr, flush=True)
    sets["abt-buy"] = abt_buy_levels(comparer)
    print(f"abt-buy: {len(sets['abt-buy'][1])} candidate pairs", file=sys.stderr, flush=True)
    if args.added:
        added = args.added.split(",")
        if not set(added) <= set(LEVELS):
            ap.error(f"--added names comparisons of the code ({', '.join(LEVELS)})")
        model = fit_added(sets, without(bundled_model(), added), added, args.C)
    else:
        model = fit(sets, args.C)
    args.out.write_text(json.dumps(model.to_dict(), indent=1) + "\n", encoding="utf-8")
    print(f"written to {args.out}; in-sample F1 (posterior >= 0.5, each pair alone):")
    for name, (levels, labels) in sets.items():
        p, r, f = prf([model.posterior(lv) >= 0.5 for lv in levels], labels)
        print(f"  {name:22s} {f:.3f} (P {p:.2f} R {r:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
