"""The catalogue: brands, products and the texts (titles, descriptions, attributes) sellers write."""
from __future__ import annotations

import random
from typing import Any

from .common import _clamp, _rng
from .model import _Account, _Brand, _Product
from .vocabulary import (
    _ATTR_VALUES,
    _BRANDS,
    _COLOUR,
    _COLOURS,
    _EXTRAS,
    _HUNDREDS_SHAPES,
    _LINES,
    _PREMIUM,
    _TELLS,
    _TYPES,
)


class _Catalogue:
    """Brands, products and listing texts."""

    # ------------------------------------------------------------------ catalogue
    def _build_brands(self) -> None:
        rng = _rng("brands", self.seed)
        n_prem = _clamp(min(self.S // 50, self.P // 100), 2, len(_PREMIUM))
        for name, prefix, types, tier, cur, accent in _BRANDS:
            self.brands.append(_Brand(name, prefix, types, tier, cur, accent, False,
                                      rng.choice(("circle", "diamond", "triangle", "square", "none")),
                                      name.upper() if rng.random() < 0.5 else name))
        for name, prefix, types, tier, cur, accent in _PREMIUM[:n_prem]:
            self.brands.append(_Brand(name, prefix, types, tier, cur, accent, True,
                                      rng.choice(("circle", "diamond", "square")), name.upper()))

    def _look(self, rng: random.Random, brand: _Brand, ptype: str, colour: str, label: str) -> dict:
        T = _TYPES[ptype]
        c1 = _COLOUR[colour][0]
        if rng.random() < 0.5 and sum(abs(a - b) for a, b in zip(brand.accent, c1)) > 150:
            c2 = brand.accent
        else:
            c2 = c1
            while sum(abs(a - b) for a, b in zip(c2, c1)) < 200:
                c2 = _COLOURS[rng.randrange(len(_COLOURS))][1]
        neutrals = [(245, 245, 245), (25, 25, 28), (195, 198, 204), (212, 176, 56), (230, 220, 200)]
        c3 = rng.choice([n for n in neutrals if sum(abs(a - b) for a, b in zip(n, c1)) > 120] or neutrals)
        return {"shape": T["shape"], "variant": T["var"], "c1": list(c1), "c2": list(c2), "c3": list(c3),
                "tex": rng.choice(("none", "none", "stripes", "diag", "dots", "check", "band")),
                "tex_n": rng.randint(3, 8), "p": [round(rng.random(), 4) for _ in range(8)],
                "facing": rng.choice((-1, 1)), "detail": rng.randrange(12),
                "view": rng.choice(("front", "back")), "brand_text": brand.brand_text,
                "logo_shape": brand.logo_shape, "logo_colour": list(brand.accent if sum(brand.accent) < 600
                                                                    else (40, 40, 40)),
                "label": label}

    def _attrs(self, rng: random.Random, ptype: str) -> dict[str, Any]:
        attrs: dict[str, Any] = {}
        for kind in _TYPES[ptype]["attrs"]:
            if kind == "gender":
                attrs["gender"] = rng.choice(("men", "women", "unisex"))
            elif kind == "size_shoe":
                lo, hi = {"men": (40, 46), "women": (36, 41), "unisex": (37, 45)}[attrs.get("gender", "unisex")]
                attrs["size_shoe"] = rng.randint(lo, hi)
            else:
                attrs[kind] = rng.choice(_ATTR_VALUES[kind])
        return attrs

    def _code(self, brand: _Brand, line: str, number: int, attrs: dict, colour: str) -> str:
        caps = [c for c in line if c.isupper()]
        initials = "".join(caps[:2]) if len(caps) >= 2 else line.replace("-", "")[:2].upper()
        suffix = ""
        for kind in ("size_shoe", "storage", "case_mm", "volume_ml", "volume_small", "size_apparel", "capacity_ml",
                     "capacity_mug", "capacity_l", "pieces"):
            if kind in attrs:
                suffix = str(attrs[kind])
                break
        if suffix.isalpha():
            suffix += "-"      # XS-YEL, not XSYEL
        return f"{brand.prefix}-{initials}{number}-{suffix}{_COLOUR[colour][1]}"

    def _model(self, line: str, number: int) -> str:
        return f"{line}{number}" if len(line) <= 2 else f"{line} {number}"

    def _product(self, rng: random.Random, brand: _Brand, ptype: str, line: str, number: int, colour: str,
                 attrs: dict, role: str, look: dict | None = None) -> _Product | None:
        code = self._code(brand, line, number, attrs, colour)
        if code in self._taken["code"]:
            return None
        self._taken["code"].add(code)
        lo, hi = _TYPES[ptype]["price"]
        label = code.split("-")[1]
        look = dict(look) if look is not None else self._look(rng, brand, ptype, colour, label)
        look["label"] = label
        look["c1"] = list(_COLOUR[colour][0])
        p = _Product(pid=f"prod-{len(self.products) + 1:04d}", brand=brand, ptype=ptype, line=line, number=number,
                     model=self._model(line, number), colour=colour, attrs=attrs, code=code,
                     price_eur=round(rng.uniform(lo, hi) * brand.tier, 2), look=look, role=role)
        self.products.append(p)
        return p

    def _family(self, rng: random.Random, brand: _Brand, ptype: str | None = None) -> tuple[str, str, int]:
        ptype = ptype or rng.choice(brand.types)
        shape = _TYPES[ptype]["shape"]
        line = rng.choice(_LINES[shape])
        number = rng.randrange(100, 1000, 100) if shape in _HUNDREDS_SHAPES else rng.randint(1, 12)
        return ptype, line, number

    def _build_products(self) -> None:
        rng = _rng("products", self.seed, self.P)
        P = self.P
        regular = [b for b in self.brands if not b.premium]
        premium = [b for b in self.brands if b.premium]
        n_ref = _clamp(P // 10, 2 * len(premium), max(2 * len(premium), P // 4))
        n_dec_brand, n_dec_model, n_dec_size = max(1, P // 60), max(1, P // 60), max(1, P // 150)
        n_bg = P - n_ref - 2 * (n_dec_brand + n_dec_model + n_dec_size)
        if n_bg < 20:
            raise ValueError(f"n_products={P} is too small; use n_products >= 40")
        # reference products of the premium brands
        self.references: list[_Product] = []
        i = 0
        while len(self.references) < n_ref:
            b = premium[i % len(premium)]
            i += 1
            ptype, line, number = self._family(rng, b)
            p = self._product(rng, b, ptype, line, number, rng.choice([c[0] for c in _COLOURS]),
                              self._attrs(rng, ptype), "reference")
            if p:
                self.references.append(p)
        # decoy products
        self.decoy_products: dict[str, list[tuple[_Product, _Product]]] = {"brand": [], "model": [], "size": []}
        while len(self.decoy_products["brand"]) < n_dec_brand:
            ptype = rng.choice(list(_TYPES))
            makers = [b for b in regular if ptype in b.types]
            if len(makers) < 2:
                continue
            ba, bb = rng.sample(makers, 2)
            colour = rng.choice([c[0] for c in _COLOURS])
            _, la, na = self._family(rng, ba, ptype)
            _, lb, nb = self._family(rng, bb, ptype)
            attrs = self._attrs(rng, ptype)
            a = self._product(rng, ba, ptype, la, na, colour, attrs, "decoy")
            if not a:
                continue
            look = dict(a.look, brand_text=bb.brand_text, logo_shape=bb.logo_shape,
                        logo_colour=list(bb.accent if sum(bb.accent) < 600 else (40, 40, 40)))
            b_ = self._product(rng, bb, ptype, lb, nb, colour, dict(attrs), "decoy", look=look)
            if b_:
                self.decoy_products["brand"].append((a, b_))
        while len(self.decoy_products["model"]) < n_dec_model:
            brand = rng.choice(regular)
            ptype, line, number = self._family(rng, brand)
            step = 100 if _TYPES[ptype]["shape"] in _HUNDREDS_SHAPES else 1
            colour = rng.choice([c[0] for c in _COLOURS])
            attrs = self._attrs(rng, ptype)
            a = self._product(rng, brand, ptype, line, number, colour, attrs, "decoy")
            if not a:
                continue
            look = dict(a.look, detail=a.look["detail"] + 1)
            b_ = self._product(rng, brand, ptype, line, number + step, colour, dict(attrs), "decoy", look=look)
            if b_:
                b_.price_eur = round(a.price_eur * rng.uniform(1.05, 1.25), 2)   # the newer model costs more
                self.decoy_products["model"].append((a, b_))
        sized = [t for t in _TYPES if "size_shoe" in _TYPES[t]["attrs"] or "size_apparel" in _TYPES[t]["attrs"]]
        while len(self.decoy_products["size"]) < n_dec_size:
            brand = rng.choice([b for b in regular if any(t in sized for t in b.types)])
            ptype, line, number = self._family(rng, brand, rng.choice([t for t in brand.types if t in sized]))
            colour = rng.choice([c[0] for c in _COLOURS])
            attrs = self._attrs(rng, ptype)
            a = self._product(rng, brand, ptype, line, number, colour, attrs, "decoy")
            if not a:
                continue
            attrs2 = dict(attrs)
            if "size_shoe" in attrs:
                attrs2["size_shoe"] = attrs["size_shoe"] + 1
            else:
                sizes = _ATTR_VALUES["size_apparel"]
                attrs2["size_apparel"] = sizes[(sizes.index(attrs["size_apparel"]) + 1) % len(sizes)]
            b_ = self._product(rng, brand, ptype, line, number, colour, attrs2, "decoy", look=a.look)
            if b_:
                b_.price_eur = a.price_eur
                self.decoy_products["size"].append((a, b_))
        # background: model families in one to three colours
        self.background: list[_Product] = []
        while len(self.background) < n_bg:
            brand = rng.choice(regular)
            ptype, line, number = self._family(rng, brand)
            n_var = min(rng.choice((1, 1, 2, 2, 3)), n_bg - len(self.background))
            colours = rng.sample([c[0] for c in _COLOURS], n_var)
            look = None
            for colour in colours:
                p = self._product(rng, brand, ptype, line, number, colour, self._attrs(rng, ptype), "background",
                                  look=look)
                if p is None:
                    break
                look = p.look
                self.background.append(p)

    # ------------------------------------------------------------------ texts
    def _attr_phrases(self, rng: random.Random, p: _Product, canonical: bool = False) -> list[str]:
        out = []
        for kind, v in p.attrs.items():
            if kind == "gender":
                opts = {"men": ("men's", "mens", "for men", "Men"),
                        "women": ("women's", "womens", "for women", "Ladies"),
                        "unisex": ("unisex", "Unisex")}[v]
            elif kind == "size_shoe":
                opts = (f"size {v}", f"EU {v}", f"Gr. {v}", f"{v} EU", f"sz {v}")
            elif kind == "size_apparel":
                opts = (f"size {v}", f"{v}", f"Gr. {v}", f"({v})")
            elif kind == "capacity_l":
                opts = (f"{v} L", f"{v}L", f"{v} litre")
            elif kind == "storage":
                opts = (f"{v} GB", f"{v}GB", f"{v} GB storage")
            elif kind == "screen":
                opts = (f'{v}"', f"{v} inch", f"{v}-inch")
            elif kind == "battery_h":
                opts = (f"{v} h battery", f"{v}h playtime", f"{v} hours")
            elif kind == "case_mm":
                opts = (f"{v} mm", f"{v}mm", f"{v} mm case")
            elif kind == "strap":
                opts = (f"{v} strap", f"{v} band")
            elif kind in ("volume_ml", "volume_small"):
                opts = (f"{v} ml", f"{v}ml", f"{v} mL")
            elif kind in ("capacity_ml", "capacity_mug"):
                opts = (f"{v} ml", f"{v}ml", f"{v} ml capacity")
            elif kind == "pieces":
                opts = (f"{v} pieces", f"{v} pcs", f"{v}-piece")
            elif kind == "age":
                opts = (f"ages {v}", f"{v}")
            elif kind == "players":
                opts = (f"{v} players", f"for {v} players")
            else:
                opts = (str(v),)
            out.append(opts[0] if canonical else rng.choice(opts))
        return out

    def _title(self, rng: random.Random, p: _Product, *, canonical: bool = False, tells: bool = False,
               avoid: str | None = None) -> str:
        T = _TYPES[p.ptype]
        for _ in range(8):
            noun = p.ptype if (canonical or rng.random() < 0.45) else rng.choice(T["syn"])
            brand = p.brand.name if (canonical or rng.random() < 0.8) else p.brand.name.upper()
            attrs = self._attr_phrases(rng, p, canonical)
            colour = p.colour
            code = p.code if (canonical or rng.random() < 0.65) else ""
            tpl = 0 if canonical else rng.randrange(7)
            ac, asp = ", ".join(attrs), " ".join(attrs)
            if tpl == 0:
                t = f"{brand} {p.model} {noun}, " + (f"{ac}, " if ac else "") + colour + (f" - {code}" if code else "")
            elif tpl == 1:
                t = f"{brand} {p.model} {noun} {colour} {asp} {code}"
            elif tpl == 2:
                t = f"{noun[:1].upper()}{noun[1:]} {brand} {p.model} – {colour}" + (f", {ac}" if ac else "") + (
                    f" ({code})" if code else "")
            elif tpl == 3:
                t = f"{colour.capitalize()} {brand} {p.model} {noun} | {' | '.join(attrs + ([code] if code else []))}"
            elif tpl == 4:
                t = f"{brand} {noun} {p.model} {colour} {asp}" + (f" #{code}" if code else "")
            elif tpl == 5:
                t = (f"{p.model} by {brand} - {noun}, {colour}" + (f", {ac}" if ac else "")
                     + (f" [{code}]" if code else ""))
            else:
                t = f"{brand} {p.model}" + (f" ({code})" if code else "") + f" {noun} {colour} {asp}"
            if not canonical and rng.random() < 0.3:
                extra = rng.choice(_EXTRAS)
                t = f"{extra.upper()} {t}" if rng.random() < 0.5 else f"{t} - {extra}"
            if tells:
                t = f"{t} {rng.choice(_TELLS)}" if rng.random() < 0.7 else f"{rng.choice(_TELLS).upper()} {t}"
            if not canonical and rng.random() < 0.08:
                t = t.lower()
            t = " ".join(t.split()).strip(" |-,")
            if t != avoid:
                return t
        return t + " (new)"

    def _attr_sentence(self, p: _Product) -> str:
        parts = self._attr_phrases(random.Random(0), p, canonical=True)
        return ("Details: " + ", ".join(parts) + ".") if parts else ""

    def _description(self, rng: random.Random, p: _Product, kind: str, seller: _Account) -> str:
        T = _TYPES[p.ptype]
        f1, f2 = rng.sample(T["feat"], 2)
        noun = p.ptype if rng.random() < 0.6 else rng.choice(T["syn"])
        attrs = self._attr_sentence(p)
        if kind == "official":
            return (f"The {p.brand.name} {p.model} {p.ptype} in {p.colour}. {f1.capitalize()} and {f2}. {attrs} "
                    f"Model number {p.code}. Sold and shipped by {p.brand.name} - authenticity guaranteed.")
        if kind == "counterfeit":
            grade = rng.choice(('Top quality', 'Best quality', 'AAA grade'))
            extras = rng.choice(('Comes with box and dust bag.', 'With all tags.', 'Box included.'))
            return (f"{p.brand.name} {p.model} {noun} {p.colour}. {grade}"
                    f", same as original. {attrs} {extras}"
                    f" Shipping {rng.choice(('7-15', '10-20', '5-12'))} days. Contact us for wholesale prices.")
        if kind == "creator":
            cond = rng.choice(("Worn twice, like new.", "Brand new, never used - wrong size.",
                               "Unwanted gift, still in the box.", "Used but in great condition."))
            return (f"Selling my {p.brand.name} {p.model} {noun} in {p.colour}. {cond} {attrs} "
                    f"{rng.choice(('Pick-up in', 'Can ship from', 'Located in'))} {seller.city}.")
        return (f"{rng.choice(('Brand new', 'New', 'Genuine'))} {p.brand.name} {p.model} {noun} ({p.colour}). "
                f"Features: {f1}, {f2}. {attrs} Ships within {rng.randint(1, 3)} working days from {seller.city}. "
                f"{rng.choice(('14-day returns.', '30-day returns.', 'Invoice included.', 'Tracked shipping.'))}")

    def _attributes(self, rng: random.Random, p: _Product, drop_model: bool = False) -> dict[str, Any]:
        a: dict[str, Any] = {}
        if not drop_model:
            a["model_number"] = p.code
        a["colour"] = p.colour
        for kind, v in p.attrs.items():
            if kind == "size_shoe":
                a["size"] = f"EU {v}"
            elif kind == "size_apparel":
                a["size"] = v
            elif kind == "storage":
                a["storage"] = f"{v} GB"
            elif kind in ("volume_ml", "volume_small", "capacity_ml", "capacity_mug"):
                a["volume"] = f"{v} ml"
            elif kind == "capacity_l":
                a["capacity"] = f"{v} L"
            elif kind == "case_mm":
                a["case_size"] = f"{v} mm"
            elif kind == "battery_h":
                a["battery_life"] = f"{v} h"
            elif kind == "screen":
                a["screen_size"] = f'{v}"'
            elif kind == "anc":
                a["noise_cancelling"] = v
            else:
                a[kind] = v
        return a
