"""People and places (all invented): cities, streets, names, shops, bios, and how identifiers are written (IBANs,
phone numbers, addresses, e-mail variants).
"""
from __future__ import annotations

import random

from .common import _ascii

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
