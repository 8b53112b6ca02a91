"""Writing the marketplace to a folder: plan, draw, write the JSON Lines files and planted.json."""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .builder import _Builder
from .common import ProgressFn
from .render import _render_all


@dataclass(frozen=True)
class DemoMarketplace:
    """Where the generated marketplace lies, and how much of everything it holds."""

    root: Path
    items_file: Path
    accounts_file: Path
    images_dir: Path
    planted_file: Path
    seed: int
    n_items: int
    n_accounts: int
    n_images: int
    counts: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        c = self.counts
        return (f"demo marketplace in {self.root}: {self.n_items} listings, {self.n_accounts} accounts, "
                f"{self.n_images} images (seed {self.seed}); planted: "
                f"{c.get('same_seller_duplicate_groups', 0)} same-seller duplicate groups, "
                f"{c.get('cross_seller_copy_groups', 0)} cross-seller copy groups, "
                f"{c.get('counterfeits', 0)} counterfeits, {c.get('authorized_resellers', 0)} authorised resales, "
                f"{c.get('rings', 0)} sock-puppet rings, {c.get('decoys', 0)} decoys")


def _write_jsonl(path: Path, records: list[dict]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def generate_marketplace(out_dir: Path, *, seed: int = 7, n_sellers: int = 300, n_products: int = 900,
                         progress: ProgressFn | None = None, workers: int | None = None) -> DemoMarketplace:
    """Write the synthetic demo marketplace into ``out_dir`` and say where everything is.

    Deterministic: the same ``seed``, ``n_sellers`` and ``n_products`` give byte-identical files.
    ``workers`` processes draw the pictures (default: the CPU count, at most 4; 1 draws in-process).
    An ``images/`` folder left by an earlier demo in ``out_dir`` is replaced; a foreign non-empty
    ``images/`` folder (no ``planted.json`` next to it) is refused with FileExistsError.
    """
    if n_sellers < 25:
        raise ValueError("n_sellers must be at least 25")
    if n_products < 40:
        raise ValueError("n_products must be at least 40")
    out_dir = Path(out_dir)
    builder = _Builder(int(seed), int(n_sellers), int(n_products))
    builder.build()

    out_dir.mkdir(parents=True, exist_ok=True)
    images_dir = out_dir / "images"
    planted_file = out_dir / "planted.json"
    if images_dir.exists():
        if planted_file.exists():
            shutil.rmtree(images_dir)
        elif any(images_dir.iterdir()):
            raise FileExistsError(f"{images_dir} exists and is not from an earlier demo; choose another folder")
    if planted_file.exists():
        planted_file.unlink()      # written last: its presence marks a complete marketplace
    (images_dir / "avatars").mkdir(parents=True, exist_ok=True)

    tasks = []
    for t in builder.tasks:
        outputs = [(r.path, r.edits, r.quality) for r in t.refs]
        tasks.append((str(out_dir), t.kind, t.spec, outputs))
    tasks.sort(key=lambda t: t[3][0][0])
    if workers is None:
        workers = min(4, os.cpu_count() or 1)
    _render_all(tasks, workers, progress)

    items = builder.items_records()
    accounts = builder.account_records()
    planted = builder.planted_record()
    items_file = out_dir / "items.jsonl"
    accounts_file = out_dir / "accounts.jsonl"
    _write_jsonl(items_file, items)
    _write_jsonl(accounts_file, accounts)
    tmp = planted_file.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(planted, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, planted_file)
    counts = planted["counts"]
    return DemoMarketplace(root=out_dir, items_file=items_file, accounts_file=accounts_file, images_dir=images_dir,
                           planted_file=planted_file, seed=int(seed), n_items=len(items), n_accounts=len(accounts),
                           n_images=counts["images"], counts=dict(counts))
