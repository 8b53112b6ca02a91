#!/usr/bin/env python
"""The index path on a labelled pairs set built as a catalogue of two sellers: F1 of the self-join's
`match` over the set's labelled pairs, the index's level model with its catalogue fit against the
formula it replaced (`matching.combine`, mutual best on its rank score), on the same candidate pairs.

Each set of ../shared/testdata/product-pairs becomes one index: every distinct left offer a listing of
seller `left`, every distinct right offer one of seller `right` (as evaluation.product_pairs turns
offers into items). A labelled pair that is no candidate of the self-join counts as not matched. The
split of issue 15 holds: itunes-amazon is held out, beer is development.

    HF_HUB_OFFLINE=1 .venv/bin/python -m evaluation.catalogue_pairs [--sets itunes-amazon-all,beer-all] [--work DIR]
        [--config SETTINGS]   (e.g. text_model.engine = static, search.pairs_lexical_k = 10)

"N of M matches": the labelled matches among the self-join's candidate pairs (its candidate recall).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402

from evaluation.product_pairs import load_pairs, prf  # noqa: E402
from simgov.build.local import build  # noqa: E402
from simgov.config import Config  # noqa: E402
from simgov.index import SimIndex  # noqa: E402
from simgov.matching.combine import combine_both  # noqa: E402
from simgov.matching.decision import mutual_best_arrays  # noqa: E402
from simgov.title_rescore import rescore_pairs  # noqa: E402


def write_catalogue(name: str, folder: Path) -> dict[tuple[str, str], int]:
    """items.jsonl of the set's distinct offers; the labels by (left item id, right item id)."""
    ids: dict[tuple[str, str], str] = {}

    def item_id(side: str, item: dict) -> str:
        return ids.setdefault((side, json.dumps(item, sort_keys=True)), f"{side}-{len(ids)}")

    labelled = {(item_id("left", a), item_id("right", b)): y for a, b, y in load_pairs(name)}
    with open(folder / "items.jsonl", "w", encoding="utf-8") as fh:
        for (side, item), i in ids.items():
            fh.write(json.dumps({"item_id": i, "seller_id": side, **json.loads(item)}, ensure_ascii=False) + "\n")
    return labelled


def decisions(index: SimIndex) -> tuple[dict[tuple[str, str], bool], dict[tuple[str, str], bool], dict, int]:
    """Every candidate pair's match by the formula and by the index's level model, the fit, and how many
    pairs the static engine re-scored with the exact model."""
    table, names, item_ids, knn = index._pair_table(index.config.search.pairs_k, 20_000, 1)
    a, b, seller_a, seller_b = (table[:, i].astype(np.int64) for i in range(4))
    formula = np.array([combine_both({n: v for n, v in zip(names, row) if v == v}) for row in table[:, 6:].tolist()])
    formula = formula.reshape(len(table), 2)
    flags = mutual_best_arrays(a, b, seller_a, seller_b, formula[:, 0])
    old = np.where(flags, formula[:, 1], formula[:, 0]) >= 0.5
    _, _, fit = index._catalogue_model(table, names, item_ids, None, knn)
    flags = index._decide_levels(table, names, item_ids, fit, knn)
    rescored = rescore_pairs(index, table, names, flags)  # as `SimIndex.pairs` does (static engine, rescore_bands)
    new = np.where(flags, table[:, 5], table[:, 4]) >= 0.5
    keys = [tuple(sorted((item_ids[x], item_ids[y]))) for x, y in zip(a.tolist(), b.tolist())]
    return dict(zip(keys, old.tolist())), dict(zip(keys, new.tolist())), fit.to_dict(), rescored


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", default="itunes-amazon-all,beer-all")
    ap.add_argument("--work", type=Path, help="folder for the indexes (default: a temporary one)")
    ap.add_argument("--config", type=Path, help="settings file for the builds (default: the defaults)")
    args = ap.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="simgov-catalogue-"))
    for name in args.sets.split(","):
        folder = work / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        labelled = write_catalogue(name, folder)
        build(folder / "items.jsonl", folder / "index", Config.load(args.config))
        index = SimIndex.open(folder / "index")
        try:
            old, new, fit, rescored = decisions(index)
            encoded, listings = index.signals["title"].exact_encoded, index.store.count_items()
        finally:
            index.close()
        labels = list(labelled.values())
        candidates = sum(k in new for k in labelled)
        matches = [k for k, y in labelled.items() if y == 1]
        for what, found in (("matching.combine", old), ("level model + catalogue fit", new)):
            p, r, f = prf([found.get(k, False) for k in labelled], labels)
            print(f"{name:18s} {what:28s} F1 {f:.3f} (P {p:.2f} R {r:.2f}) over {len(labels)} labelled pairs "
                  f"({candidates} candidates, {sum(k in new for k in matches)} of {len(matches)} matches)")
        print(f"{name:18s} fit: match rate {fit['match_rate']:.3f}, mutual best {fit['mutual_yes']:+.2f} / "
              f"{fit['mutual_no']:+.2f} ({fit['mutual_pairs']} of {fit['pairs']} pairs)")
        if rescored:
            print(f"{name:18s} exact re-scoring: {rescored} pairs, {encoded} of {listings} titles encoded "
                  f"({100 * encoded / listings:.1f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
