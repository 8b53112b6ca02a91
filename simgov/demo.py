"""The deterministic synthetic demo marketplace behind ``simgov demo``.

:func:`generate_marketplace` writes a small fictional marketplace into a folder:

* ``items.jsonl``    listings (the ingest contract: item_id, title, description, images, seller_id,
  brand, price, currency, category, reference, attributes, plus ``listed_at`` and ``condition``);
* ``accounts.jsonl`` seller accounts (account_id, kind, display_name, handle, bio, avatar, address,
  identifiers, authorized_brands, registered_at, plus ``country``);
* ``images/``        JPEG product photos (320x320) and ``images/avatars/`` profile pictures, all
  drawn with Pillow: no font files, no network;
* ``planted.json``   the ground truth of everything planted: same-seller re-listings, cross-seller
  copies with the photo edit applied to each copy, counterfeits of brand-verified reference
  listings, authorised resellers (planted negatives), sock-puppet rings with the evidence linking
  each pair of members, decoys (look related, are not) and honest sellers of the same product.

Everything is a pure function of ``(seed, n_sellers, n_products)``: the same arguments give the
same bytes in every file (fixed JPEG qualities, no clock, no hash randomisation, sorted output).
Pictures are drawn in a small process pool; each picture depends only on its own specification,
so the number of workers never changes a byte.

All brands, people, addresses, phone numbers and bank accounts are invented. IBANs carry a valid
checksum so that parsers accept them; they belong to no bank account.

Pure library code: no printing. ``progress(done, total)`` reports pictures drawn.
"""
from __future__ import annotations

import hashlib
import io
import json
import math
import multiprocessing
import os
import random
import shutil
import threading
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFont, ImageOps

__all__ = ["DemoMarketplace", "generate_marketplace", "GENERATOR_VERSION", "EDIT_OPS"]

GENERATOR_VERSION = "simgov.demo/1"

#: Photo edits a copier may apply; every copy and counterfeit records its list of edits.
EDIT_OPS = ("crop", "flip", "watermark", "jpeg", "resize")

PHOTO_SIZE = 320
AVATAR_SIZE = 160
ORIGINAL_QUALITY = 90          # quality of every picture as first published
DETAIL_SHOT_PROBABILITY = 0.35

ProgressFn = Callable[[int, int], None]


# =============================================================================================
# Result
# =============================================================================================


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


# =============================================================================================
# Deterministic helpers
# =============================================================================================


def _subseed(*parts: Any) -> int:
    """A 63-bit seed from any parts; stable across processes (no ``hash()``)."""
    digest = hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def _rng(*parts: Any) -> random.Random:
    return random.Random(_subseed(*parts))


def _ascii(text: str) -> str:
    text = text.replace("ß", "ss").replace("ø", "o").replace("'", "")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _clamp(v: int, lo: int, hi: int) -> int:
    return max(lo, min(hi, v))


def _round_price(value: float, rng: random.Random) -> float:
    """Prices as shops write them: 49.99, 50.00, 49.90, 119.00."""
    if value < 1:
        return round(max(value, 0.5), 2)
    style = rng.random()
    base = math.floor(value)
    if style < 0.55:
        return round(base + 0.99 if value - base > 0.3 or base == 0 else base - 0.01, 2)
    if style < 0.8:
        return float(round(value))
    return round(base + 0.9, 2)


# =============================================================================================
# Catalogue vocabulary (all brands invented)
# =============================================================================================

_COLOURS: list[tuple[str, tuple[int, int, int], str]] = [
    ("black", (32, 32, 36), "BLK"), ("white", (238, 238, 234), "WHT"), ("navy", (30, 42, 92), "NVY"),
    ("blue", (40, 102, 204), "BLU"), ("red", (204, 42, 42), "RED"), ("green", (40, 142, 72), "GRN"),
    ("olive", (112, 116, 50), "OLV"), ("grey", (128, 128, 134), "GRY"), ("beige", (216, 196, 158), "BEI"),
    ("pink", (236, 140, 172), "PNK"), ("purple", (122, 62, 162), "PUR"), ("orange", (242, 130, 30), "ORG"),
    ("yellow", (242, 210, 52), "YEL"), ("brown", (122, 76, 40), "BRN"), ("teal", (30, 142, 142), "TEA"),
    ("silver", (192, 194, 200), "SLV"), ("gold", (212, 176, 56), "GLD"), ("burgundy", (112, 22, 42), "BUR"),
]
_COLOUR = {name: (rgb, code) for name, rgb, code in _COLOURS}

# name, code prefix, product types, price tier, home currency, accent colour
_BRANDS: list[tuple[str, str, tuple[str, ...], float, str, tuple[int, int, int]]] = [
    ("Acme", "AC", ("running shoe", "sneaker", "backpack", "t-shirt"), 1.0, "EUR", (230, 60, 40)),
    ("Nordvik", "NV", ("hiking boot", "backpack", "water bottle", "hoodie"), 1.1, "EUR", (20, 90, 60)),
    ("Lumora", "LU", ("face serum", "eau de parfum", "coffee mug"), 0.9, "EUR", (200, 150, 210)),
    ("Brightwave", "BW", ("wireless headphones", "bluetooth speaker", "smartphone"), 1.0, "USD", (0, 170, 230)),
    ("Orbis", "OR", ("smartphone", "tablet", "smartwatch"), 1.1, "USD", (90, 90, 220)),
    ("Zentra", "ZT", ("smartwatch", "wireless headphones", "running shoe"), 1.0, "EUR", (250, 200, 0)),
    ("Halden", "HD", ("wristwatch", "sunglasses", "handbag"), 1.2, "EUR", (150, 110, 60)),
    ("Corvo", "CV", ("sneaker", "hoodie", "sunglasses", "backpack"), 0.9, "EUR", (20, 20, 20)),
    ("Pinecrest", "PC", ("coffee mug", "water bottle", "building set"), 0.8, "USD", (40, 120, 50)),
    ("Tessaro", "TS", ("handbag", "tote bag", "sunglasses"), 1.1, "EUR", (170, 40, 60)),
    ("Vireo", "VR", ("t-shirt", "hoodie", "sneaker"), 0.8, "EUR", (110, 200, 90)),
    ("Fenwick", "FW", ("board game", "building set", "coffee mug"), 0.9, "EUR", (230, 120, 20)),
    ("Dovetail", "DT", ("tote bag", "coffee mug", "t-shirt"), 0.7, "EUR", (90, 130, 170)),
    ("Ember", "EM", ("bluetooth speaker", "wireless headphones"), 0.9, "USD", (240, 90, 30)),
    ("Calyx", "CX", ("eau de parfum", "face serum"), 1.0, "EUR", (210, 170, 190)),
    ("Rivet", "RV", ("backpack", "hiking boot", "wristwatch"), 1.0, "USD", (70, 70, 80)),
    ("Quillon", "QL", ("tablet", "smartphone", "bluetooth speaker"), 0.9, "EUR", (60, 160, 160)),
    ("Yarrow", "YR", ("face serum", "water bottle", "tote bag"), 0.8, "EUR", (220, 200, 90)),
    ("Sable", "SB", ("sneaker", "running shoe", "t-shirt"), 1.0, "EUR", (60, 40, 30)),
    ("Kairo", "KR", ("wristwatch", "smartwatch", "sunglasses"), 1.0, "EUR", (200, 50, 100)),
]
# Premium brands: an official store lists brand-verified reference listings; they get counterfeited.
_PREMIUM: list[tuple[str, str, tuple[str, ...], float, str, tuple[int, int, int]]] = [
    ("Maison Aurel", "MA", ("handbag", "eau de parfum", "sunglasses", "wristwatch"), 4.0, "EUR", (190, 150, 70)),
    ("Altura", "AL", ("smartphone", "wireless headphones", "smartwatch", "tablet"), 2.0, "USD", (40, 40, 50)),
    ("Kestrel", "KS", ("running shoe", "sneaker", "hoodie"), 1.8, "USD", (220, 30, 30)),
    ("Veltro", "VT", ("wristwatch", "handbag", "sneaker"), 3.5, "EUR", (20, 60, 120)),
    ("Solenne", "SL", ("eau de parfum", "face serum", "sunglasses"), 2.5, "EUR", (230, 170, 150)),
    ("Marlowe", "MW", ("handbag", "tote bag", "wristwatch", "sunglasses"), 3.0, "EUR", (100, 20, 40)),
]

# type -> category, shape, variant, EUR price range, synonyms, attribute kinds, features
_TYPES: dict[str, dict[str, Any]] = {
    "running shoe": dict(cat="Shoes", shape="shoe", var="runner", price=(70, 160),
                         syn=("running shoes", "running trainers", "runners", "running sneakers"),
                         attrs=("gender", "size_shoe"),
                         feat=("breathable mesh upper", "responsive foam midsole", "grippy rubber outsole")),
    "sneaker": dict(cat="Shoes", shape="shoe", var="low", price=(60, 140),
                    syn=("sneakers", "trainers", "low-top sneakers", "lifestyle sneaker"),
                    attrs=("gender", "size_shoe"),
                    feat=("leather upper", "cushioned insole", "classic cupsole")),
    "hiking boot": dict(cat="Shoes", shape="shoe", var="boot", price=(90, 220),
                        syn=("hiking boots", "trekking boots", "outdoor boots"),
                        attrs=("gender", "size_shoe"),
                        feat=("waterproof membrane", "ankle support", "lugged outsole")),
    "handbag": dict(cat="Bags", shape="bag", var="handbag", price=(80, 300),
                    syn=("hand bag", "shoulder bag", "top-handle bag"), attrs=("material",),
                    feat=("magnetic clasp", "inner zip pocket", "detachable strap")),
    "tote bag": dict(cat="Bags", shape="bag", var="tote", price=(25, 120),
                     syn=("tote", "shopper bag", "carry-all tote"), attrs=("material",),
                     feat=("roomy main compartment", "reinforced handles", "inner pocket")),
    "backpack": dict(cat="Bags", shape="bag", var="backpack", price=(40, 150),
                     syn=("rucksack", "daypack", "back pack"), attrs=("capacity_l",),
                     feat=("padded laptop sleeve", "water-repellent fabric", "padded shoulder straps")),
    "smartphone": dict(cat="Electronics", shape="phone", var="phone", price=(250, 900),
                       syn=("mobile phone", "phone", "cell phone"), attrs=("storage",),
                       feat=("OLED display", "dual camera", "fast charging")),
    "tablet": dict(cat="Electronics", shape="phone", var="tablet", price=(200, 800),
                   syn=("tablet PC", "tab", "Android tablet"), attrs=("storage", "screen"),
                   feat=("all-day battery", "stylus support", "quad speakers")),
    "wireless headphones": dict(cat="Electronics", shape="headphones", var="over", price=(50, 350),
                                syn=("bluetooth headphones", "over-ear headphones", "headset"),
                                attrs=("anc",), feat=("40 h battery", "foldable design", "multipoint pairing")),
    "bluetooth speaker": dict(cat="Electronics", shape="box", var="speaker", price=(30, 200),
                              syn=("portable speaker", "wireless speaker", "BT speaker"), attrs=("battery_h",),
                              feat=("IP67 waterproof", "deep bass", "party pairing")),
    "smartwatch": dict(cat="Watches", shape="watch", var="smart", price=(100, 450),
                       syn=("smart watch", "fitness watch", "sports watch"), attrs=("case_mm",),
                       feat=("heart-rate sensor", "GPS", "always-on display")),
    "wristwatch": dict(cat="Watches", shape="watch", var="analog", price=(80, 500),
                       syn=("watch", "wrist watch", "analog watch"), attrs=("case_mm", "strap"),
                       feat=("sapphire crystal", "automatic movement", "50 m water resistance")),
    "eau de parfum": dict(cat="Beauty", shape="bottle", var="perfume", price=(40, 180),
                          syn=("perfume", "EDP", "fragrance"), attrs=("volume_ml",),
                          feat=("long-lasting", "notes of amber and vanilla", "gift box")),
    "face serum": dict(cat="Beauty", shape="bottle", var="dropper", price=(15, 80),
                       syn=("serum", "facial serum", "skin serum"), attrs=("volume_small",),
                       feat=("hyaluronic acid", "vitamin C", "fragrance-free")),
    "water bottle": dict(cat="Home", shape="bottle", var="flask", price=(15, 45),
                         syn=("drinking bottle", "insulated bottle", "flask"), attrs=("capacity_ml",),
                         feat=("keeps drinks cold 24 h", "leak-proof lid", "BPA-free")),
    "coffee mug": dict(cat="Home", shape="mug", var="mug", price=(8, 30),
                       syn=("mug", "coffee cup", "ceramic mug"), attrs=("capacity_mug",),
                       feat=("dishwasher safe", "stoneware", "microwave safe")),
    "sunglasses": dict(cat="Accessories", shape="glasses", var="glasses", price=(30, 250),
                       syn=("shades", "sun glasses", "sunnies"), attrs=("lens",),
                       feat=("UV400 protection", "acetate frame", "spring hinges")),
    "t-shirt": dict(cat="Clothing", shape="shirt", var="tee", price=(15, 45),
                    syn=("tee", "T shirt", "tshirt"), attrs=("gender", "size_apparel"),
                    feat=("100% organic cotton", "regular fit", "ribbed collar")),
    "hoodie": dict(cat="Clothing", shape="shirt", var="hoodie", price=(35, 90),
                   syn=("hooded sweatshirt", "hoody", "pullover hoodie"), attrs=("gender", "size_apparel"),
                   feat=("brushed fleece inside", "kangaroo pocket", "adjustable hood")),
    "building set": dict(cat="Toys", shape="box", var="toybox", price=(20, 150),
                         syn=("building kit", "construction set", "brick set"), attrs=("pieces", "age"),
                         feat=("step-by-step instructions", "compatible bricks", "display model")),
    "board game": dict(cat="Toys", shape="box", var="game", price=(20, 60),
                       syn=("family board game", "tabletop game", "strategy game"), attrs=("players", "age"),
                       feat=("45-minute games", "illustrated board", "easy to learn")),
}

_LINES: dict[str, tuple[str, ...]] = {
    "shoe": ("TrailRunner", "CloudStep", "AeroGlide", "Tempo", "Ridge", "Summit", "Street", "Apex", "Strider",
             "Volt", "Pacer", "Terra"),
    "bag": ("Voyager", "Metro", "Soho", "Classic", "Atlas", "Cabas", "Nomad", "Riviera", "Loft", "Arc"),
    "phone": ("X", "Nova", "Edge", "Vista", "Prime", "S", "Air"),
    "headphones": ("SoundArc", "QuietPro", "Studio", "BassLine", "Aero", "Halo"),
    "box": ("Boom", "Pulse", "City", "Castle", "Galaxy", "Quest", "Harbor", "Orbit"),
    "watch": ("Chrono", "Diver", "Field", "Pulse", "Aviator", "Heritage", "Active", "Meridian"),
    "bottle": ("Nuit", "Ambre", "Bloom", "Aqua", "Velvet", "Glow", "Pure", "Summit", "Iris"),
    "mug": ("Morning", "Barista", "Cosy", "Classic", "Nordic"),
    "glasses": ("Aviator", "Wayfarer", "Round", "Cat-Eye", "Sport", "Clubman"),
    "shirt": ("Essential", "Logo", "Heritage", "Core", "Graphic", "Club", "Crew"),
}
_HUNDREDS_SHAPES = ("phone", "headphones", "box")   # model numbers like X200; others: TrailRunner 5

_ATTR_VALUES: dict[str, tuple[Any, ...]] = {
    "material": ("leather", "canvas", "nylon", "suede", "vegan leather"),
    "capacity_l": (15, 20, 25, 30),
    "storage": (64, 128, 256, 512),
    "screen": (10.1, 11, 12.4),
    "anc": ("active noise cancelling", "passive isolation"),
    "battery_h": (10, 12, 20, 24),
    "case_mm": (38, 40, 42, 44),
    "strap": ("leather", "steel", "rubber", "NATO"),
    "volume_ml": (30, 50, 100),
    "volume_small": (15, 30, 50),
    "capacity_ml": (500, 750, 1000),
    "capacity_mug": (300, 350, 450),
    "lens": ("polarized", "UV400", "gradient"),
    "size_apparel": ("XS", "S", "M", "L", "XL", "XXL"),
    "pieces": (250, 500, 750, 1000, 1500),
    "age": ("6+", "8+", "10+", "12+"),
    "players": ("2-4", "2-6", "1-5"),
}

_TELLS = ("top quality", "AAA quality", "1:1", "mirror quality", "best price", "with box", "100% original",
          "fast shipping", "wholesale", "original quality")
_EXTRAS = ("free shipping", "brand new", "NEW", "sale", "fast delivery", "like new", "with receipt", "original box",
           "bargain", "top condition")
_BANNERS = ("FREE SHIPPING", "SALE -50%", "BEST PRICE", "NEW IN", "HOT DEAL", "LIMITED OFFER", "TOP SELLER")


# =============================================================================================
# People and places (all invented)
# =============================================================================================

# city, country, style, phone country code, postcodes, US state
_CITIES: list[tuple[str, str, str, str, tuple[str, ...], str]] = [
    ("Berlin", "DE", "de", "49", ("10115", "10178", "10245", "10437", "12043"), ""),
    ("Hamburg", "DE", "de", "49", ("20095", "20354", "22765"), ""),
    ("Munich", "DE", "de", "49", ("80331", "80469", "81675"), ""),
    ("Paris", "FR", "fr", "33", ("75002", "75011", "75015"), ""),
    ("Lyon", "FR", "fr", "33", ("69001", "69003", "69007"), ""),
    ("Madrid", "ES", "es", "34", ("28013", "28004", "28010"), ""),
    ("Barcelona", "ES", "es", "34", ("08001", "08010", "08036"), ""),
    ("Milan", "IT", "it", "39", ("20121", "20135", "20144"), ""),
    ("Rome", "IT", "it", "39", ("00184", "00186", "00153"), ""),
    ("Amsterdam", "NL", "nl", "31", ("1015", "1017", "1072"), ""),
    ("Dublin", "IE", "en", "353", ("D02", "D04", "D08"), ""),
    ("New York", "US", "us", "1", ("10001", "10013", "10027"), "NY"),
    ("Chicago", "US", "us", "1", ("60601", "60614", "60647"), "IL"),
    ("Austin", "US", "us", "1", ("78701", "78704", "78751"), "TX"),
]
_CITY_WEIGHTS = (9, 5, 5, 7, 3, 6, 4, 5, 3, 4, 3, 6, 3, 3)

_STREETS: dict[str, tuple[str, ...]] = {
    "de": ("Hauptstraße", "Bahnhofstraße", "Lindenstraße", "Schillerstraße", "Gartenstraße", "Bergstraße",
           "Kastanienallee", "Friedrichstraße", "Rosenweg", "Goethestraße"),
    "fr": ("rue de la Paix", "rue Victor Hugo", "avenue Jean Jaurès", "rue du Commerce", "boulevard Voltaire",
           "rue des Lilas", "avenue de la République"),
    "es": ("Calle Mayor", "Calle de Alcalá", "Avenida Diagonal", "Calle del Sol", "Gran Vía", "Calle Real",
           "Avenida de América"),
    "it": ("Via Roma", "Via Garibaldi", "Corso Buenos Aires", "Via Torino", "Viale Monza", "Via Mazzini",
           "Corso Italia"),
    "nl": ("Keizersgracht", "Prinsengracht", "Damstraat", "Overtoom", "Ferdinand Bolstraat", "Kinkerstraat"),
    "en": ("Main Street", "Dame Street", "Camden Road", "Baggot Avenue", "Parnell Square", "Harbour Road"),
    "us": ("Main Street", "Oak Avenue", "Maple Road", "2nd Street", "Lake Shore Drive", "Congress Avenue",
           "Elm Street", "Park Avenue"),
}
# (long form, short forms...) for rewriting addresses
_STREET_ABBREV: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "de": (("straße", ("str.", "strasse", "Str.")), ("allee", ("allee",)), ("weg", ("weg",))),
    "fr": (("rue", ("r.", "Rue")), ("avenue", ("av.", "Av.")), ("boulevard", ("bd", "Bd."))),
    "es": (("Calle", ("C/", "c/", "calle")), ("Avenida", ("Av.", "Avda."))),
    "it": (("Via", ("V.", "via")), ("Viale", ("V.le", "viale")), ("Corso", ("C.so", "corso"))),
    "nl": (("straat", ("str.", "straat")), ("gracht", ("gracht",))),
    "en": (("Street", ("St.", "St", "street")), ("Road", ("Rd.", "Rd", "road")), ("Avenue", ("Ave.", "Ave")),
           ("Square", ("Sq.", "square"))),
    "us": (("Street", ("St.", "St", "street")), ("Road", ("Rd.", "Rd", "road")), ("Avenue", ("Ave.", "Ave", "avenue")),
           ("Drive", ("Dr.", "Dr", "drive"))),
}

_FIRST: dict[str, tuple[str, ...]] = {
    "DE": ("Anna", "Lena", "Lukas", "Jonas", "Sophie", "Max", "Paul", "Marie", "Felix", "Laura", "Jana", "Tim"),
    "FR": ("Camille", "Léa", "Hugo", "Lucas", "Chloé", "Louis", "Manon", "Jules", "Inès", "Théo"),
    "ES": ("María", "Lucía", "Pablo", "Javier", "Carmen", "Alejandro", "Sofía", "Diego", "Marta", "Sergio"),
    "IT": ("Giulia", "Marco", "Francesca", "Luca", "Chiara", "Matteo", "Sara", "Andrea", "Elena", "Davide"),
    "NL": ("Emma", "Daan", "Sanne", "Bram", "Lotte", "Sem", "Fleur", "Ruben"),
    "IE": ("Aoife", "Sean", "Ciara", "Conor", "Niamh", "Liam", "Siobhan", "Cian"),
    "US": ("Emily", "Michael", "Jessica", "David", "Ashley", "Chris", "Sarah", "Tyler", "Megan", "Jordan"),
}
_LAST: dict[str, tuple[str, ...]] = {
    "DE": ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann", "Koch"),
    "FR": ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Petit", "Durand", "Leroy", "Moreau"),
    "ES": ("García", "Martínez", "López", "Sánchez", "Pérez", "Gómez", "Fernández", "Ruiz", "Díaz"),
    "IT": ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Greco"),
    "NL": ("de Jong", "Jansen", "de Vries", "van Dijk", "Bakker", "Visser", "Smit", "Mulder"),
    "IE": ("Murphy", "Kelly", "O'Brien", "Byrne", "Walsh", "Ryan", "O'Connor", "Doyle"),
    "US": ("Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Taylor", "Moore"),
}
_SHOP_ADJ = ("Best", "Urban", "Nordic", "Prime", "Happy", "Smart", "Golden", "Blue", "Green", "Rapid", "Little",
             "Modern", "Bright", "Lucky", "True", "Daily", "Vintage", "Fresh", "Royal", "City", "Silver", "Easy",
             "Cosy", "Swift", "Sunny", "Grand", "Wild", "Pure")
_SHOP_NOUN = ("Deals", "Outlet", "Goods", "Finds", "Bazaar", "Store", "Market", "Trading", "Corner", "Depot",
              "Emporium", "Supply", "Closet", "Gadgets", "Boutique", "Hub", "Wares", "Shop", "Loft", "Picks")
_MAIL_DOMAINS = ("gmail.com", "gmail.com", "gmail.com", "outlook.com", "yahoo.com", "proton.me", "gmx.de",
                 "icloud.com", "web.de", "hotmail.com")
_MERCHANT_BIOS = (
    "Family-run shop in {city} since {year}. Fast shipping, 14-day returns.",
    "Your {cat} specialist from {city}. All items checked before dispatch.",
    "Independent retailer based in {city}. Questions? Message us any time.",
    "We source quality {cat} and ship Europe-wide. Based in {city}.",
    "Small team, big selection. Shipping from {city} within 24 h.",
)
_CREATOR_BIOS = (
    "{cat} lover from {city}. Selling what I no longer use.",
    "Decluttering my home in {city} - everything from a smoke-free household.",
    "Content creator in {city}. I sell items from my shoots.",
    "Student in {city}, clearing out my closet.",
    "Collector of good {cat}. Based in {city}, happy to bundle.",
)
_RING_BIOS = (
    "Best prices guaranteed!!! Fast shipping worldwide. DM for wholesale.",
    "Original products at unbeatable prices. Ships in 24h. WhatsApp for deals.",
    "Top brands, low prices. New stock every week!",
)


# =============================================================================================
# Rendering (runs in worker processes; everything here is a pure function of its specification)
# =============================================================================================


def _font(px: float) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return _font_px(max(6, int(round(px / 2)) * 2))


@lru_cache(maxsize=None)
def _font_px(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=px)


@lru_cache(maxsize=16)
def _gradient_mask(angle_idx: int, size: int) -> Image.Image:
    theta = angle_idx * math.pi / 4
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / (size - 1) - 0.5
    v = xx * math.cos(theta) + yy * math.sin(theta)
    v = (v - v.min()) / (v.max() - v.min())
    return Image.fromarray((v * 255).astype(np.uint8), "L")


@lru_cache(maxsize=4)
def _radial_mask(size: int) -> Image.Image:
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / (size - 1) - 0.5
    v = np.clip(np.sqrt(xx * xx + yy * yy) / 0.707, 0, 1) ** 1.6
    return Image.fromarray((v * 255).astype(np.uint8), "L")


def _mix(a: tuple[int, ...], b: tuple[int, ...], t: float) -> tuple[int, int, int]:
    return tuple(int(round(a[i] * (1 - t) + b[i] * t)) for i in range(3))  # type: ignore[return-value]


def _shade(c: tuple[int, ...], f: float) -> tuple[int, int, int]:
    """f < 1 darkens, f > 1 lightens towards white."""
    if f <= 1:
        return tuple(int(v * f) for v in c[:3])  # type: ignore[return-value]
    return _mix(c, (255, 255, 255), min(1.0, f - 1))


_COS = {n: [math.cos(2 * math.pi * k / n) for k in range(n)] for n in (8, 12, 14, 16, 28, 36)}
_SIN = {n: [math.sin(2 * math.pi * k / n) for k in range(n)] for n in (8, 12, 14, 16, 28, 36)}


class _Pen:
    """Draws in unit coordinates (about -1..1) that are scaled, mirrored, rotated and placed.

    Geometry is rotated analytically (ellipses are polygons); text stays upright, which at the
    small tilts used (a dozen degrees at most) reads like a printed label seen at an angle."""

    def __init__(self, layer: Image.Image, mask: Image.Image, cx: float, cy: float, radius: float,
                 rot_deg: float, mirror: bool):
        self.layer = layer
        self.draw = ImageDraw.Draw(layer)
        self.mask = mask
        self.mdraw = ImageDraw.Draw(mask)
        self.cx, self.cy, self.r = cx, cy, radius
        a = math.radians(rot_deg)
        self.cos, self.sin = math.cos(a), math.sin(a)
        self.mirror = -1.0 if mirror else 1.0

    def pt(self, x: float, y: float) -> tuple[float, float]:
        x *= self.mirror * self.r
        y *= self.r
        return (self.cx + x * self.cos - y * self.sin, self.cy + x * self.sin + y * self.cos)

    def poly(self, pts, fill, body: bool = False, outline=None) -> None:
        q = [self.pt(x, y) for x, y in pts]
        self.draw.polygon(q, fill=fill, outline=outline)
        if body:
            self.mdraw.polygon(q, fill=255)

    def rect(self, x0, y0, x1, y1, fill, body: bool = False) -> None:
        self.poly([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], fill, body)

    def rrect(self, x0, y0, x1, y1, r, fill, body: bool = False) -> None:
        r = min(r, (x1 - x0) / 2, (y1 - y0) / 2)
        pts = []
        for (cx, cy, a0) in ((x1 - r, y0 + r, -90), (x1 - r, y1 - r, 0), (x0 + r, y1 - r, 90), (x0 + r, y0 + r, 180)):
            for k in range(5):
                a = math.radians(a0 + k * 22.5)
                pts.append((cx + r * math.cos(a), cy + r * math.sin(a)))
        self.poly(pts, fill, body)

    def ellipse(self, cx, cy, rx, ry, fill, body: bool = False, n: int = 28) -> None:
        self.poly([(cx + rx * _COS[n][k], cy + ry * _SIN[n][k]) for k in range(n)], fill, body)

    def arc(self, cx, cy, r_out, r_in, a0, a1, fill, body: bool = False, n: int = 18) -> None:
        """A thick arc band between radii r_in and r_out, angles in degrees (0 = right, 90 = down)."""
        outer = [(cx + r_out * math.cos(math.radians(a0 + (a1 - a0) * k / n)),
                  cy + r_out * math.sin(math.radians(a0 + (a1 - a0) * k / n))) for k in range(n + 1)]
        inner = [(cx + r_in * math.cos(math.radians(a0 + (a1 - a0) * k / n)),
                  cy + r_in * math.sin(math.radians(a0 + (a1 - a0) * k / n))) for k in range(n, -1, -1)]
        self.poly(outer + inner, fill, body)

    def line(self, pts, fill, width: float) -> None:
        self.draw.line([self.pt(x, y) for x, y in pts], fill=fill, width=max(1, int(width * self.r)))

    def text(self, x, y, s: str, size: float, fill) -> None:
        self.draw.text(self.pt(x, y), s, font=_font(size * self.r), fill=fill, anchor="mm")


def _logo(pen: _Pen, x: float, y: float, size: float, look: dict, fill=None) -> None:
    """The brand mark: a small symbol followed by the brand word, centred on (x, y)."""
    colour = tuple(fill or look["logo_colour"])
    shape = look["logo_shape"]
    text = look["brand_text"]
    w = _font(size * pen.r).getlength(text) / pen.r
    s = size * 0.7 if shape != "none" else 0.0
    gap = size * 0.25 if s else 0.0
    start = x - (s + gap + w) / 2
    mx = start + s / 2
    if shape == "circle":
        pen.ellipse(mx, y, s / 2, s / 2, colour, n=14)
    elif shape == "diamond":
        pen.poly([(mx, y - s / 2), (mx + s / 2, y), (mx, y + s / 2), (mx - s / 2, y)], colour)
    elif shape == "triangle":
        pen.poly([(mx, y - s / 2), (mx + s / 2, y + s / 2), (mx - s / 2, y + s / 2)], colour)
    elif shape == "square":
        pen.rect(mx - s / 2, y - s / 2, mx + s / 2, y + s / 2, colour)
    pen.text(start + s + gap + w / 2, y, text, size, colour)


def _texture(pen: _Pen, look: dict, region: tuple[float, float, float, float]) -> None:
    """Pattern in the accent colour, clipped to the body regions drawn so far."""
    kind = look["tex"]
    if kind == "none":
        return
    x0, y0, x1, y1 = region
    tex = Image.new("L", pen.layer.size, 0)
    td = ImageDraw.Draw(tex)
    n = look["tex_n"]
    step = (y1 - y0) / n

    def P(x, y):
        return pen.pt(x, y)

    if kind == "stripes":
        for k in range(n):
            if k % 2 == 0:
                ya = y0 + k * step
                td.polygon([P(x0, ya), P(x1, ya), P(x1, ya + step), P(x0, ya + step)], fill=255)
    elif kind == "diag":
        w = (x1 - x0)
        for k in range(-n, 2 * n):
            if k % 2 == 0:
                xa = x0 + k * w / n
                td.polygon([P(xa, y0), P(xa + w / n, y0), P(xa + w / n - (y1 - y0), y1), P(xa - (y1 - y0), y1)],
                           fill=255)
    elif kind == "dots":
        r = step * 0.28
        for i in range(n + 1):
            for j in range(n + 1):
                cx = x0 + (j + (0.5 if i % 2 else 0)) * (x1 - x0) / n
                cy = y0 + i * step
                q = P(cx, cy)
                rr = r * pen.r
                td.ellipse([q[0] - rr, q[1] - rr, q[0] + rr, q[1] + rr], fill=255)
    elif kind == "check":
        w = (x1 - x0) / n
        for i in range(n):
            for j in range(n):
                if (i + j) % 2 == 0:
                    xa, ya = x0 + j * w, y0 + i * step
                    td.polygon([P(xa, ya), P(xa + w, ya), P(xa + w, ya + step), P(xa, ya + step)], fill=128)
    elif kind == "band":
        ya = y0 + (y1 - y0) * look["p"][5] * 0.6 + 0.1 * (y1 - y0)
        td.polygon([P(x0, ya), P(x1, ya), P(x1, ya + step * 1.4), P(x0, ya + step * 1.4)], fill=255)
    box = pen.mask.getbbox()
    if box is None:
        return
    clip = ImageChops.multiply(pen.mask.crop(box), tex.crop(box))
    pen.layer.paste(tuple(look["c2"]), box, clip)


def _draw_shoe(pen: _Pen, L: dict) -> None:
    p, c1, c2, c3 = L["p"], tuple(L["c1"]), tuple(L["c2"]), tuple(L["c3"])
    var = L["variant"]
    sole_t = 0.1 + 0.1 * p[0]
    if var == "boot":
        top = -0.9 + 0.15 * p[1]
        upper = [(-0.92, 0.38), (-0.9, top), (-0.3, top), (-0.25, -0.2), (0.2, -0.02 + 0.05 * p[3]),
                 (0.7, 0.1), (0.93, 0.24), (0.95, 0.38)]
    else:
        top = -0.3 - 0.2 * p[1]
        upper = [(-0.92, 0.38), (-0.95, top + 0.12), (-0.8, top), (-0.5, top + 0.04), (-0.2, -0.1 - 0.1 * p[2]),
                 (0.25, 0.0 + 0.06 * p[3]), (0.72, 0.12), (0.93, 0.24), (0.95, 0.38)]
    pen.poly(upper, c1, body=True)
    _texture(pen, L, (-0.95, top, 0.95, 0.38))
    pen.poly([(0.5, 0.08), (0.72, 0.12), (0.93, 0.24), (0.95, 0.38), (0.45, 0.38)], _shade(c1, 0.75))
    pen.rrect(-0.98, 0.34, 1.0, 0.34 + sole_t, 0.05, c3)
    for k in range(7):
        x = -0.85 + k * 0.27
        pen.line([(x, 0.34 + sole_t * 0.55), (x + 0.12, 0.34 + sole_t * 0.55)], _shade(c3, 0.7), 0.02)
    # side stripes, the model's signature
    for k in range(L["detail"] % 3 + 1):
        dx = k * 0.13
        pen.poly([(-0.45 + dx, 0.3), (-0.35 + dx, 0.3), (0.15 + dx, -0.05), (0.05 + dx, -0.05)], c2)
    for k in range(4):
        x = -0.35 + k * 0.14
        yb = -0.1 - 0.1 * p[2] + k * 0.03 if var != "boot" else -0.6 + k * 0.12
        pen.line([(x, yb), (x + 0.12, yb + 0.06)], c3, 0.025)
    pen.rect(-0.95, top + 0.05, -0.82, top + 0.3, c2)
    pen.text(-0.35, 0.2, L["label"], 0.09, _shade(c1, 1.5) if sum(c1) < 300 else _shade(c1, 0.4))


def _draw_bag(pen: _Pen, L: dict) -> None:
    p, c1, c2, c3 = L["p"], tuple(L["c1"]), tuple(L["c2"]), tuple(L["c3"])
    var = L["variant"]
    if var == "backpack":
        pen.arc(0, -0.72, 0.2, 0.12, 180, 360, _shade(c1, 0.7))
        pen.rrect(-0.62, -0.75, 0.62, 0.9, 0.28 + 0.1 * p[0], c1, body=True)
        _texture(pen, L, (-0.62, -0.75, 0.62, 0.9))
        pen.rrect(-0.45, 0.15 + 0.1 * p[1], 0.45, 0.8, 0.12, _shade(c1, 0.8))
        pen.line([(-0.45, 0.3 + 0.1 * p[1]), (0.45, 0.3 + 0.1 * p[1])], c3, 0.025)
        pen.line([(-0.5, -0.35), (0.5, -0.35)], c3, 0.02)
        for k in range(L["detail"] % 3 + 1):
            pen.rect(-0.56 + k * 0.05, -0.6, -0.54 + k * 0.05, 0.7, c2)
        _logo(pen, 0.0, -0.05, 0.13, L)
        return
    if var == "tote":
        for sx in (-0.35, 0.35):
            pen.arc(sx * 0.4, -0.3, 0.45, 0.38, 195 if sx < 0 else 200, 340 if sx < 0 else 345, c3)
        pen.poly([(-0.7, -0.3), (0.7, -0.3), (0.78, 0.85), (-0.78, 0.85)], c1, body=True)
        _texture(pen, L, (-0.78, -0.3, 0.78, 0.85))
        pen.rect(-0.7, -0.3, 0.7, -0.18, _shade(c1, 0.8))
        _logo(pen, 0.0, 0.3 + 0.1 * p[2], 0.15, L)
        return
    # handbag
    h = 0.45 + 0.25 * p[1]
    pen.arc(0, -0.2, h, h - 0.1, 180, 360, c3)
    pen.poly([(-0.72, -0.22), (0.72, -0.22), (0.88 + 0.05 * p[0], 0.8), (-0.88 - 0.05 * p[0], 0.8)], c1, body=True)
    _texture(pen, L, (-0.93, -0.22, 0.93, 0.8))
    flap_y = 0.15 + 0.2 * p[2]
    pen.poly([(-0.74, -0.22), (0.74, -0.22), (0.8, flap_y), (0.0, flap_y + 0.15 * p[3]), (-0.8, flap_y)],
             _shade(c1, 0.82))
    pen.rrect(-0.1, flap_y - 0.05, 0.1, flap_y + 0.12, 0.04, tuple(L["c3"]))
    for k in range(L["detail"] % 4):
        pen.line([(-0.8 + k * 0.04, 0.75), (-0.72 + k * 0.04, -0.18)], c2, 0.015)
    _logo(pen, 0.0, 0.5, 0.12, L)


def _draw_phone(pen: _Pen, L: dict) -> None:
    p, c1, c2, c3 = L["p"], tuple(L["c1"]), tuple(L["c2"]), tuple(L["c3"])
    tablet = L["variant"] == "tablet"
    w, h = (0.85, 0.62) if tablet else (0.5, 0.95)
    pen.rrect(-w, -h, w, h, 0.12, c1, body=True)
    if L["view"] == "front":
        pen.rrect(-w + 0.05, -h + 0.05, w - 0.05, h - 0.05, 0.08, c3)
        # wallpaper: bands between the two accent colours
        n = 5
        for k in range(n):
            t = k / (n - 1)
            y0 = -h + 0.08 + k * (2 * h - 0.16) / n
            pen.rect(-w + 0.08, y0, w - 0.08, y0 + (2 * h - 0.16) / n, _mix(c2, c1, t * (0.5 + 0.5 * p[0])))
        pen.ellipse(0.2 * p[1] - 0.1, -0.1, 0.25, 0.25, _shade(c2, 1.3))
        pen.text(0, -h + 0.3, f"{8 + L['detail'] % 4}:{10 + (L['detail'] * 7) % 49}", 0.16, (255, 255, 255))
    else:
        _texture(pen, L, (-w, -h, w, h))
        n_cam = 2 + L["detail"] % 3
        mod_w = 0.42 if not tablet else 0.3
        pen.rrect(-w + 0.08, -h + 0.08, -w + 0.08 + mod_w, -h + 0.08 + 0.14 * (n_cam + 1), 0.08, _shade(c1, 0.7))
        for k in range(n_cam):
            cx = -w + 0.08 + mod_w / 2 + (0.09 if k % 2 else -0.09) * (1 if n_cam > 2 else 0)
            cy = -h + 0.2 + k * (0.14 if n_cam > 2 else 0.2)
            pen.ellipse(cx, cy, 0.07, 0.07, (20, 20, 24), n=16)
            pen.ellipse(cx, cy, 0.035, 0.035, (70, 90, 120), n=12)
        _logo(pen, 0.0, 0.25, 0.13, L, fill=c3)
    pen.text(0, h - 0.18, L["label"], 0.09, c3 if L["view"] != "front" else (255, 255, 255))


def _draw_headphones(pen: _Pen, L: dict) -> None:
    p, c1, c2, c3 = L["p"], tuple(L["c1"]), tuple(L["c2"]), tuple(L["c3"])
    r = 0.7 + 0.08 * p[0]
    pen.arc(0, 0.15, r, r - 0.12 - 0.05 * p[1], 180, 360, c1, body=True)
    pen.arc(0, 0.15, r - 0.1, r - 0.16, 200, 340, c3)
    for sx in (-1, 1):
        pen.rrect(sx * r - 0.08, -0.05, sx * r + 0.08, 0.25, 0.04, c3)
        pen.ellipse(sx * r, 0.38, 0.22 + 0.05 * p[2], 0.33, c1, body=True)
        pen.ellipse(sx * (r - 0.04), 0.38, 0.15, 0.25, _shade(c1, 0.7))
        pen.ellipse(sx * (r - 0.04), 0.38, 0.09, 0.16, c2)
    _texture(pen, L, (-1, -0.6, 1, 0.75))
    for k in range(L["detail"] % 3 + 1):
        pen.rect(-0.25 + k * 0.18, -0.62 - 0.05 * p[1], -0.15 + k * 0.18, -0.52, c2)
    _logo(pen, 0, 0.85, 0.12, L)


def _draw_box(pen: _Pen, L: dict) -> None:
    p, c1, c2, c3 = L["p"], tuple(L["c1"]), tuple(L["c2"]), tuple(L["c3"])
    if L["variant"] == "speaker":
        h = 0.45 + 0.15 * p[0]
        pen.rrect(-0.85, -h, 0.85, h, 0.3 + 0.1 * p[1], c1, body=True)
        _texture(pen, L, (-0.85, -h, 0.85, h))
        grid = 4 + L["detail"] % 3
        for i in range(grid):
            for j in range(grid * 2):
                pen.ellipse(-0.65 + j * 1.3 / (grid * 2 - 1), -h + 0.2 + i * (2 * h - 0.4) / (grid - 1), 0.035,
                            0.035, _shade(c1, 0.55), n=8)
        pen.rrect(-0.3, -h - 0.06, 0.3, -h + 0.04, 0.03, c3)
        _logo(pen, 0, h - 0.12, 0.11, L, fill=c3)
        return
    # a boxed product: front face, top and side for depth
    d = 0.18 + 0.08 * p[0]
    pen.poly([(-0.8, -0.55), (0.55, -0.55), (0.55 + d, -0.55 - d), (-0.8 + d, -0.55 - d)], _shade(c1, 1.25))
    pen.poly([(0.55, -0.55), (0.55 + d, -0.55 - d), (0.55 + d, 0.85 - d), (0.55, 0.85)], _shade(c1, 0.65))
    pen.rect(-0.8, -0.55, 0.55, 0.85, c1, body=True)
    _texture(pen, L, (-0.8, -0.55, 0.55, 0.85))
    pen.rect(-0.8, -0.55, 0.55, -0.3, c3)
    _logo(pen, -0.12, -0.43, 0.13, L, fill=tuple(L["logo_colour"]))
    # picture window: a few shapes that differ per product
    pen.rect(-0.65, -0.2, 0.4, 0.55, _shade(c2, 1.35))
    rr = _rng("box-art", L["detail"], L["label"])
    for _ in range(3 + L["detail"] % 3):
        x, y, s = rr.uniform(-0.5, 0.25), rr.uniform(-0.05, 0.4), rr.uniform(0.08, 0.2)
        col = _COLOURS[rr.randrange(len(_COLOURS))][1]
        if rr.random() < 0.5:
            pen.rect(x - s, y - s * 0.6, x + s, y + s * 0.6, col)
        else:
            pen.ellipse(x, y, s, s, col, n=14)
    pen.text(-0.12, 0.7, L["label"], 0.1, c3)


def _draw_watch(pen: _Pen, L: dict) -> None:
    p, c1, c2, c3 = L["p"], tuple(L["c1"]), tuple(L["c2"]), tuple(L["c3"])
    sw = 0.26 + 0.06 * p[0]
    pen.rrect(-sw, -1.0, sw, -0.3, 0.05, c2, body=True)
    pen.rrect(-sw, 0.3, sw, 1.0, 0.05, c2, body=True)
    _texture(pen, L, (-sw, -1.0, sw, 1.0))
    for y in (0.5, 0.65, 0.8):
        pen.ellipse(0, y, 0.03, 0.03, _shade(c2, 0.5), n=8)
    if L["variant"] == "smart":
        pen.rrect(-0.45, -0.5, 0.45, 0.5, 0.14 + 0.06 * p[1], c3)
        pen.rrect(-0.38, -0.43, 0.38, 0.43, 0.1, (16, 16, 20))
        for k in range(L["detail"] % 3 + 1):
            r = 0.3 - k * 0.08
            pen.arc(0, 0, r, r - 0.05, -90, -90 + 200 + 50 * ((L["detail"] + k) % 3), _COLOURS[(4 + 7 * k) % 18][1])
        pen.text(0, 0.0, L["label"], 0.09, (230, 230, 230))
        pen.rect(0.45, -0.12, 0.52, 0.05, c3)
    else:
        pen.ellipse(0, 0, 0.5, 0.5, c3, n=36)
        pen.ellipse(0, 0, 0.42, 0.42, c1, n=36)
        for k in range(12):
            a = math.radians(k * 30)
            r0 = 0.33 if k % 3 else 0.28
            pen.line([(r0 * math.cos(a), r0 * math.sin(a)), (0.4 * math.cos(a), 0.4 * math.sin(a))],
                     _shade(c3, 1.2) if sum(c1) < 350 else (30, 30, 30), 0.025)
        hh, mm = L["detail"] % 12, (L["detail"] * 13) % 60
        ah, am = math.radians(hh * 30 + mm * 0.5 - 90), math.radians(mm * 6 - 90)
        hand = (240, 240, 240) if sum(c1) < 350 else (20, 20, 20)
        pen.line([(0, 0), (0.2 * math.cos(ah), 0.2 * math.sin(ah))], hand, 0.04)
        pen.line([(0, 0), (0.33 * math.cos(am), 0.33 * math.sin(am))], hand, 0.025)
        pen.rect(0.5, -0.06, 0.58, 0.06, c3)
        pen.text(0, -0.18, L["brand_text"], 0.07, hand)
        pen.text(0, 0.2, L["label"], 0.055, hand)


def _draw_bottle(pen: _Pen, L: dict) -> None:
    p, c1, c2, c3 = L["p"], tuple(L["c1"]), tuple(L["c2"]), tuple(L["c3"])
    var = L["variant"]
    if var == "flask":
        w = 0.3 + 0.08 * p[0]
        pen.rrect(-w, -0.62, w, 0.95, 0.12, c1, body=True)
        _texture(pen, L, (-w, -0.62, w, 0.95))
        pen.rrect(-w * 0.7, -0.9, w * 0.7, -0.6, 0.06, c3)
        pen.arc(0, -0.9, 0.14, 0.08, 180, 360, c3)
        pen.rect(-w, 0.1 + 0.2 * p[1], w, 0.3 + 0.2 * p[1], c2)
        _logo(pen, 0, -0.25, 0.1, L, fill=c3)
        pen.text(0, 0.7, L["label"], 0.08, c3)
        return
    if var == "dropper":
        w = 0.36 + 0.1 * p[0]
        pen.rrect(-w, -0.3, w, 0.9, 0.1, _shade(c1, 0.8), body=True)
        pen.rect(-0.12, -0.45, 0.12, -0.3, c3)
        pen.rrect(-0.16, -0.62, 0.16, -0.42, 0.04, c2)
        pen.ellipse(0, -0.78, 0.11, 0.2, _shade(c2, 0.8))
        pen.rect(-w + 0.06, 0.05, w - 0.06, 0.6 + 0.1 * p[1], (245, 243, 238))
        _logo(pen, 0, 0.18, 0.08, L)
        pen.text(0, 0.42, L["label"], 0.07, (60, 60, 60))
        _texture(pen, L, (-w, 0.62 + 0.1 * p[1], w, 0.9))
        return
    # perfume: faceted glass body with a heavy cap
    w = 0.55 + 0.2 * p[0]
    top = -0.25 - 0.15 * p[1]
    cut = 0.1 + 0.15 * p[2]
    pen.poly([(-w + cut, top), (w - cut, top), (w, top + cut), (w, 0.9 - cut), (w - cut, 0.9), (-w + cut, 0.9),
              (-w, 0.9 - cut), (-w, top + cut)], _shade(c1, 0.85), body=True)
    _texture(pen, L, (-w, top, w, 0.9))
    pen.poly([(-w + cut + 0.06, top + 0.06), (w - cut - 0.06, top + 0.06), (w - 0.06, top + cut),
              (w - 0.06, 0.84 - cut), (-w + 0.06, 0.84 - cut), (-w + 0.06, top + cut)], _shade(c1, 1.15))
    pen.rect(-0.1, top - 0.12, 0.1, top, c3)
    cap_w = 0.2 + 0.15 * p[3]
    if L["detail"] % 2:
        pen.rrect(-cap_w, top - 0.55, cap_w, top - 0.1, 0.05, tuple(L["c2"]))
    else:
        pen.ellipse(0, top - 0.32, cap_w, 0.22, tuple(L["c2"]))
    pen.rect(-w * 0.6, 0.15, w * 0.6, 0.55, (246, 244, 240))
    _logo(pen, 0, 0.28, 0.1, L)
    pen.text(0, 0.45, L["label"], 0.07, (70, 70, 70))


def _draw_mug(pen: _Pen, L: dict) -> None:
    p, c1, c2, c3 = L["p"], tuple(L["c1"]), tuple(L["c2"]), tuple(L["c3"])
    pen.arc(0.52, 0.15, 0.38, 0.24, -80, 80, c1)
    pen.rect(-0.6, -0.45, 0.55, 0.75, c1, body=True)
    pen.ellipse(-0.025, 0.75, 0.575, 0.12, _shade(c1, 0.8))
    _texture(pen, L, (-0.6, -0.45, 0.55, 0.75))
    pen.ellipse(-0.025, -0.45, 0.575, 0.13, _shade(c1, 1.2))
    pen.ellipse(-0.025, -0.45, 0.5, 0.09, (60, 40, 30))
    if L["detail"] % 2:
        pen.ellipse(-0.03, 0.15, 0.28, 0.28, c2)
    else:
        pen.rect(-0.45, 0.0 + 0.1 * p[0], 0.4, 0.35 + 0.1 * p[0], c2)
    _logo(pen, -0.03, 0.18 + 0.05 * p[0], 0.1, L, fill=c3)


def _draw_glasses(pen: _Pen, L: dict) -> None:
    p, c1, c2, c3 = L["p"], tuple(L["c1"]), tuple(L["c2"]), tuple(L["c3"])
    round_lens = L["detail"] % 2 == 0
    rx, ry = 0.36 + 0.06 * p[0], 0.26 + 0.08 * p[1]
    for sx in (-1, 1):
        pen.line([(sx * (0.48 + rx * 0.9), -0.05), (sx * 1.0, -0.35 - 0.1 * p[2])], c1, 0.05)
        cx = sx * 0.48
        if round_lens:
            pen.ellipse(cx, 0.05, rx + 0.06, ry + 0.06, c1, body=True)
            pen.ellipse(cx, 0.05, rx, ry, c2)
            pen.ellipse(cx - 0.1, -0.05, rx * 0.35, ry * 0.3, _shade(c2, 1.4))
        else:
            pen.rrect(cx - rx - 0.06, 0.05 - ry - 0.06, cx + rx + 0.06, 0.05 + ry + 0.06, 0.1, c1, body=True)
            pen.rrect(cx - rx, 0.05 - ry, cx + rx, 0.05 + ry, 0.07, c2)
    pen.arc(0, 0.02, 0.16, 0.1, 200, 340, c1)
    _texture(pen, L, (-1, -0.4, 1, 0.5))
    pen.text(-0.48, 0.05 + ry + 0.25, L["brand_text"], 0.1, c3)
    pen.text(0.48, 0.05 + ry + 0.25, L["label"], 0.08, c3)


def _draw_shirt(pen: _Pen, L: dict) -> None:
    p, c1, c2, c3 = L["p"], tuple(L["c1"]), tuple(L["c2"]), tuple(L["c3"])
    hoodie = L["variant"] == "hoodie"
    sl = 0.3 + 0.15 * p[0] + (0.35 if hoodie else 0)
    body = [(-0.25, -0.8), (-0.6, -0.68), (-0.95, -0.35 + 0.0), (-0.95 + 0.2, -0.35 + sl * 0.6 + 0.05),
            (-0.62, -0.32), (-0.6, 0.9), (0.6, 0.9), (0.62, -0.32), (0.75, -0.35 + sl * 0.6 + 0.05),
            (0.95, -0.35), (0.6, -0.68), (0.25, -0.8), (0.0, -0.68 + 0.08 * p[1])]
    pen.poly(body, c1, body=True)
    _texture(pen, L, (-0.95, -0.8, 0.95, 0.9))
    if hoodie:
        pen.ellipse(0, -0.78, 0.32, 0.16, _shade(c1, 0.75))
        pen.poly([(-0.3, 0.4), (0.3, 0.4), (0.38, 0.75), (-0.38, 0.75)], _shade(c1, 0.85))
        pen.line([(-0.08, -0.66), (-0.1, -0.35)], c3, 0.02)
        pen.line([(0.08, -0.66), (0.1, -0.35)], c3, 0.02)
    else:
        pen.arc(0, -0.8, 0.25, 0.19, 0, 180, _shade(c1, 0.75))
    gy = -0.15 + 0.1 * p[2]
    g = L["detail"] % 3
    if g == 0:
        pen.ellipse(0, gy, 0.28, 0.28, c2)
    elif g == 1:
        pen.poly([(0, gy - 0.3), (0.3, gy + 0.22), (-0.3, gy + 0.22)], c2)
    else:
        pen.rect(-0.35, gy - 0.2, 0.35, gy + 0.2, c2)
    _logo(pen, 0, gy + 0.42, 0.14, L, fill=c3)


_SHAPES: dict[str, Callable[[_Pen, dict], None]] = {
    "shoe": _draw_shoe, "bag": _draw_bag, "phone": _draw_phone, "headphones": _draw_headphones,
    "box": _draw_box, "watch": _draw_watch, "bottle": _draw_bottle, "mug": _draw_mug,
    "glasses": _draw_glasses, "shirt": _draw_shirt,
}


def _background(photo: dict, size: int) -> Image.Image:
    bg1, bg2 = tuple(photo["bg1"]), tuple(photo["bg2"])
    kind = photo["bg"]
    img = Image.new("RGB", (size, size), bg1)
    if kind == "gradient":
        img = Image.composite(Image.new("RGB", (size, size), bg2), img, _gradient_mask(photo["angle"], size))
    elif kind == "split":
        d = ImageDraw.Draw(img)
        a = photo["split"]
        d.polygon([(0, size * a), (size, size * (1 - a)), (size, size), (0, size)], fill=bg2)
    elif kind == "floor":
        d = ImageDraw.Draw(img)
        y = int(size * photo["split"])
        d.rectangle([0, y, size, size], fill=bg2)
        for k in range(1, 6):      # floor boards / tiles
            yy = y + (size - y) * k * k / 36
            d.line([(0, yy), (size, yy)], fill=_shade(bg2, 0.9), width=1)
    elif kind == "pattern":
        d = ImageDraw.Draw(img)
        step = photo["step"]
        for k in range(-size, size * 2, step * 2):
            d.polygon([(k, 0), (k + step, 0), (k + step - size, size), (k - size, size)], fill=bg2)
    elif kind == "podium":
        d = ImageDraw.Draw(img)
        d.ellipse([size * 0.08, size * 0.08, size * 0.92, size * 0.92], fill=bg2)
    return img


@lru_cache(maxsize=32)
def _noise_image(amplitude: int, variant: int, size: int) -> Image.Image:
    """Grey sensor noise in [0, 2*amplitude], the same in the three channels."""
    rng = np.random.default_rng(1000 * amplitude + variant)
    n = rng.integers(0, 2 * amplitude + 1, size=(size, size), dtype=np.uint8)
    return Image.fromarray(n, "L").convert("RGB")


@lru_cache(maxsize=128)
def _shade_image(kind: str, angle_idx: int, strength_pct: int, size: int) -> Image.Image:
    """A multiplier image: 255 keeps a pixel, lower darkens it (light fall-off or vignette)."""
    mask = _radial_mask(size) if kind == "radial" else _gradient_mask(angle_idx, size)
    f = strength_pct / 100.0
    return mask.point([int(round(255 * (1 - f * v / 255))) for v in range(256)]).convert("RGB")


def _render_product(spec: dict) -> Image.Image:
    look, photo = spec["look"], spec["photo"]
    size = PHOTO_SIZE
    img = _background(photo, size)
    mask = Image.new("L", (size, size), 0)
    radius = size * 0.36 * photo["scale"]
    cx, cy = size / 2 + photo["dx"] * size, size / 2 + photo["dy"] * size
    if photo.get("shadow"):
        d = ImageDraw.Draw(img, "RGBA")
        for k, alpha in ((1.15, 22), (1.0, 30), (0.85, 38)):
            w = radius * k
            d.ellipse([cx - w, cy + radius * 0.8, cx + w, cy + radius * 1.05], fill=(0, 0, 0, alpha))
    pen = _Pen(img, mask, cx, cy, radius, photo["rot"], look["facing"] < 0)
    _SHAPES[look["shape"]](pen, look)
    draw = ImageDraw.Draw(img, "RGBA")
    if photo.get("corner_logo"):           # the brand's own studio shots carry its mark
        font = _font(17)
        draw.rectangle([8, 8, 20 + font.getlength(look["brand_text"]) + 16, 36], fill=(255, 255, 255, 200))
        draw.ellipse([13, 15, 25, 27], fill=tuple(look["logo_colour"]))
        draw.text((30, 12), look["brand_text"], font=font, fill=tuple(look["logo_colour"]))
    if photo.get("props"):                 # things lying around in a home photo
        rr = random.Random(photo["seed"])
        for _ in range(photo["props"]):
            x, y, r = rr.uniform(0, size), rr.uniform(size * 0.7, size), rr.uniform(10, 28)
            col = _mix(tuple(photo["bg2"]), (rr.randrange(256), rr.randrange(256), rr.randrange(256)), 0.5)
            draw.ellipse([x - r, y - r * 0.6, x + r, y + r * 0.6], fill=col + (230,))
    light = int(round(photo["light"] * 20)) * 5
    if light > 0:
        img = ImageChops.multiply(img, _shade_image("linear", photo["light_angle"], light, size))
    if photo.get("vignette"):
        img = ImageChops.multiply(img, _shade_image("radial", 0, 28, size))
    if photo["noise"] > 0:
        a = int(photo["noise"])
        noise = _noise_image(a, photo["seed"] % 4, size)
        noise = ImageChops.offset(noise, photo["seed"] % size, (photo["seed"] // size) % size)
        img = ImageChops.add(img, noise, 1.0, -a)
    return img


def _render_avatar(spec: dict) -> Image.Image:
    size = AVATAR_SIZE
    bg = tuple(spec["bg"])
    img = Image.new("RGB", (size, size), bg)
    d = ImageDraw.Draw(img)
    style = spec["style"]
    if style == "default":
        d.ellipse([size * 0.32, size * 0.18, size * 0.68, size * 0.54], fill=(200, 200, 204))
        d.ellipse([size * 0.14, size * 0.6, size * 0.86, size * 1.3], fill=(200, 200, 204))
        return img
    if style == "face":
        skin, hair, shirt = tuple(spec["skin"]), tuple(spec["hair"]), tuple(spec["fg"])
        d.ellipse([size * 0.12, size * 0.68, size * 0.88, size * 1.4], fill=shirt)
        d.rectangle([size * 0.43, size * 0.55, size * 0.57, size * 0.72], fill=skin)
        hl = spec["hair_len"]
        if hl > 0.5:
            d.rounded_rectangle([size * 0.26, size * 0.16, size * 0.74, size * (0.5 + hl * 0.3)], 30, fill=hair)
        d.ellipse([size * 0.31, size * 0.2, size * 0.69, size * 0.62], fill=skin)
        d.chord([size * 0.29, size * 0.14, size * 0.71, size * 0.5], 180, 360, fill=hair)
        for ex in (0.42, 0.58):
            d.ellipse([size * ex - 3, size * 0.4 - 3, size * ex + 3, size * 0.4 + 3], fill=(40, 30, 30))
        d.arc([size * 0.42, size * 0.42, size * 0.58, size * 0.54], 20, 160, fill=(150, 60, 60), width=2)
        if spec.get("glasses"):
            for ex in (0.42, 0.58):
                d.ellipse([size * ex - 9, size * 0.4 - 7, size * ex + 9, size * 0.4 + 7], outline=(30, 30, 30),
                          width=2)
        return img
    # monogram / shop logo
    fg = tuple(spec["fg"])
    if spec["frame"] == "circle":
        d.ellipse([size * 0.1, size * 0.1, size * 0.9, size * 0.9], fill=fg)
    else:
        d.rounded_rectangle([size * 0.12, size * 0.12, size * 0.88, size * 0.88], 18, fill=fg)
    if spec.get("icon") == "bag":
        d.rectangle([size * 0.3, size * 0.6, size * 0.7, size * 0.8], fill=bg)
        d.arc([size * 0.38, size * 0.5, size * 0.62, size * 0.7], 180, 360, fill=bg, width=4)
    text = spec["text"]
    font = _font(size * (0.36 if len(text) <= 2 else 0.22))
    d.text((size / 2, size * (0.42 if spec.get("icon") == "bag" else 0.5)), text, font=font, fill=bg, anchor="mm")
    return img


def _apply_edits(img: Image.Image, edits: list[dict]) -> Image.Image:
    for e in edits:
        op = e["op"]
        if op == "crop":
            l, t, r, b = e["box"]
            img = img.crop((l, t, r, b))
            if e.get("resize_back"):
                img = img.resize((PHOTO_SIZE, PHOTO_SIZE), Image.Resampling.BICUBIC)
        elif op == "flip":
            img = ImageOps.mirror(img)
        elif op == "resize":
            img = img.resize(tuple(e["size"]), Image.Resampling.LANCZOS)
        elif op == "watermark":
            img = img.copy()
            d = ImageDraw.Draw(img, "RGBA")
            w, h = img.size
            style, text = e["style"], e["text"]
            alpha = int(255 * e["opacity"])
            if style == "banner":
                bh = int(h * 0.14)
                y0 = 0 if e["position"] == "top" else h - bh
                d.rectangle([0, y0, w, y0 + bh], fill=tuple(e["colour"]) + (alpha,))
                d.text((w / 2, y0 + bh / 2), text, font=_font(bh * 0.55), fill=(255, 255, 255, 255), anchor="mm")
            elif style == "corner":
                font = _font(h * 0.07)
                tw = font.getlength(text)
                d.text((w - tw - 8, h - h * 0.1), text, font=font, fill=(255, 255, 255, alpha),
                       stroke_width=1, stroke_fill=(0, 0, 0, alpha))
            else:  # diagonal, tiled
                sprite = Image.new("RGBA", (w, h), (0, 0, 0, 0))
                sd = ImageDraw.Draw(sprite)
                font = _font(h * 0.09)
                for k in range(3):
                    sd.text((w / 2, h * (0.25 + 0.25 * k)), text, font=font, fill=(255, 255, 255, alpha),
                            anchor="mm", stroke_width=1, stroke_fill=(0, 0, 0, alpha // 2))
                sprite = sprite.rotate(30, resample=Image.Resampling.BILINEAR)
                img = img.convert("RGBA")
                img.alpha_composite(sprite)
                img = img.convert("RGB")
        elif op in ("jpeg", "reencode"):
            pass  # the quality is applied when the picture is written
        else:
            raise ValueError(f"unknown edit {op!r}")
    return img


def _encode(img: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=int(quality), optimize=False, progressive=False)
    return buf.getvalue()


def _run_task(task: tuple[str, str, dict, list[tuple[str, list[dict] | None, int]]]) -> int:
    """Draw one picture and write every published version of it (original, re-encodes, edits)."""
    out_dir, kind, spec, outputs = task
    img = _render_product(spec) if kind == "product" else _render_avatar(spec)
    published: Image.Image | None = None
    for rel, edits, quality in outputs:
        if edits is None:
            data = _encode(img, quality)
        else:
            if published is None:   # copiers start from the picture as it was published
                published = Image.open(io.BytesIO(_encode(img, ORIGINAL_QUALITY)))
                published.load()
                published = published.convert("RGB")
            data = _encode(_apply_edits(published, edits), quality)
        path = os.path.join(out_dir, rel)
        with open(path, "wb") as fh:
            fh.write(data)
    return len(outputs)


# =============================================================================================
# The marketplace model (main process)
# =============================================================================================


@dataclass(eq=False)
class _Brand:
    name: str
    prefix: str
    types: tuple[str, ...]
    tier: float
    currency: str
    accent: tuple[int, int, int]
    premium: bool
    logo_shape: str
    brand_text: str
    store: "_Account | None" = None


@dataclass(eq=False)
class _Task:
    kind: str                      # "product" | "avatar"
    spec: dict
    refs: list["_ImgRef"] = field(default_factory=list)


@dataclass(eq=False)
class _ImgRef:
    task: _Task
    edits: list[dict] | None       # None: the picture as drawn; a list: derived from the published original
    quality: int
    owner: Any                     # _Listing or _Account (names the file) or None with a fixed path
    slot: str
    path: str = ""


@dataclass(eq=False)
class _Product:
    pid: str
    brand: _Brand
    ptype: str
    line: str
    number: int
    model: str
    colour: str
    attrs: dict[str, Any]          # attribute kind -> value
    code: str
    price_eur: float
    look: dict
    role: str
    catalog: _Task | None = None


@dataclass(eq=False)
class _Account:
    order: int
    kind: str
    role: str                      # store | reseller | ring | counterfeiter | general
    display_name: str
    handle: str
    bio: str
    address: str
    identifiers: dict[str, str]
    authorized_brands: list[str]
    registered_at: datetime
    country: str
    city: str
    currency: str
    avatar: _ImgRef | None = None
    account_id: str = ""


@dataclass(eq=False)
class _Listing:
    product: _Product
    seller: _Account
    title: str
    description: str
    price: float
    currency: str
    reference: bool
    attributes: dict[str, Any]
    condition: str
    listed_at: datetime
    images: list[_ImgRef] = field(default_factory=list)
    item_id: str = ""


_EPOCH = datetime(2019, 1, 1, tzinfo=timezone.utc)
_REGISTRATION_END = datetime(2025, 6, 30, tzinfo=timezone.utc)
_LISTING_END = datetime(2025, 10, 31, tzinfo=timezone.utc)


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _iban(rng: random.Random, country: str) -> str:
    if country == "DE":
        bban = "".join(rng.choice("0123456789") for _ in range(18))
    elif country in ("FR", "IT"):
        bban = (rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") if country == "IT" else "") + "".join(
            rng.choice("0123456789") for _ in range(22 if country == "IT" else 23))
    elif country == "ES":
        bban = "".join(rng.choice("0123456789") for _ in range(20))
    elif country == "NL":
        bban = rng.choice(("ABNA", "INGB", "RABO", "TRIO")) + "".join(rng.choice("0123456789") for _ in range(10))
    else:  # IE
        bban = rng.choice(("AIBK", "BOFI", "IPBS")) + "".join(rng.choice("0123456789") for _ in range(14))
    numeric = "".join(str(int(ch, 36)) for ch in bban + country + "00")
    check = 98 - int(numeric) % 97
    return f"{country}{check:02d}{bban}"


def _fmt_iban(iban: str, style: int) -> str:
    if style == 0:
        return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
    if style == 1:
        return iban
    return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4)).lower()


def _us_account(rng: random.Random) -> str:
    routing = "".join(rng.choice("0123456789") for _ in range(9))
    account = "".join(rng.choice("0123456789") for _ in range(rng.randint(10, 12)))
    return f"{routing}:{account}"


def _fmt_us_account(raw: str, style: int) -> str:
    routing, account = raw.split(":")
    if style == 0:
        return f"ACH routing {routing} account {account}"
    if style == 1:
        return f"{routing}-{account}"
    return f"routing: {routing} / acct: {account}"


def _fmt_phone(cc: str, nsn: str, style: int) -> str:
    """International (style 0), compact international (1) or national (2) writing of a number."""
    if style == 1:
        return f"+{cc}{nsn}"
    if cc == "1":
        a, b, c = nsn[:3], nsn[3:6], nsn[6:]
        return f"+1 ({a}) {b}-{c}" if style == 0 else f"({a}) {b}-{c}"
    if cc == "49":
        return f"+49 {nsn[:3]} {nsn[3:]}" if style == 0 else f"0{nsn[:3]} {nsn[3:]}"
    if cc == "33":
        pairs = " ".join(nsn[i:i + 2] for i in range(1, 9, 2))
        return f"+33 {nsn[0]} {pairs}" if style == 0 else f"0{nsn[0]} {pairs}"
    if cc == "34":
        return f"+34 {nsn[:3]} {nsn[3:6]} {nsn[6:]}" if style == 0 else f"{nsn[:3]} {nsn[3:6]} {nsn[6:]}"
    if cc == "39":
        return f"+39 {nsn[:3]} {nsn[3:6]} {nsn[6:]}" if style == 0 else f"{nsn[:3]} {nsn[3:]}"
    if cc == "31":
        return f"+31 {nsn[0]} {nsn[1:]}" if style == 0 else f"0{nsn[0]}-{nsn[1:]}"
    return f"+{cc} {nsn[:2]} {nsn[2:5]} {nsn[5:]}" if style == 0 else f"0{nsn[:2]} {nsn[2:5]} {nsn[5:]}"


def _new_nsn(rng: random.Random, cc: str) -> str:
    digits = lambda n: "".join(rng.choice("0123456789") for _ in range(n))  # noqa: E731
    if cc == "1":
        return rng.choice("23456789") + digits(2) + rng.choice("23456789") + digits(6)
    if cc == "49":
        return rng.choice(("151", "152", "160", "170", "176")) + digits(7 + rng.randint(0, 1))
    if cc == "33":
        return rng.choice("67") + digits(8)
    if cc == "34":
        return rng.choice("67") + digits(8)
    if cc == "39":
        return "3" + digits(9)
    if cc == "31":
        return "6" + digits(8)
    return "8" + rng.choice("35679") + digits(7)


def _fmt_address(a: dict, style: int) -> str:
    """One address written several ways: style 0 is the canonical writing."""
    street, no, pc, city, st = a["street"], a["no"], a["pc"], a["city"], a["style"]
    if style:
        for long, shorts in _STREET_ABBREV[st]:
            if long in street:
                street = street.replace(long, shorts[(style - 1) % len(shorts)])
                break
        if style % 3 == 2:
            street = street.lower()
            city = city.lower()
    if st == "us":
        state = a["state"]
        if style == 0:
            return f"{no} {street}, {city}, {state} {pc}"
        if style % 2:
            return f"{no} {street} {city} {state} {pc}"
        return f"{no} {street}, {city} {state.lower()}"
    if st in ("en",):
        return f"{no} {street}, {city} {pc}" if style % 2 == 0 else f"{no} {street}, {pc} {city}"
    if st == "fr":
        return f"{no} {street}, {pc} {city}" if style % 2 == 0 else f"{no}, {street} {pc} {city.upper()}"
    if st == "es":
        return f"{street} {no}, {pc} {city}" if style % 2 == 0 else f"{street}, {no} - {pc} {city}"
    if st == "it":
        local = {"Milan": "Milano", "Rome": "Roma"}.get(a["city"], a["city"])
        return f"{street} {no}, {pc} {city}" if style % 2 == 0 else f"{street}, {no} {pc} {local}"
    # de, nl
    return f"{street} {no}, {pc} {city}" if style % 2 == 0 else f"{pc} {city}, {street} {no}"


def _handle_base(name: str) -> str:
    return "".join(ch for ch in _ascii(name).lower() if ch.isalnum() or ch == " ").strip()


class _Builder:
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

    # ------------------------------------------------------------------ pictures
    def _task(self, kind: str, spec: dict) -> _Task:
        t = _Task(kind, spec)
        self.tasks.append(t)
        return t

    def _out(self, task: _Task, owner: Any, slot: str, edits: list[dict] | None = None,
             quality: int = ORIGINAL_QUALITY) -> _ImgRef:
        ref = _ImgRef(task, edits, quality, owner, slot)
        task.refs.append(ref)
        return ref

    def _photo_params(self, rng: random.Random, style: str) -> dict:
        neutral = [(250, 250, 250), (244, 244, 242), (236, 236, 238), (228, 226, 220), (246, 240, 230)]
        home_bg = [(196, 160, 120), (150, 110, 80), (225, 215, 200), (90, 90, 96), (180, 190, 200),
                   (210, 200, 230), (200, 225, 210), (60, 62, 70), (238, 220, 190), (170, 130, 100),
                   (120, 140, 160), (230, 230, 220)]
        p: dict[str, Any] = {"seed": rng.getrandbits(32), "angle": rng.randrange(8), "light_angle": rng.randrange(8),
                             "split": rng.uniform(0.45, 0.75), "step": rng.choice((16, 24, 32, 40))}
        if style == "studio":
            p.update(bg=rng.choice(("solid", "solid", "gradient")), bg1=rng.choice(neutral),
                     bg2=_shade(rng.choice(neutral), 0.9), dx=rng.uniform(-0.02, 0.02), dy=rng.uniform(-0.03, 0.0),
                     scale=rng.uniform(0.95, 1.05), rot=0.0, shadow=True, light=rng.uniform(0.0, 0.08),
                     noise=rng.randint(0, 1), vignette=False, props=0)
        elif style == "shop":
            c = rng.choice(neutral + home_bg[:3])
            p.update(bg=rng.choice(("solid", "gradient", "podium", "floor")), bg1=c,
                     bg2=_shade(rng.choice(neutral + home_bg), rng.uniform(0.8, 1.0)),
                     dx=rng.uniform(-0.05, 0.05), dy=rng.uniform(-0.05, 0.04), scale=rng.uniform(0.85, 1.05),
                     rot=rng.uniform(-5, 5), shadow=rng.random() < 0.7, light=rng.uniform(0.05, 0.2),
                     noise=rng.randint(0, 2), vignette=False, props=0)
        else:  # home
            p.update(bg=rng.choice(("solid", "gradient", "split", "floor", "pattern", "podium")),
                     bg1=rng.choice(home_bg + neutral), bg2=rng.choice(home_bg),
                     dx=rng.uniform(-0.09, 0.09), dy=rng.uniform(-0.08, 0.06), scale=rng.uniform(0.72, 1.02),
                     rot=rng.uniform(-12, 12), shadow=rng.random() < 0.5, light=rng.uniform(0.1, 0.35),
                     noise=rng.randint(1, 4), vignette=rng.random() < 0.3, props=rng.choice((0, 0, 1, 2, 3)))
        return p

    def _detail_params(self, rng: random.Random, base: dict) -> dict:
        p = dict(base)
        p.update(seed=rng.getrandbits(32), scale=base["scale"] * rng.uniform(1.6, 2.0),
                 dx=rng.uniform(-0.25, 0.25), dy=rng.uniform(-0.25, 0.2), rot=base["rot"] + rng.uniform(-6, 6),
                 corner_logo=False, props=0, shadow=False)
        return p

    def _own_photos(self, rng: random.Random, listing: _Listing, style: str, n_images: int | None = None,
                    corner_logo: bool = False, params: dict | None = None) -> None:
        photo = dict(params) if params is not None else self._photo_params(rng, style)
        photo["corner_logo"] = corner_logo
        main = self._task("product", {"look": listing.product.look, "photo": photo})
        listing.images = [self._out(main, listing, "1")]
        n = n_images if n_images is not None else (2 if rng.random() < DETAIL_SHOT_PROBABILITY else 1)
        if n >= 2:
            detail = self._task("product", {"look": listing.product.look, "photo": self._detail_params(rng, photo)})
            listing.images.append(self._out(detail, listing, "2"))

    def _derived_photos(self, source: _Listing, target: _Listing, edits: list[dict] | None, quality: int,
                        max_images: int = 3) -> None:
        target.images = [self._out(ref.task, target, str(k + 1), edits=list(edits or []), quality=quality)
                         for k, ref in enumerate(source.images[:max_images])]

    def _sample_edits(self, rng: random.Random, copier: _Account, light: bool = False) -> tuple[list[dict], int]:
        n = 1 if (light or rng.random() < 0.65) else 2
        ops = rng.sample(("crop", "flip", "resize") if light else EDIT_OPS, n)
        if light and rng.random() < 0.4:
            ops = ["watermark"]
        order = {op: i for i, op in enumerate(("crop", "flip", "resize", "watermark", "jpeg"))}
        edits: list[dict] = []
        quality = rng.randint(80, 92)
        for op in sorted(ops, key=order.__getitem__):
            if op == "crop":
                f = round(rng.uniform(0.05, 0.10), 3)
                u, v = rng.random(), rng.random()
                w = PHOTO_SIZE
                l, t = int(round(f * w * u)), int(round(f * w * v))
                edits.append({"op": "crop", "fraction": f, "box": [l, t, w - int(round(f * w * (1 - u))),
                                                                    w - int(round(f * w * (1 - v)))],
                              "resize_back": rng.random() < 0.5})
            elif op == "flip":
                edits.append({"op": "flip"})
            elif op == "resize":
                s = int(PHOTO_SIZE * rng.uniform(0.75, 0.95))
                edits.append({"op": "resize", "size": [s, s]})
            elif op == "watermark":
                style = rng.choice(("banner", "banner", "corner", "diagonal"))
                text = rng.choice(_BANNERS) if (style == "banner" and rng.random() < 0.6) else f"@{copier.handle}"
                edits.append({"op": "watermark", "style": style, "text": text,
                              "position": rng.choice(("top", "bottom")), "opacity": round(rng.uniform(0.5, 0.85), 2),
                              "colour": list(rng.choice(((200, 30, 30), (20, 20, 20), (230, 120, 0), (30, 90, 200))))})
            else:
                quality = rng.randint(12, 30)
                edits.append({"op": "jpeg", "quality": quality})
        return edits, quality

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
                   joined.replace("l", "1", 1) if "l" in joined else joined + "x", "_".join(words) + "_" + str(rng.randint(3, 9)),
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
                opts = {"men": ("men's", "mens", "for men", "Men"), "women": ("women's", "womens", "for women", "Ladies"),
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
                t = f"{p.model} by {brand} - {noun}, {colour}" + (f", {ac}" if ac else "") + (f" [{code}]" if code else "")
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
            return (f"{p.brand.name} {p.model} {noun} {p.colour}. {rng.choice(('Top quality', 'Best quality', 'AAA grade'))}"
                    f", same as original. {attrs} {rng.choice(('Comes with box and dust bag.', 'With all tags.', 'Box included.'))}"
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

    # ------------------------------------------------------------------ listings
    def _price(self, rng: random.Random, p: _Product, currency: str, factor: float = 1.0) -> float:
        v = p.price_eur * factor * (1.08 if currency == "USD" else 1.0)
        return _round_price(v, rng)

    def _listed_after(self, rng: random.Random, start: datetime, min_days: float = 0.2, max_days: float = 400) -> datetime:
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
        honest = [l for l in self.listings if l.product.role == "background" and l.seller.role in ("general", "reseller")
                  and l.images and l.images[0].edits is None]
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

    # ------------------------------------------------------------------ output
    def build(self) -> None:
        self._build_brands()
        self._build_accounts()
        self._build_products()
        self._build_listings()
        # ids that reveal nothing about what was planted
        order = list(self.listings)
        _rng("item-ids", self.seed).shuffle(order)
        for i, l in enumerate(order):
            l.item_id = f"item-{i + 1:05d}"
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

    def items_records(self) -> list[dict]:
        out = []
        for l in sorted(self.listings, key=lambda l: l.item_id):
            out.append({"item_id": l.item_id, "title": l.title, "description": l.description,
                        "images": [r.path for r in l.images], "seller_id": l.seller.account_id,
                        "brand": l.product.brand.name, "price": l.price, "currency": l.currency,
                        "category": _TYPES[l.product.ptype]["cat"], "reference": l.reference,
                        "attributes": l.attributes, "condition": l.condition, "listed_at": _iso(l.listed_at)})
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
            links.sort(key=lambda l: l["account_ids"])
            union = sorted({e for l in links for e in l["evidence"]})
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
            "item_product": {l.item_id: l.product.pid for l in sorted(self.listings, key=lambda l: l.item_id)},
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


def _email_key(email: str) -> str:
    """Mailbox identity: case-folded, +tags dropped, dots ignored at Gmail."""
    local, _, domain = email.lower().partition("@")
    local = local.split("+", 1)[0]
    if domain in ("gmail.com", "googlemail.com"):
        local = local.replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"


def _email_variant(rng: random.Random, local: str, m: int) -> str:
    """The same Gmail mailbox written another way: dots moved, a +tag, capitals."""
    plain = local.replace(".", "")
    if m == 0:
        return f"{local}@gmail.com"
    style = (m + rng.randrange(3)) % 4
    if style == 0:
        return f"{plain}+{rng.choice(('shop', 'sales', 'store', str(m + 1)))}@gmail.com"
    if style == 1:
        k = rng.randint(1, max(1, len(plain) - 1))
        return f"{plain[:k]}.{plain[k:]}@gmail.com"
    if style == 2:
        return f"{plain}@googlemail.com"
    return f"{local.capitalize()}+{m}@gmail.com"


# =============================================================================================
# Entry point
# =============================================================================================


def _pool_context():
    """fork when it is safe (no other threads: forking a threaded process can deadlock), else spawn."""
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _render_all(tasks: list[tuple], workers: int, progress: ProgressFn | None) -> None:
    """Draw every picture. A pool that cannot start (e.g. spawn without an importable __main__)
    or breaks falls back to drawing in this process; the files are the same either way."""
    total = len(tasks)
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress and (done % 25 == 0 or done == total):
            progress(done, total)

    if progress:
        progress(0, total)
    remaining = tasks
    if workers > 1 and total >= 64:
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        chunk = 16
        batches = [tasks[i:i + chunk] for i in range(0, total, chunk)]
        finished: set[int] = set()
        try:
            with ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context()) as pool:
                for k, n in enumerate(pool.map(_run_batch, batches)):
                    finished.add(k)
                    for _ in range(n):
                        tick()
        except (BrokenProcessPool, OSError):
            pass
        remaining = [t for k, b in enumerate(batches) if k not in finished for t in b]
    for t in remaining:
        _run_task(t)
        tick()


def _run_batch(batch: list[tuple]) -> int:
    for t in batch:
        _run_task(t)
    return len(batch)


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
