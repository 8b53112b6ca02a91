"""Seller and creator risk: how much trouble each account's findings say it is, and why.

Each finding that blames an account is one reason, weighted by its kind and its score; a ring
member also carries a share of the worst risk of the accounts it is linked to. Reasons combine
as independent chances: risk = 1 - prod(1 - weight). Verdicts calibrate it: a confirmed finding
weighs as much as its kind can, a rejected one not at all, and a kind whose findings investigators
have mostly rejected weighs less for everyone (a kind's weight is scaled by the share of its
decided findings that were confirmed, smoothed towards even). Findings do not blame the seller of
a brand-verified reference listing nor a seller authorised for the brand (see `collect`).
"""
from __future__ import annotations

from collections import defaultdict

from ..index import SimIndex
from ..storage.findings import listing_counts
from .model import Finding, RiskReason, SellerRisk

#: What one finding of each kind adds at score 1, before calibration.
BASE_WEIGHT = {"counterfeit": 0.45, "bank_hit": 0.45, "ring": 0.6, "cross_seller_copy": 0.08, "relisting": 0.03,
               "picture_reuse": 0.0}
#: Share of the worst linked account's own risk that each ring member carries.
LINKED_SHARE = 0.5
#: Pseudo-verdicts of each decision added to a kind's tally (smoothing towards an even share).
PRIOR = 2.0


def kind_factors(findings: list[Finding]) -> dict[str, float]:
    """Per kind: 2 x the smoothed share of confirmed among decided findings (1.0 without verdicts)."""
    confirmed: dict[str, int] = defaultdict(int)
    decided: dict[str, int] = defaultdict(int)
    for f in findings:
        if f.status != "open":
            decided[f.kind] += 1
            confirmed[f.kind] += f.status == "confirmed"
    return {kind: 2 * (confirmed[kind] + PRIOR / 2) / (decided[kind] + PRIOR) for kind in BASE_WEIGHT}


def finding_weight(f: Finding, factors: dict[str, float]) -> float:
    base = BASE_WEIGHT[f.kind]
    if f.status == "rejected":
        return 0.0
    if f.status == "confirmed":
        return min(1.0, 2 * base)
    return round(min(1.0, base * f.score * factors[f.kind]), 4)


def _combine(weights: list[float]) -> float:
    keep = 1.0
    for w in weights:
        keep *= 1.0 - w
    return round(1.0 - keep, 4)


def seller_risks(index: SimIndex, findings: list[Finding]) -> dict[str, SellerRisk]:
    """The risk of every seller with listings or an account, by seller id."""
    factors = kind_factors(findings)
    listings = listing_counts(index.store)
    accounts = {a.account_id: a.record for batch in index.accounts.store.iter_live() for a in batch}
    reasons: dict[str, list[RiskReason]] = defaultdict(list)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    flagged: dict[str, set[str]] = defaultdict(set)
    rings: dict[str, set[str]] = defaultdict(set)
    seller_of = index.store.sellers_of({i for f in findings for i in f.items})
    for f in findings:
        weight = finding_weight(f, factors)
        for seller in f.sellers:
            counts[seller][f.kind] += 1
            counts[seller][f.status] += 1
            if f.status != "rejected":  # a counterfeit's second item is the reference
                flagged[seller].update(i for i in (f.items[:1] if f.kind == "counterfeit" else f.items)
                                       if seller_of.get(i) == seller)
            detail = f.summary if f.status == "open" else f"{f.summary} ({f.status} by an investigator)"
            reasons[seller].append(RiskReason(finding_id=f.finding_id, kind=f.kind, detail=detail, weight=weight))
        if f.kind == "ring" and f.status != "rejected":
            for member in f.accounts:
                rings[member].update(a for a in f.accounts if a != member)
    own = {seller: _combine([r.weight for r in found if r.kind != "ring"]) for seller, found in reasons.items()}
    for member, others in rings.items():
        worst = max(others, key=lambda a: (own.get(a, 0.0), a))
        share = round(LINKED_SHARE * own.get(worst, 0.0), 4)
        if share > 0:
            reasons[member].append(RiskReason(kind="linked_account", weight=share,
                                              detail=f"linked to {worst}, whose own findings give it risk "
                                                     f"{own[worst]:.2f}"))
    out = {}
    for seller in sorted(set(listings) | set(accounts) | set(reasons)):
        found = sorted(reasons.get(seller, []), key=lambda r: -r.weight)
        tally = dict(counts.get(seller, {}))
        tally["listings"] = listings.get(seller, 0)
        tally["flagged_listings"] = len(flagged.get(seller, ()))
        record = accounts.get(seller) or {}
        out[seller] = SellerRisk(seller_id=seller, risk=_combine([r.weight for r in found]), reasons=found,
                                 counts=tally, linked_accounts=sorted(rings.get(seller, ())),
                                 authorized_brands=[str(b) for b in record.get("authorized_brands") or []])
    return out


def ranked(risks: dict[str, SellerRisk], sort: str = "risk") -> list[SellerRisk]:
    if sort == "risk":
        return sorted(risks.values(), key=lambda r: (-r.risk, r.seller_id))
    return sorted(risks.values(), key=lambda r: r.seller_id)
