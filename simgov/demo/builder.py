"""The marketplace plan: one builder made of the parts of the sibling modules; `build` runs them in a fixed order."""
from __future__ import annotations

import random
from typing import Callable

from .catalogue import _Catalogue
from .common import _rng, _subseed
from .edits import _EditPlans
from .listings import _Listings
from .model import _Account, _Brand, _ImgRef, _Listing, _Product, _Task
from .people import _People
from .pictures import _Pictures
from .planted import _PlantedTruth


class _Builder(_People, _Pictures, _EditPlans, _Catalogue, _Listings, _PlantedTruth):
    """The whole marketplace, planned in memory (no pictures drawn)."""

    def __init__(self, seed: int, n_sellers: int, n_products: int):
        self.seed = seed
        self.S = n_sellers
        self.P = n_products
        self.rng = random.Random(_subseed("simgov-demo", seed, n_sellers, n_products))
        self.tasks: list[_Task] = []
        self.accounts: list[_Account] = []
        self.products: list[_Product] = []
        self.listings: list[_Listing] = []
        self.brands: list[_Brand] = []
        self._taken: dict[str, set[str]] = {k: set() for k in
                                            ("handle", "email", "phone", "ip", "device", "payout", "shop", "code")}
        self._sold: dict[int, set[int]] = {}      # id(product) -> {account.order}
        self.planted: dict[str, list] = {k: [] for k in (
            "same_seller_duplicates", "cross_seller_copies", "counterfeits", "authorized_resellers", "rings",
            "decoys", "honest_same_product")}
        self._default_avatar: _ImgRef | None = None

    # ------------------------------------------------------------------ small generators
    def _unique(self, kind: str, make: Callable[[], str], key: Callable[[str], str] = lambda s: s) -> str:
        for _ in range(1000):
            value = make()
            k = key(value)
            if k not in self._taken[kind]:
                self._taken[kind].add(k)
                return value
        raise RuntimeError(f"could not make a unique {kind}")


    def build(self) -> None:
        self._build_brands()
        self._build_accounts()
        self._build_products()
        self._build_listings()
        # ids that reveal nothing about what was planted
        order = list(self.listings)
        _rng("item-ids", self.seed).shuffle(order)
        for i, listing in enumerate(order):
            listing.item_id = f"item-{i + 1:05d}"
        accounts = list(self.accounts)
        _rng("account-ids", self.seed).shuffle(accounts)
        for i, a in enumerate(accounts):
            a.account_id = f"acc-{i + 1:04d}"
        for task in self.tasks:
            for ref in task.refs:
                if ref.path:
                    continue
                if isinstance(ref.owner, _Listing):
                    ref.path = f"images/{ref.owner.item_id}_{ref.slot}.jpg"
                else:
                    ref.path = f"images/avatars/{ref.owner.account_id}.jpg"
        self.tasks = [t for t in self.tasks if t.refs]
