"""Seller accounts and sock-puppet rings: names, addresses, identifiers, avatars."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from .common import _EPOCH, _REGISTRATION_END, _ascii, _clamp, _rng
from .model import _Account
from .places import (
    _CITIES,
    _CITY_WEIGHTS,
    _CREATOR_BIOS,
    _FIRST,
    _LAST,
    _MAIL_DOMAINS,
    _MERCHANT_BIOS,
    _RING_BIOS,
    _SHOP_ADJ,
    _SHOP_NOUN,
    _STREETS,
    _email_key,
    _email_variant,
    _fmt_address,
    _fmt_iban,
    _fmt_phone,
    _fmt_us_account,
    _handle_base,
    _iban,
    _new_nsn,
    _us_account,
)


class _People:
    """Accounts, their identifiers and the rings linking some of them."""

    def _city(self, rng: random.Random) -> int:
        return rng.choices(range(len(_CITIES)), weights=_CITY_WEIGHTS)[0]

    def _address(self, rng: random.Random, city_idx: int) -> dict:
        city, _country, style, _cc, pcs, state = _CITIES[city_idx]
        return {"street": rng.choice(_STREETS[style]), "no": str(rng.randint(1, 180)), "pc": rng.choice(pcs),
                "city": city, "style": style, "state": state}

    def _phone(self, rng: random.Random, cc: str) -> str:
        return self._unique("phone", lambda: _new_nsn(rng, cc), key=lambda s: s[-9:])

    def _device(self, rng: random.Random) -> str:
        def make() -> str:
            h = "%032x" % rng.getrandbits(128)
            return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[rng.randrange(4)]}{h[17:20]}-{h[20:32]}"
        return self._unique("device", make)

    def _payout(self, rng: random.Random, country: str) -> str:
        return self._unique("payout", lambda: _us_account(rng) if country == "US" else _iban(rng, country))

    def _fmt_payout(self, raw: str, country: str, style: int) -> str:
        return _fmt_us_account(raw, style) if country == "US" else _fmt_iban(raw, style)

    def _ip(self, rng: random.Random) -> str:
        def make() -> str:
            while True:
                a = rng.randint(2, 223)
                if a not in (10, 127, 100, 169, 172, 192, 198, 203):
                    return f"{a}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        return self._unique("ip", make)

    def _email(self, rng: random.Random, local: str, domain: str | None = None) -> str:
        local = "".join(ch for ch in _ascii(local).lower() if ch.isalnum() or ch in "._")
        domain = domain or rng.choice(_MAIL_DOMAINS)

        def make() -> str:
            suffix = "" if rng.random() < 0.4 else str(rng.randint(1, 99))
            return f"{local}{suffix}@{domain}"
        return self._unique("email", make, key=_email_key)

    def _shop_name(self, rng: random.Random) -> str:
        return self._unique("shop", lambda: f"{rng.choice(_SHOP_ADJ)} {rng.choice(_SHOP_NOUN)}", key=str.lower)

    def _handle(self, rng: random.Random, base: str, kind: str) -> str:
        words = base.split()

        def make() -> str:
            style = rng.randrange(4)
            if style == 0:
                h = "_".join(words)
            elif style == 1:
                h = ".".join(words)
            elif style == 2:
                h = "".join(words)
            else:
                h = "".join(words) + ("_shop" if kind == "merchant" else str(rng.randint(80, 99)))
            if h in self._taken["handle"]:
                h += str(rng.randint(2, 999))
            return h
        return self._unique("handle", make)


    # ------------------------------------------------------------------ accounts
    def _avatar_spec(self, rng: random.Random, kind: str, display_name: str) -> dict:
        palette = [(230, 90, 70), (60, 130, 200), (90, 170, 110), (240, 180, 60), (150, 90, 180), (40, 40, 50),
                   (250, 240, 225), (200, 60, 120), (30, 120, 120), (210, 210, 215)]
        bg = rng.choice(palette)
        lum = lambda c: 0.3 * c[0] + 0.59 * c[1] + 0.11 * c[2]  # noqa: E731
        contrasting = [c for c in palette if abs(lum(c) - lum(bg)) > 70] or [c for c in palette if c != bg]
        if kind == "creator" and rng.random() < 0.8:
            return {"style": "face", "bg": bg, "fg": rng.choice([c for c in palette if c != bg]),
                    "skin": rng.choice([(241, 204, 180), (224, 172, 140), (198, 134, 96), (141, 85, 60),
                                        (250, 220, 196)]),
                    "hair": rng.choice([(40, 30, 25), (90, 60, 30), (200, 160, 90), (150, 60, 30), (20, 20, 20),
                                        (180, 180, 180)]),
                    "hair_len": round(rng.random(), 2), "glasses": rng.random() < 0.25}
        words = [w for w in _ascii(display_name).split() if w[:1].isalpha()]
        text = "".join(w[0].upper() for w in words[:2]) or display_name[:2].upper()
        if rng.random() < 0.25:
            text = words[0][:6].upper() if words else text
        return {"style": "monogram", "bg": bg, "fg": rng.choice(contrasting), "text": text,
                "frame": rng.choice(("circle", "square")), "icon": rng.choice(("none", "none", "bag"))}

    def _new_account(self, rng: random.Random, *, kind: str, role: str, city_idx: int | None = None,
                     display_name: str | None = None, person: tuple[str, str] | None = None,
                     registered: datetime | None = None) -> _Account:
        city_idx = self._city(rng) if city_idx is None else city_idx
        city, country, _style, cc, _pcs, _state = _CITIES[city_idx]
        if display_name is None:
            if kind == "creator":
                first, last = person or (rng.choice(_FIRST[country]), rng.choice(_LAST[country]))
                display_name = f"{first} {last}" if rng.random() < 0.7 else f"{first} {last[0]}."
                hbase = f"{first} {last}"
            else:
                display_name = self._shop_name(rng)
                hbase = display_name
        else:
            hbase = display_name
        handle = self._handle(rng, _handle_base(hbase), kind)
        if kind == "creator":
            email = self._email(rng, handle.replace("_", "."))
        else:
            email = self._email(rng, rng.choice((handle.replace(".", ""), "info." + handle.replace(".", ""),
                                                 handle.replace("_", "."))))
        addr = self._address(rng, city_idx)
        cat = rng.choice(("fashion", "sneakers", "electronics", "beauty", "home goods", "watches", "toys", "bags"))
        bio_t = rng.choice(_CREATOR_BIOS if kind == "creator" else _MERCHANT_BIOS)
        bio = bio_t.format(city=city, year=rng.randint(1998, 2021), cat=cat)
        if registered is None:
            registered = _EPOCH + timedelta(seconds=rng.randrange(int((_REGISTRATION_END - _EPOCH).total_seconds())))
        acc = _Account(
            order=len(self.accounts), kind=kind, role=role, display_name=display_name, handle=handle, bio=bio,
            address=_fmt_address(addr, 0 if rng.random() < 0.6 else rng.randint(1, 4)),
            identifiers={"email": email, "phone": _fmt_phone(cc, self._phone(rng, cc), rng.randrange(3)),
                         "device_id": self._device(rng),
                         "payout_account": self._fmt_payout(self._payout(rng, country), country, rng.randrange(3)),
                         "ip": self._ip(rng)},
            authorized_brands=[], registered_at=registered, country=country, city=city,
            currency="USD" if country == "US" else "EUR")
        self.accounts.append(acc)
        return acc

    def _plain_avatar(self, rng: random.Random, acc: _Account) -> None:
        task = self._task("avatar", self._avatar_spec(rng, acc.kind, acc.display_name))
        acc.avatar = self._out(task, acc, "avatar")

    def _build_accounts(self) -> None:
        rng = _rng("accounts", self.seed, self.S)
        S = self.S
        premium = [b for b in self.brands if b.premium]
        # official brand stores
        for b in premium:
            home = "New York" if b.currency == "USD" else rng.choice(("Paris", "Milan"))
            city_idx = next(i for i, c in enumerate(_CITIES) if c[0] == home)
            acc = self._new_account(rng, kind="merchant", role="store", city_idx=city_idx,
                                    display_name=f"{b.name} Official Store",
                                    registered=_EPOCH + timedelta(days=rng.randint(0, 200)))
            acc.bio = (f"The official {b.name} store. Every item is authentic, shipped by {b.name} with a "
                       f"certificate of authenticity.")
            acc.authorized_brands = [b.name]
            b.store = acc
            task = self._task("avatar", {"style": "monogram", "bg": (250, 250, 250), "fg": b.accent,
                                         "text": "".join(w[0] for w in b.name.split()).upper(), "frame": "square",
                                         "icon": "none"})
            acc.avatar = self._out(task, acc, "avatar")
        # authorised resellers
        n_res = _clamp(S // 30, 2, 12)
        self.resellers: list[_Account] = []
        for i in range(n_res):
            acc = self._new_account(rng, kind="merchant", role="reseller")
            acc.bio = f"Authorised retailer of premium brands in {acc.city}. Invoices with every order."
            self._plain_avatar(rng, acc)
            self.resellers.append(acc)
        for i, b in enumerate(premium):                       # every premium brand has a reseller
            self.resellers[i % n_res].authorized_brands.append(b.name)
        for acc in self.resellers:
            for b in rng.sample(premium, rng.randint(0, 2)):
                if b.name not in acc.authorized_brands and len(acc.authorized_brands) < 3:
                    acc.authorized_brands.append(b.name)
            acc.authorized_brands.sort()
        # sock-puppet rings
        n_rings = _clamp(S // 40, 1, 12)
        self.rings: list[dict] = []
        for r in range(n_rings):
            self._build_ring(_rng("ring", self.seed, r), r)
        # counterfeiters (unauthorised sellers of fakes)
        n_cf = _clamp(S // 25, 2, 20)
        self.counterfeiters = []
        for i in range(n_cf):
            acc = self._new_account(rng, kind="merchant" if rng.random() < 0.7 else "creator", role="counterfeiter")
            if rng.random() < 0.6:
                acc.bio = rng.choice(_RING_BIOS)
            self._plain_avatar(rng, acc)
            self.counterfeiters.append(acc)
        # everyone else: honest general sellers, with account decoys among them
        n_general = S - len(self.accounts)
        if n_general < 8:
            raise ValueError(f"n_sellers={S} leaves {n_general} general sellers; use n_sellers >= 25")
        self.general: list[_Account] = []
        n_name_decoys = max(1, S // 60)
        for i in range(n_name_decoys):
            city_idx = self._city(rng)
            country = _CITIES[city_idx][1]
            person = (rng.choice(_FIRST[country]), rng.choice(_LAST[country]))
            a = self._new_account(rng, kind="creator", role="general", city_idx=city_idx, person=person)
            b = self._new_account(rng, kind="creator", role="general", city_idx=city_idx, person=person)
            b.display_name = a.display_name if rng.random() < 0.6 else f"{person[0]} {person[1]}"
            self.general += [a, b]
            self._decoy("accounts", "common_name_same_city", [a, b],
                        f"two unrelated people called {person[0]} {person[1]} in {a.city}; nothing else shared")
        while len(self.accounts) < S:
            kind = "merchant" if rng.random() < 0.55 else "creator"
            self.general.append(self._new_account(rng, kind=kind, role="general"))
        # decoy: unrelated accounts behind one public IP (carrier NAT, café wifi)
        in_decoy = {a.order for d in self.planted["decoys"] for a in d["_objs"]}
        n_ip = max(1, S // 75)
        for _ in range(n_ip):
            free = [a for a in self.general if a.order not in in_decoy]
            by_city: dict[str, list[_Account]] = {}
            for a in free:
                by_city.setdefault(a.city, []).append(a)
            cities = sorted(c for c, accs in by_city.items() if len(accs) >= 2)
            if not cities:
                break
            a, b = rng.sample(by_city[rng.choice(cities)], 2)
            b.identifiers["ip"] = a.identifiers["ip"]
            in_decoy |= {a.order, b.order}
            self._decoy("accounts", "shared_ip_only", [a, b],
                        f"same public IP address in {a.city} (mobile carrier NAT / public wifi); "
                        f"no other identifier shared")
        # avatars: the platform's default picture for some, a drawn one for the rest
        free = [a for a in self.general if a.order not in in_decoy]
        default_users = [a for a in free if rng.random() < 0.08]
        if len(default_users) < 2:
            default_users = free[:2]
        dtask = self._task("avatar", {"style": "default", "bg": (232, 232, 236)})
        self._default_avatar = self._out(dtask, None, "avatar")
        self._default_avatar.path = "images/avatars/default.jpg"
        for a in self.general:
            if a in default_users:
                a.avatar = self._default_avatar
            else:
                self._plain_avatar(rng, a)
        for i in range(0, min(len(default_users) - 1, 6), 2):
            self._decoy("accounts", "default_avatar", default_users[i:i + 2],
                        "both use the platform's default profile picture; nothing else shared")

    def _build_ring(self, rng: random.Random, r: int) -> None:
        size = rng.randint(3, 5)
        kind = "merchant" if rng.random() < 0.75 else "creator"
        city_idx = self._city(rng)
        city, country, _style, cc, _pcs, _state = _CITIES[city_idx]
        if kind == "merchant":
            base_name = self._shop_name(rng) + rng.choice(("", " Shop", " Store"))
        else:
            base_name = f"{rng.choice(_FIRST[country])} {rng.choice(_LAST[country])}"
        words = _handle_base(base_name).split()
        base = {
            "email_local": ".".join(words), "phone": self._phone(rng, cc), "device_id": self._device(rng),
            "payout": self._payout(rng, country), "ip": self._ip(rng), "addr": self._address(rng, city_idx),
            "bio": rng.choice(_RING_BIOS),
            "registered": _EPOCH + timedelta(seconds=rng.randrange(int((_REGISTRATION_END - _EPOCH).total_seconds())
                                                                   - 30 * 86400)),
        }
        avatar_task = self._task("avatar", self._avatar_spec(rng, kind, base_name))
        strong = ("device_id", "payout_account", "phone", "email")
        optional = ("device_id", "payout_account", "phone", "email", "avatar", "address", "name", "ip", "bio")
        members: list[_Account] = []
        evidence: list[set[str]] = []
        name_variants = self._ring_name_variants(rng, base_name, size, kind)
        for m in range(size):
            if m == 0:
                ev = set(optional)
            else:
                ev = {rng.choice(strong)} | {e for e in optional if rng.random() < 0.35}
            registered = base["registered"] + timedelta(seconds=rng.randrange(14 * 86400))
            if "name" in ev:
                acc = self._new_account(rng, kind=kind, role="ring", city_idx=city_idx,
                                        display_name=name_variants[m][0], registered=registered)
                self._taken["handle"].discard(acc.handle)
                wanted = name_variants[m][1]
                acc.handle = self._unique("handle", lambda: wanted if wanted not in self._taken["handle"]
                                          else f"{wanted}{rng.randint(2, 99)}")
            else:
                acc = self._new_account(rng, kind=kind, role="ring",
                                        city_idx=city_idx if rng.random() < 0.5 else None, registered=registered)
            ids = acc.identifiers
            if "email" in ev:
                ids["email"] = self._unique("email", lambda: _email_variant(rng, base["email_local"], m),
                                            key=lambda s: s)
            if "phone" in ev:
                ids["phone"] = _fmt_phone(cc, base["phone"], m % 3 if m else 0)
            if "device_id" in ev:
                ids["device_id"] = base["device_id"]
            if "payout_account" in ev:
                ids["payout_account"] = self._fmt_payout(base["payout"], country, m % 3)
            if "ip" in ev:
                ids["ip"] = base["ip"]
            if "address" in ev:
                acc.address = _fmt_address(base["addr"], m % 5)
                acc.city = city
            if "bio" in ev:
                acc.bio = base["bio"]
            if "avatar" in ev:
                if m == 0:
                    acc.avatar = self._out(avatar_task, acc, "avatar")
                else:
                    q = rng.choice((60, 70, 75, 80, 85))
                    edits = [{"op": "reencode", "quality": q}]
                    if rng.random() < 0.4:
                        s = rng.choice((128, 140, 150))
                        edits = [{"op": "resize", "size": [s, s]}] + edits
                    acc.avatar = self._out(avatar_task, acc, "avatar", edits=edits, quality=q)
            else:
                self._plain_avatar(rng, acc)
            members.append(acc)
            evidence.append(ev)
        self.rings.append({"members": members, "evidence": evidence, "listing_pairs": set(),
                           "registered_within_days": 14, "shared_groups": []})

    def _ring_name_variants(self, rng: random.Random, base_name: str, size: int, kind: str) -> list[tuple[str, str]]:
        words = _handle_base(base_name).split()
        joined = "".join(words)
        if kind == "creator":
            first, last = base_name.split(" ", 1)
            handles = ["_".join(words), ".".join(words) + "2", joined + "_", "real." + joined,
                       f"{words[0]}.{''.join(words[1:])}{rng.randint(10, 99)}", joined + ".shop",
                       f"{joined}_{rng.randint(80, 99)}", "its" + joined]
            displays = [base_name, f"{first} {last[0]}.", f"{first[0]}. {last}", f"{base_name} 2", base_name.lower(),
                        f"{first} {last.replace(' ', '')}", f"{first}'s closet", f"{base_name} Shop"]
            out = [(base_name, handles[0])]
            order = list(range(1, len(handles)))
            rng.shuffle(order)
            return out + [(displays[k], handles[k]) for k in order[:size - 1]]
        handles = ["_".join(words), ".".join(words) + "2", joined + "_official", "the_" + joined,
                   joined.replace("l", "1", 1) if "l" in joined else joined + "x",
                   "_".join(words) + "_" + str(rng.randint(3, 9)),
                   joined + ".store", "real" + joined]
        titled = " ".join(w.capitalize() for w in words)
        displays = [base_name, "".join(w.capitalize() for w in words), "-".join(w.capitalize() for w in words),
                    titled.upper() + " 2", titled + " Official", "The " + titled, titled + " Outlet", titled + "!"]
        out = [(base_name, handles[0])]
        order = list(range(1, len(handles)))
        rng.shuffle(order)
        for k in order[:size - 1]:
            out.append((displays[k], handles[k]))
        return out
