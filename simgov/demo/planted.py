"""The output records: items, accounts and the planted ground truth with its counts."""
from __future__ import annotations

from .common import GENERATOR_VERSION, _iso
from .model import _Listing
from .vocabulary import _TYPES


class _PlantedTruth:
    """Records written to items.jsonl, accounts.jsonl and planted.json."""

    def items_records(self) -> list[dict]:
        out = []
        for item in sorted(self.listings, key=lambda listing: listing.item_id):
            out.append({"item_id": item.item_id, "title": item.title, "description": item.description,
                        "images": [r.path for r in item.images], "seller_id": item.seller.account_id,
                        "brand": item.product.brand.name, "price": item.price, "currency": item.currency,
                        "category": _TYPES[item.product.ptype]["cat"], "reference": item.reference,
                        "attributes": item.attributes, "condition": item.condition,
                        "listed_at": _iso(item.listed_at)})
        return out

    def account_records(self) -> list[dict]:
        out = []
        for a in sorted(self.accounts, key=lambda a: a.account_id):
            out.append({"account_id": a.account_id, "kind": a.kind, "display_name": a.display_name,
                        "handle": a.handle, "bio": a.bio, "avatar": a.avatar.path if a.avatar else None,
                        "address": a.address, "identifiers": dict(a.identifiers),
                        "authorized_brands": list(a.authorized_brands), "registered_at": _iso(a.registered_at),
                        "country": a.country})
        return out

    def planted_record(self) -> dict:
        P = self.planted
        ids = lambda objs: [o.item_id if isinstance(o, _Listing) else o.account_id for o in objs]  # noqa: E731

        ssd = []
        for g in P["same_seller_duplicates"]:
            orig = g["_orig"]
            ssd.append({"seller_id": orig.seller.account_id, "product_id": orig.product.pid,
                        "original_item_id": orig.item_id,
                        "item_ids": [orig.item_id] + [d["_item"].item_id for d in g["duplicates"]],
                        "duplicates": [{"item_id": d["_item"].item_id, "photo": d["photo"], "edits": d["edits"]}
                                       for d in g["duplicates"]]})
        csc = []
        for g in P["cross_seller_copies"]:
            orig = g["_orig"]
            csc.append({"product_id": orig.product.pid, "original_item_id": orig.item_id,
                        "original_seller_id": orig.seller.account_id,
                        "item_ids": [orig.item_id] + [c["_item"].item_id for c in g["copies"]],
                        "copies": [{"item_id": c["_item"].item_id, "seller_id": c["_item"].seller.account_id,
                                    "edits": c["edits"]} for c in g["copies"]]})
        cf = [{"item_id": c["_item"].item_id, "reference_item_id": c["_ref"].item_id, "brand": c["brand"],
               "price_ratio": c["price_ratio"], "seller_id": c["_item"].seller.account_id,
               "product_id": c["_item"].product.pid, "edits": c["edits"]} for c in P["counterfeits"]]
        ar = [{"item_id": c["_item"].item_id, "reference_item_id": c["_ref"].item_id, "brand": c["brand"],
               "price_ratio": c["price_ratio"], "seller_id": c["_item"].seller.account_id,
               "product_id": c["_item"].product.pid, "photo": c["photo"]} for c in P["authorized_resellers"]]
        rings = []
        for ring in self.rings:
            members, evidence = ring["members"], ring["evidence"]
            links = []
            for i in range(len(members)):
                for j in range(i + 1, len(members)):
                    shared = sorted(evidence[i] & evidence[j])
                    key = (min(members[i].order, members[j].order), max(members[i].order, members[j].order))
                    if key in ring["listing_pairs"]:
                        shared.append("listing_overlap")
                    if shared:
                        a, b = sorted((members[i].account_id, members[j].account_id))
                        links.append({"account_ids": [a, b], "evidence": shared})
            links.sort(key=lambda link: link["account_ids"])
            union = sorted({e for link in links for e in link["evidence"]})
            rings.append({"account_ids": sorted(ids(members)), "links": links, "evidence": union,
                          "registered_within_days": ring["registered_within_days"],
                          "shared_listings": [ids(g) for g in ring["shared_groups"]]})
        decoys = [{"kind": d["kind"], "type": d["type"], "ids": ids(d["_objs"]), "note": d["note"]}
                  for d in P["decoys"]]
        hsp = [{"product_id": g["_p"].pid, "model_number": g["_p"].code, "item_ids": sorted(ids(g["_items"])),
                "stock_photo_item_ids": sorted(ids(g["_stock"]))} for g in P["honest_same_product"]]

        ssd.sort(key=lambda g: g["original_item_id"])
        csc.sort(key=lambda g: g["original_item_id"])
        cf.sort(key=lambda c: c["item_id"])
        ar.sort(key=lambda c: c["item_id"])
        rings.sort(key=lambda r: r["account_ids"])
        decoys.sort(key=lambda d: (d["kind"], d["type"], d["ids"]))
        hsp.sort(key=lambda g: g["product_id"])
        for prefix, groups, key in (("ssd", ssd, "group_id"), ("csc", csc, "group_id"), ("ring", rings, "ring_id"),
                                    ("decoy", decoys, "decoy_id")):
            for i, g in enumerate(groups):
                g_items = list(g.items())
                g.clear()
                g[key] = f"{prefix}-{i + 1:03d}"
                g.update(g_items)
        products = {}
        for p in sorted(self.products, key=lambda p: p.pid):
            products[p.pid] = {"brand": p.brand.name, "model": p.model, "model_number": p.code, "type": p.ptype,
                               "colour": p.colour, "role": p.role}
        return {
            "generator": GENERATOR_VERSION,
            "seed": self.seed,
            "params": {"n_sellers": self.S, "n_products": self.P},
            "counts": self.counts(),
            "same_seller_duplicates": ssd,
            "cross_seller_copies": csc,
            "counterfeits": cf,
            "authorized_resellers": ar,
            "rings": rings,
            "decoys": decoys,
            "honest_same_product": hsp,
            "products": products,
            "item_product": {listing.item_id: listing.product.pid
                             for listing in sorted(self.listings, key=lambda listing: listing.item_id)},
        }

    def counts(self) -> dict[str, int]:
        P = self.planted
        return {
            "items": len(self.listings),
            "accounts": len(self.accounts),
            "images": sum(len(t.refs) for t in self.tasks),      # one file per output
            "products": len(self.products),
            "reference_items": len(self.references),
            "same_seller_duplicate_groups": len(P["same_seller_duplicates"]),
            "same_seller_duplicate_items": sum(len(g["duplicates"]) for g in P["same_seller_duplicates"]),
            "cross_seller_copy_groups": len(P["cross_seller_copies"]),
            "cross_seller_copy_items": sum(len(g["copies"]) for g in P["cross_seller_copies"]),
            "counterfeits": len(P["counterfeits"]),
            "authorized_resellers": len(P["authorized_resellers"]),
            "rings": len(self.rings),
            "ring_accounts": sum(len(r["members"]) for r in self.rings),
            "decoys": len(P["decoys"]),
            "honest_same_product_groups": len(P["honest_same_product"]),
        }
