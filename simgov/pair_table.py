"""The self-join's scored candidate pairs as one table (`SimIndex._pair_table`), put together from
the scoring chunks and kept with the generation.

A build of up to FIT_AT_BUILD_MAX_ITEMS listings already runs the self-join to fit the catalogue's
match model; `duplicates`, `counterfeits`, `rings` and `pairs` then ran it again each (on the demo
marketplace, about 20 s of each command's 30). The table is what the pairs are before any decision
(verdicts and the fitted model decide on it afresh), so it stays right for as long as the items and
the configuration do: it is read back only while no write was applied since it was made and with
the same configuration, k and bundled level model, else made again.
"""
from __future__ import annotations

import hashlib
import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import Config
from .matching.levels import MODEL_FILE

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

    def copied(self) -> tuple[np.ndarray, list[str], dict[int, str], np.ndarray]:
        """A copy, as `_pair_table` gives it, for a caller that re-scores rows in place (title_rescore)."""
        return self.table.copy(), list(self.names), dict(self.item_ids), self.knn.copy()


def table_key(applied_seq: int, k: int, config: Config) -> str:
    """What the table was made from: the store writes applied, the neighbours per signal, the
    configuration and the level model its logits come from (another simgov may ship another)."""
    digest = hashlib.sha256(config.model_dump_json().encode() + MODEL_FILE.read_bytes()).hexdigest()[:32]
    return f"{applied_seq}:{k}:{digest}"


def table_from_chunks(chunks: list, names: list[str]) -> tuple[np.ndarray, dict[int, str]]:
    """The table of the scored `chunks` (`PairScoring.finish`, emptied here) in key order, and the
    items' ids by vec_id."""
    # Scored pairs are kept as columns (numpy), not as a tuple with a dict per pair: about 70
    # bytes a pair instead of about 2 KB (100k items gave 756k pairs and a 1.5 GB peak; 1M
    # items give some 7.5M). Sellers become small ints, item ids are kept once per item, and
    # each signal's score is a column (NaN where the pair has none), rebuilt into the same
    # dict (registry order, as signal_scores gives it) when the pair is yielded.
    seller_codes: dict[str, int] = {}
    item_ids: dict[int, str] = {}
    # each chunk's (n, 6 + len(names)) float64 rows copied into the table and let go: the
    # table and the chunks are not held whole at once
    table = np.empty((sum(len(rows) for rows, _, _ in chunks), 6 + len(names)))
    end = len(table)
    while chunks:
        rows, sellers, ids = chunks.pop()
        codes = np.array([seller_codes.setdefault(x, len(seller_codes)) for x in sellers], dtype=np.float64)
        rows[:, 2:4] = codes[rows[:, 2:4].astype(np.int64)]  # the chunk's seller indexes -> this run's
        item_ids.update(ids)
        table[end - len(rows):end] = rows
        end -= len(rows)
    # in key order (a, then b), as the pairs were found: mutual best keeps the first of a tie;
    # a column at a time, so the table is not held twice
    order = np.lexsort((table[:, 1], table[:, 0]))
    for column in range(table.shape[1]):
        table[:, column] = table[order, column]
    return table, item_ids


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


class KeptPairTable:
    """The table an open index made or read back last, under its key: one self-join serves every
    `pairs` call of a process (the build's fit and its publish, a command's several detectors)."""

    def __init__(self) -> None:
        self._last: tuple[str, PairTable] | None = None

    def find(self, generation: Path | None, key: str, names: list[str]) -> PairTable | None:
        """The table made under `key` here or kept in the `generation` folder, if any."""
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        kept = load_pair_table(generation, key, names) if generation is not None else None
        if kept is not None:
            self._last = (key, kept)
        return kept

    def remember(self, key: str, kept: PairTable) -> None:
        self._last = (key, kept)
