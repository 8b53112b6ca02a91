"""Listings: honest sellers, re-listings, copies, counterfeits, authorised resales, decoys, ring listings."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from .common import _LISTING_END, _rng, _round_price
from .model import _Account, _Listing, _Product


class _Listings:
    """Every listing of the marketplace and what it plants."""

    # ------------------------------------------------------------------ listings
    def _price(self, rng: random.Random, p: _Product, currency: str, factor: float = 1.0) -> float:
        v = p.price_eur * factor * (1.08 if currency == "USD" else 1.0)
        return _round_price(v, rng)

    def _listed_after(self, rng: random.Random, start: datetime, min_days: float = 0.2,
                      max_days: float = 400) -> datetime:
        span = min(max_days, max(1.0, (_LISTING_END - start).total_seconds() / 86400 - min_days))
        return start + timedelta(seconds=int((min_days + rng.random() * span) * 86400))

    def _honest(self, rng: random.Random, p: _Product, seller: _Account, *, stock: bool = False,
                photo: dict | None = None, n_images: int | None = None) -> _Listing:
        used = seller.kind == "creator" and rng.random() < 0.5
        factor = rng.uniform(0.55, 0.85) if used else rng.uniform(0.9, 1.08)
        listing = _Listing(product=p, seller=seller, title=self._title(rng, p),
                           description=self._description(rng, p, seller.kind, seller),
                           price=self._price(rng, p, seller.currency, factor), currency=seller.currency,
                           reference=False, attributes=self._attributes(rng, p, drop_model=rng.random() < 0.15),
                           condition="used" if used else "new",
                           listed_at=self._listed_after(rng, seller.registered_at))
        if stock:   # the manufacturer's catalogue picture, as many honest shops use it
            if p.catalog is None:
                params = self._photo_params(_rng("catalog", self.seed, p.pid), "studio")
                params["corner_logo"] = False
                p.catalog = self._task("product", {"look": p.look, "photo": params})
            listing.images = [self._out(p.catalog, listing, "1", edits=[{"op": "reencode", "quality": 85}],
                                        quality=85)]
        else:
            style = "home" if seller.kind == "creator" else ("shop" if rng.random() < 0.65 else "home")
            self._own_photos(rng, listing, style, n_images=n_images, params=photo)
        self._add(listing)
        return listing

    def _add(self, listing: _Listing) -> None:
        self.listings.append(listing)
        self._sold.setdefault(id(listing.product), set()).add(listing.seller.order)

    def _pick_sellers(self, rng: random.Random, k: int, exclude: set[int], pool: list[_Account],
                      cum: list[float]) -> list[_Account]:
        chosen: list[_Account] = []
        seen = set(exclude)
        for _ in range(k * 40):
            if len(chosen) == k:
                break
            a = rng.choices(pool, cum_weights=cum)[0]
            if a.order not in seen:
                seen.add(a.order)
                chosen.append(a)
        return chosen

    def _build_listings(self) -> None:
        rng = _rng("listings", self.seed, self.S, self.P)
        general = self.general
        ring_members = [m for r in self.rings for m in r["members"]]
        pool = general + self.resellers + self.counterfeiters + ring_members
        weights = ([min(12.0, rng.paretovariate(1.4)) for _ in general] + [2.0] * len(self.resellers)
                   + [0.6] * len(self.counterfeiters) + [0.8] * len(ring_members))
        cum, total = [], 0.0
        for w in weights:
            total += w
            cum.append(total)
        g_cum, total = [], 0.0
        for w in weights[:len(general)]:
            total += w
            g_cum.append(total)

        # 1. reference listings by the official stores
        self.ref_listing: dict[int, _Listing] = {}
        for p in self.references:
            store = p.brand.store
            assert store is not None
            price = _round_price(p.price_eur * (1.08 if p.brand.currency == "USD" else 1.0), rng)
            listing = _Listing(product=p, seller=store, title=self._title(rng, p, canonical=True),
                               description=self._description(rng, p, "official", store), price=price,
                               currency=p.brand.currency, reference=True, attributes=self._attributes(rng, p),
                               condition="new", listed_at=self._listed_after(rng, store.registered_at, 1, 900))
            self._own_photos(rng, listing, "studio", n_images=2, corner_logo=True)
            self._add(listing)
            self.ref_listing[id(p)] = listing

        # 2. honest background: each product listed by one or a few sellers
        for p in self.background:
            k = rng.choices((1, 2, 3, 4, 5, 6), weights=(25, 25, 20, 14, 9, 7))[0]
            sellers = self._pick_sellers(rng, k, set(), pool, cum)
            items = []
            stock_items = []
            for idx, s in enumerate(sellers):
                stock = idx > 0 and rng.random() < 0.15
                listing = self._honest(rng, p, s, stock=stock)
                items.append(listing)
                if stock:
                    stock_items.append(listing)
            if len(items) >= 2:
                self.planted["honest_same_product"].append({"_p": p, "_items": items, "_stock": stock_items})

        # 3. item decoys
        for a, b in self.decoy_products["brand"]:
            sa, sb = self._pick_sellers(rng, 2, set(), general, g_cum)
            la = self._honest(rng, a, sa, n_images=1)
            photo = dict(la.images[0].task.spec["photo"])
            photo.update(seed=rng.getrandbits(32), dx=photo["dx"] + rng.uniform(-0.03, 0.03),
                         rot=photo["rot"] + rng.uniform(-3, 3))
            lb = self._honest(rng, b, sb, photo=photo, n_images=1)
            self._decoy("items", "same_type_colour_different_brand", [la, lb],
                        f"two different brands' {a.colour} {a.ptype}s, similar photos; not the same product")
        merchants = [a for a in general if a.kind == "merchant"] or general
        for kind, pairs in (("model", self.decoy_products["model"]), ("size", self.decoy_products["size"])):
            for a, b in pairs:
                seller = rng.choice(merchants)
                la = self._honest(rng, a, seller, n_images=1)
                photo = dict(la.images[0].task.spec["photo"])
                if kind == "model":
                    photo.update(seed=rng.getrandbits(32), dx=photo["dx"] + rng.uniform(-0.04, 0.04))
                lb = self._honest(rng, b, seller, photo=photo, n_images=1)
                if kind == "model":
                    self._decoy("items", "same_brand_different_model", [la, lb],
                                f"{a.brand.name} {a.model} vs {b.model}: same line and colour, different models")
                else:
                    self._decoy("items", "same_model_different_size_same_seller", [la, lb],
                                f"one seller's {a.model} in two sizes ({a.code} vs {b.code}) with the same photo "
                                f"set-up: different stock-keeping units, not a re-listing")

        # 4. authorised resellers (planted negatives) and counterfeits of the reference listings
        premium_refs = list(self.references)
        auth_refs = [p for p in premium_refs if rng.random() < 0.45] or premium_refs[:1]
        for p in auth_refs:
            ref = self.ref_listing[id(p)]
            resellers = [a for a in self.resellers if p.brand.name in a.authorized_brands]
            for seller in rng.sample(resellers, min(len(resellers), rng.choice((1, 1, 2)))):
                price = _round_price(ref.price * rng.uniform(0.9, 1.05), rng)
                listing = _Listing(product=p, seller=seller, title=self._title(rng, p), currency=ref.currency,
                                   description=self._description(rng, p, "merchant", seller), price=price,
                                   reference=False, attributes=self._attributes(rng, p), condition="new",
                                   listed_at=self._listed_after(rng, max(ref.listed_at, seller.registered_at)))
                if rng.random() < 0.5:
                    photo_kind = "brand_photo"
                    self._derived_photos(ref, listing, [{"op": "reencode", "quality": 88}], 88)
                else:
                    photo_kind = "own_photo"
                    self._own_photos(rng, listing, "shop")
                self._add(listing)
                self.planted["authorized_resellers"].append(
                    {"_item": listing, "_ref": ref, "brand": p.brand.name, "price_ratio": round(price / ref.price, 4),
                     "photo": photo_kind})
        cf_refs = [p for p in premium_refs if rng.random() < 0.6] or premium_refs[:1]
        for p in cf_refs:
            ref = self.ref_listing[id(p)]
            for seller in rng.sample(self.counterfeiters, min(len(self.counterfeiters), rng.choice((1, 1, 2, 3)))):
                for _ in range(20):
                    price = _round_price(ref.price * rng.uniform(0.21, 0.44), rng)
                    if 0.2 <= price / ref.price <= 0.45:
                        break
                edits, quality = self._sample_edits(rng, seller)
                listing = _Listing(product=p, seller=seller, title=self._title(rng, p, tells=rng.random() < 0.6),
                                   description=self._description(rng, p, "counterfeit", seller), price=price,
                                   currency=ref.currency, reference=False,
                                   attributes=self._attributes(rng, p, drop_model=rng.random() < 0.3),
                                   condition="new", listed_at=self._listed_after(rng, max(ref.listed_at,
                                                                                         seller.registered_at)))
                self._derived_photos(ref, listing, edits, quality)
                self._add(listing)
                self.planted["counterfeits"].append(
                    {"_item": listing, "_ref": ref, "brand": p.brand.name,
                     "price_ratio": round(price / ref.price, 4), "edits": edits})

        # 5. same-seller re-listings and cross-seller copies of honest background listings
        honest = [x for x in self.listings if x.product.role == "background"
                  and x.seller.role in ("general", "reseller") and x.images and x.images[0].edits is None]
        rng.shuffle(honest)
        n_ssd, n_csc = max(2, self.P // 9), max(2, self.P // 12)
        for orig in honest[:n_ssd]:
            dups = []
            for _ in range(1 if rng.random() < 0.7 else 2):
                mode = rng.choices(("same_file", "reencoded", "resized"), weights=(45, 35, 20))[0]
                factor = 1.0 if rng.random() < 0.5 else rng.uniform(0.93, 1.05)
                d = _Listing(product=orig.product, seller=orig.seller,
                             title=self._title(rng, orig.product, avoid=orig.title),
                             description=(self._description(rng, orig.product, orig.seller.kind, orig.seller)
                                          if rng.random() < 0.6 else orig.description),
                             price=_round_price(orig.price * factor, rng) if factor != 1.0 else orig.price,
                             currency=orig.currency, reference=False, attributes=dict(orig.attributes),
                             condition=orig.condition, listed_at=self._listed_after(rng, orig.listed_at, 1, 90))
                if mode == "same_file":
                    d.images = list(orig.images)
                    edits: list[dict] = []
                elif mode == "reencoded":
                    q = rng.randint(70, 85)
                    edits = [{"op": "reencode", "quality": q}]
                    self._derived_photos(orig, d, edits, q)
                else:
                    s = rng.choice((240, 256, 280, 300))
                    q = rng.randint(75, 88)
                    edits = [{"op": "resize", "size": [s, s]}, {"op": "reencode", "quality": q}]
                    self._derived_photos(orig, d, edits, q)
                self._add(d)
                dups.append({"_item": d, "photo": mode, "edits": edits})
            self.planted["same_seller_duplicates"].append({"_orig": orig, "duplicates": dups})
        for orig in honest[n_ssd:n_ssd + n_csc]:
            k = rng.choice((1, 1, 2, 2, 3))
            sold = self._sold.get(id(orig.product), set())
            copiers = self._pick_sellers(rng, k, sold | {orig.seller.order}, general, g_cum)
            copies = []
            for c in copiers:
                edits, quality = self._sample_edits(rng, c)
                d = _Listing(product=orig.product, seller=c, title=self._title(rng, orig.product, avoid=orig.title),
                             description=orig.description if rng.random() < 0.5 else
                             self._description(rng, orig.product, c.kind, c),
                             price=_round_price(orig.price * rng.uniform(0.82, 1.0), rng), currency=c.currency,
                             reference=False, attributes=self._attributes(rng, orig.product, rng.random() < 0.3),
                             condition=orig.condition,
                             listed_at=self._listed_after(rng, max(orig.listed_at, c.registered_at), 1, 120))
                self._derived_photos(orig, d, edits, quality)
                self._add(d)
                copies.append({"_item": d, "edits": edits})
            if copies:
                self.planted["cross_seller_copies"].append({"_orig": orig, "copies": copies})

        # 6. rings list near-duplicates of each other's products
        for ring in self.rings:
            members = ring["members"]
            for p in rng.sample(self.background, rng.randint(2, 4)):
                first, *others = rng.sample(members, rng.randint(2, min(3, len(members))))
                if first.order in self._sold.get(id(p), set()):
                    continue
                a = self._honest(rng, p, first)
                group = [a]
                for m in others:
                    if m.order in self._sold.get(id(p), set()):
                        continue
                    edits, quality = self._sample_edits(rng, m, light=True)
                    d = _Listing(product=p, seller=m, title=self._title(rng, p, avoid=a.title),
                                 description=a.description if rng.random() < 0.5 else
                                 self._description(rng, p, m.kind, m),
                                 price=_round_price(a.price * rng.uniform(0.9, 1.1), rng), currency=a.currency,
                                 reference=False, attributes=dict(a.attributes), condition=a.condition,
                                 listed_at=self._listed_after(rng, max(a.listed_at, m.registered_at), 0.5, 30))
                    self._derived_photos(a, d, edits, quality)
                    self._add(d)
                    group.append(d)
                    ring["listing_pairs"].add((min(first.order, m.order), max(first.order, m.order)))
                if len(group) >= 2:
                    ring["shared_groups"].append(group)

    def _decoy(self, kind: str, dtype: str, objs: list, note: str) -> None:
        self.planted["decoys"].append({"kind": kind, "type": dtype, "_objs": objs, "note": note})
