"""The self-join's scored candidate pairs (`SimIndex._pair_table`) kept with the generation.

A build of up to FIT_AT_BUILD_MAX_ITEMS listings already runs the self-join to fit the catalogue's
match model; `duplicates`, `counterfeits`, `rings` and `pairs` then ran it again each (on the demo
marketplace, about 20 s of each command's 30). The table is what the pairs are before any decision
(verdicts and the fitted model decide on it afresh), so it stays right for as long as the items and
the configuration do: it is read back only while no write was applied since it was made and with
the same configuration and k, else made again.
"""
from __future__ import annotations

import hashlib
import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import Config

log = logging.getLogger(__name__)

#: The file in a generation folder.
KEPT_PAIRS_FILE = "pair_table.npz"


@dataclass(frozen=True)
class PairTable:
    """`SimIndex._pair_table`'s result: scored rows, the signals' names of its columns, the items'
    ids by vec_id, and which rows the k-NN found."""
    table: np.ndarray
    names: list[str]
    item_ids: dict[int, str]
    knn: np.ndarray

    def copy(self) -> "PairTable":
        """A copy for a caller that re-scores rows in place (title_rescore)."""
        return PairTable(self.table.copy(), list(self.names), dict(self.item_ids), self.knn.copy())


def table_key(applied_seq: int, k: int, config: Config) -> str:
    """What the table was made from: the store writes applied, the neighbours per signal, the configuration."""
    digest = hashlib.sha256(config.model_dump_json().encode()).hexdigest()[:32]
    return f"{applied_seq}:{k}:{digest}"


def save_pair_table(folder: Path, key: str, kept: PairTable) -> None:
    """Write the table into a generation folder that is not published yet (its fsync is the publisher's)."""
    ids = sorted(kept.item_ids)
    with open(folder / KEPT_PAIRS_FILE, "wb") as out:
        np.savez(out, key=np.array(key), table=kept.table, names=np.array(kept.names, dtype=str),
                 vec_ids=np.array(ids, dtype=np.int64), item_ids=np.array([kept.item_ids[v] for v in ids], dtype=str),
                 knn=kept.knn)


def load_pair_table(folder: Path, key: str, names: list[str]) -> PairTable | None:
    """The table kept in a generation folder when it was made under `key`, its signal columns in the
    order of `names` (the index's signals as opened, which a build may have listed otherwise); None
    when there is none, it was made under another key or other signals, or it does not read back."""
    path = folder / KEPT_PAIRS_FILE
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as kept:
            made_with = kept["names"].tolist()
            if str(kept["key"]) != key or sorted(made_with) != sorted(names):
                return None
            order = list(range(6)) + [6 + made_with.index(name) for name in names]
            item_ids = dict(zip(kept["vec_ids"].tolist(), kept["item_ids"].tolist()))
            return PairTable(kept["table"][:, order], list(names), item_ids, kept["knn"])
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        log.warning("the kept pair table %s does not read back (%s); the self-join runs again", path, exc)
        return None
