"""What the avatar and creator-video account signals share: a search structure that is one FAISS
binary index of PDQ hashes in one file of the index folder (each signal says which hashes an
account puts in, under which ids), and the signature of the files an account names."""
from __future__ import annotations

from abc import abstractmethod
from pathlib import Path
from typing import ClassVar

import numpy as np

from ..errors import ImageRejected
from ..imageio import file_signature, resolve_inside
from ..signals.base import BuildContext
from ..signals.pdq_orb_index import PDQ_BITS
from ..vectors import BinaryIndex
from .base import AccountRecord, AccountSignal


def path_signature(path_text: str, ctx: BuildContext) -> str:
    """The file's size and time (a changed file re-encodes the account), "unusable" when it cannot be read."""
    try:
        return file_signature(resolve_inside(path_text, ctx.data_roots))
    except (ImageRejected, OSError):
        return "unusable"


class PdqIndexedSignal(AccountSignal):
    """An account signal searched through a PDQ hash index saved as `index_file`."""

    index_file: ClassVar[str]

    def __init__(self, config):
        super().__init__(config)
        self.index: BinaryIndex | None = None

    @abstractmethod
    def pdq_entries(self, records: list[AccountRecord]) -> tuple[list[int], list[np.ndarray]]:
        """Index ids and packed PDQ hashes (32 bytes each) that these accounts put in."""

    def reset(self, expected: int) -> None:
        self.index = BinaryIndex.create(PDQ_BITS, max(1, expected), self.config.binary_index)

    def add(self, records: list[AccountRecord]) -> None:
        ids, codes = self.pdq_entries(records)
        if ids:
            self.index.add(np.array(ids, dtype=np.int64), np.stack(codes))

    def save(self, folder: Path) -> list[str]:
        self.index.save(folder / self.index_file)
        return [self.index_file]

    def load(self, folder: Path) -> None:
        self.index = BinaryIndex.load(folder / self.index_file)

    def size(self) -> int:
        return self.index.ntotal if self.index else 0
