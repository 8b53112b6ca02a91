"""Unit tests of the text signal's profile and comparison (simgov.signals.text) on hand-written
listings (no model, no data files)."""

import json

import pytest

from simgov.signals.text import (
    TitleProfile,
    blocking_keys,
    build_idf,
    compare,
    profile,
)
from simgov.signals.text.profile import in_english


# ----------------------------------------------------------------------------- profile


def test_in_english_writes_translated_words_in_english_and_keeps_the_rest():
    assert in_english("Nike Free Run - Concord/Schwarz/Blau") == "Nike Free Run - Concord/black/blue"
    assert in_english("Puma King II FG - Jaune/ Noir") == "Puma King II FG - yellow/ black"
    assert in_english("Buty Nike Biały/Weiß") == "shoes Nike white/white"  # accented words folded first
    assert in_english("Sony DSC-W800 Silver 20.1 MP") == "Sony DSC-W800 Silver 20.1 MP"  # nothing to translate
    assert in_english("Objectif Canon EF 50mm") == "lens Canon EF 50mm"
    assert in_english("TAG Heuer Carrera Calibre 16") == "TAG Heuer Carrera Calibre 16"  # "tag" is no German day


def test_product_words_of_other_languages_are_read_in_english():
    german = profile("Canon Akku LP-E17 für Kamera, Ladegerät und Tasche")
    polish = profile("Canon akumulator LP-E17 do aparat, ładowarka i torba")
    assert {"battery", "camera", "charger", "bag"} <= set(german.tokens) & set(polish.tokens)


def test_hyphenated_and_slashed_codes_are_normalised():
    p = profile('Sony Bravia KDL-46V3000 46" LCD HDTV')
    assert p.codes == ["KDL46V3000"]
    assert profile("Apple iWork 09 Retail - MB942Z/A").codes == ["MB942ZA"]
    assert profile("Logitech V220 Mouse - 910-000153").codes == ["V220", "910000153"]


def test_units_ratios_and_ranges_are_not_codes():
    p = profile("Samsung LN46A850 46' 1080p LCD HDTV 50000:1 120Hz 500GB 2.4GHz 18-55mm 8-Port 10/100")
    assert p.codes == ["LN46A850"]
    assert p.numbers["in"] == ["46"]
    assert p.numbers["p"] == ["1080"]
    assert p.numbers["hz"] == ["120"]
    assert p.numbers["gb"] == ["500"]
    assert p.numbers["ghz"] == ["2.4"]
    assert p.numbers["mm"] == ["18-55"]
    assert p.numbers["port"] == ["8"]


def test_data_rates_are_not_codes():
    """A card's or a link's data rate is a measure: two brands' cards at 90MB/s share no model code, and a rate
    does not conflict with the maker's part number."""
    assert profile("SanDisk Extreme SDXC 128GB 90MB/s V30 UHS-I").codes == ["V30"]
    assert profile("Sandisk 32GB microSDHC SDSDQXP-032G r95MB/s w90MB/s").codes == ["SDSDQXP032G"]
    assert profile("SanDisk Extreme Pro 160 MB/sec CF 64GB").codes == []
    assert profile("TP-Link 300Mbps Router TL-WR841N").codes == ["TLWR841N"]
    same_rate = compare(profile("SanDisk Extreme SDXC Card 90MB/s 128GB"),
                        profile("Transcend 128GB SDXC Card Up to 90MB/s (TS128GSDXC10U1)"))
    assert same_rate.parts["code"] == 0.0
    assert compare(profile("SanDisk Ultra SDXC 128GB 80MB/s"),
                   profile("SanDisk Ultra 128GB SDXC (SDSDUNC-128G-GN6IN)")).parts["code"] == 0.0


def test_slashed_speeds_and_words_are_not_one_code():
    """Speeds joined by a slash ("13x/4x") are measures and "U3/Class" a speed class and a word, not the codes
    13X4X and U3CLASS; a maker's suffix ("MB942Z/A", "EX32LP/BLK") or capacity ("DTSE9H/32GB") stays in the code,
    two names of one model ("SL1/100D") are two codes and a colourway ("Black/Lime") a glued word as before."""
    assert profile("Pretec 32MB SD Secure Digital Card 13x/4x Clam").codes == []
    assert profile("SanDisk Extreme SDXC 128GB 90MB/s, UHS-I U3/Class 10").codes == []
    assert profile("Apple iPod MB942Z/A").codes == ["MB942ZA"]
    assert profile("Kingston DTSE9H/32GB").codes == ["DTSE9H32GB"]
    assert profile("Case EX32LP/BLK").codes == ["EX32LPBLK"]
    assert profile("Canon EOS SL1/100D").codes == ["SL1", "100D"]
    assert "blacklime" in profile("Suunto M5 Black/Lime").tokens
    # a style code with its colourway after a hyphen is not cut at the slashes into a code "10301102-Plasma"
    assert profile("Puma evoSPEED 2.3 FG 10301102-Plasma/Blanco/Peacoat").codes == []


def test_words_joined_by_a_digit_are_a_name_not_a_code():
    """A shop's name of capitalised words joined by a digit ("Optics4Birding") is no model code that two of its
    listings share; a model with its colour ("Hero5Black") stays a code."""
    assert profile("Manfrotto BeFree Tripod with Ball Head - Optics4Birding").codes == []
    assert profile("Manfrotto MT055XPRO3 Aluminum Tripod - Optics4Birding").codes == ["MT055XPRO3"]
    assert profile("GoPro Hero5Black").codes == ["HERO5BLACK"]


def test_memory_standards_are_not_codes():
    """PC2-5300, DDR4-2400 and 2Rx4 say which standard a memory module follows, as thousands of modules do: two
    makers' modules of one standard share no model code. Inside a longer code ("5388-PC5-65001") they stay."""
    assert profile("HP 483403-B21 4GB PC2-5300 DDR2-667 2Rx4 ECC RDIMM").codes == ["483403B21"]
    assert profile("Crucial CT8G4DFD824A 8GB PC4-19200 DDR4-2400 2Rx8").codes == ["CT8G4DFD824A"]
    assert profile("Raymond Weil Toccata Watch 5388-PC5-65001").codes == ["5388PC565001"]
    assert compare(profile("432803-B21 HP 512MB PC2-5300 ECC DIMM"),
                   profile("HP 483403-B21 4GBx2 PC2-5300 DDR2-667 ECC RDIMM")).parts["code"] < 0
    assert profile("Canon Photo Ink Cartridge - CL52").codes == ["CL52"]
    # a memory card's bus is a standard too
    assert profile("Gigastone 128GB SDXC Class 10 UHS-1 U1").codes == []


def test_megapixels_in_any_spelling_are_a_measure():
    for title in ("Vigilance 3-MPIXEL Outdoor Bullet Camera", "D-Link DCS-4703E 3MPX Camera", "3 Megapixel Camera"):
        assert profile(title).numbers.get("mp") == ["3"]
        assert not any(c.endswith("PIXEL") or c.endswith("MPX") for c in profile(title).codes)


def test_apertures_are_not_measures():
    """f/3.5-5.6G is a lens's aperture (G: Nikon's lens type), not 5.6 grams; f/4L (Canon's L) not 4 litres."""
    assert profile("Nikkor AF-S 28-300mm f3.5-5.6G ED VR").numbers == {"mm": ["28-300"]}
    assert profile("AF-S 28-300mm f/3.5-5.6G ED VR").numbers == {"mm": ["28-300"]}
    assert profile("Canon EF 24-105mm f/4L IS USM").numbers == {"mm": ["24-105"]}
    assert profile("Canon EF 24-105mm f/4.0L IS USM 670g").numbers == {"mm": ["24-105"], "g": ["670"]}


def test_shoe_style_colour_codes_are_one_code():
    """Nike's style-colour code (style 831508, colourway 100) written with a space is the code written with
    a hyphen; the same style in another colourway conflicts."""
    assert profile("Nike Free RN - 831508 100").codes == profile("Nike Free RN 831508-100").codes == ["831508100"]
    assert compare(profile("Nike Free RN 831508 100"), profile("Nike Free RN 831508-100")).parts["code"] == 1.0
    assert compare(profile("Nike Free RN 831508 100"), profile("Nike Free RN 831508 001")).parts["code"] < 0


def test_number_ranges_and_lists():
    assert profile("Canon EF-S 17mm - 85mm Zoom Lens").numbers["mm"] == ["17-85"]
    # a descending "range" is a list of sizes
    assert sorted(profile("Laptop case - 21 inch - 4.5 inch").numbers["in"]) == ["21", "4.5"]
    assert profile("LG 5.6 Cu. Ft. Electric Range").numbers == {"cuft": ["5.6"]}


def test_decimal_versions_are_not_codes_but_dotted_part_numbers_are():
    assert profile("Netgear 802.11g Router").codes == []
    assert profile("TomTom Accessory Kit - 9N00.101").codes == ["9N00101"]
    assert profile("Canon EF 70-300mm f/4-5.6 IS Lens").codes == []


def test_brand_guess_colours_and_given_brand():
    p = profile("Black Sony Walkman")
    assert p.brand == "sony" and not p.brand_given  # a colour is not a brand
    assert p.colours == ["black"]
    q = profile("Walkman NWZ-E436F", brand="Sony Corp.")
    assert q.brand == "sonycorp" and q.brand_given


def test_watch_references_of_dotted_digit_groups_are_codes():
    assert profile("Omega Speedmaster 311.92.44.51.01.005").codes == ["31192445101005"]
    assert profile("Carl F Bucherer Flyback 00.10919.08.13.01").codes == ["0010919081301"]
    assert profile("Router 802.11 n 2.4 GHz firmware 1.2").codes == []  # a standard, a decimal, a version
    c = compare(profile("Omega Speedmaster 311.92.44.51.01.005"), profile("Omega Speedmaster 311.92.44.51.01.003"))
    assert c.parts["code"] < 0


def test_words_of_other_languages_read_in_english():
    """Colours, leather, men's / women's, watch and shoes in German, French, Spanish, Italian, Dutch,
    Polish: accents folded, the word read in English, so two languages share the words."""
    it = profile("Puma evoTOUCH Pro FG - Nero/Bianco/Giallo Pelle Uomo")
    es = profile("Puma evoTOUCH Pro FG - Negro/Blanco/Amarillo Piel Hombre")
    assert it.colours == es.colours == ["black", "white", "yellow"]
    assert {"leather", "men"} <= set(it.tokens) & set(es.tokens)
    pl = profile("Damskie Nike Benassi - Biały/Czarny")
    assert pl.colours == ["white", "black"] and "women" in pl.tokens
    de = profile("DANİEL WELLİNGTON Classic Weiß Herren Uhr")
    assert de.brand == "daniel" and de.colours == ["white"] and {"men", "watch"} <= set(de.tokens)


def test_rose_gold_abbreviations_and_shoe_colourways_in_any_language():
    """Rose gold is one colour, not gold, however a shop writes it; "Blk/Wht" is black and white; French
    carmin is crimson, asfalto and asphalte are asphalt."""
    written = ["Classic Sheffield rose gold", "Dapper York Rosegold 34 mm", "Durham Or rosé cuir",
               "Durham Oro Rosa Reloj", "Classic Durham Różowe złoto 36mm", "Winchester Roségold Damenuhr"]
    assert all(profile(t).colours == ["rosegold"] for t in written)
    assert profile("Classic Sheffield gold").colours == ["gold"]
    assert profile("Nike Foundation 12 Pants - Blk/Wht").colours == ["black", "white"]
    assert profile("Nike Free Run - Bleu/ Noir/ Carmin").colours == ["blue", "black", "crimson"]
    italian, french = profile("Puma IGNITE v2 - Nero-Asfalto-Rosso"), profile("Puma IGNITE v2 - Noir-Asphalte-Rouge")
    assert italian.colours == french.colours == ["black", "asphalt", "red"]


def test_capacities_and_screens_in_french_and_german():
    p = profile("Seagate IronWolf Pro 8To 256Mo cache, écran 15,6 pouces")
    assert p.numbers == {"tb": ["8"], "mb": ["256"], "in": ["15.6"]} and p.codes == []
    assert profile("Monitor 27 Zoll 16Go 1,000mAh").numbers == {"in": ["27"], "gb": ["16"], "mah": ["1000"]}
    assert profile("Up to 8 go").numbers == {}  # a French unit only glued to its number


def test_description_codes_only_when_the_title_has_none():
    p = profile("LG XL Capacity Electric Dryer", description="Model DLE5955W, 7.3 cu ft, white")
    assert p.codes == [] and p.match_codes() == ["DLE5955W"]
    q = profile("LG Dryer - DLE5955G", description="Replaces DLE5955W")
    assert q.match_codes() == ["DLE5955G"]


def test_attributes_are_read_like_title_text():
    p = profile("Sony LCD TV", attributes={"model": "KDL-46V3000", "size": '46"'})
    assert "KDL46V3000" in p.codes and p.numbers["in"] == ["46"]


def test_profile_round_trips_through_json():
    p = profile('Sony Bravia KDL-46V3000 46" Black LCD HDTV', description="x", brand="Sony")
    d = json.loads(json.dumps(p.to_dict()))
    assert TitleProfile.from_dict(d) == p
    assert TitleProfile.from_dict({}) == TitleProfile()


def test_empty_title():
    p = profile("")
    assert p.tokens == [] and p.codes == [] and p.brand is None
    c = compare(p, profile("Sony KDL-46V3000"))
    assert 0.0 <= c.score <= 1.0


# ----------------------------------------------------------------------------- blocking keys


def test_blocking_keys_include_code_stems_and_skip_short_codes():
    keys = blocking_keys(profile("Sony Progressive Scan DVD Player - DVPNS57PB"))
    assert "DVPNS57PB" in keys and "DVPNS57" in keys
    other = blocking_keys(profile("Sony DVPNS57P DVD Player"))
    assert set(keys) & set(other)  # colour-suffix variant still meets the plain code
    assert blocking_keys(profile("Nyko PS3 Charger")) == []


# ----------------------------------------------------------------------------- compare


def test_same_code_written_differently_agrees():
    a = profile("Sony Turntable - PSLX350H")
    b = profile("Sony PS-LX350H Belt-Drive Turntable")
    c = compare(a, b)
    assert c.parts["code"] == 1.0
    assert "model code PSLX350H on both" in c.evidence
    assert "brand sony on both" in c.evidence
    assert c.score > 0.9


def test_conflicting_codes_of_one_family_are_a_strong_negative():
    a = profile("Sony Bravia KDL-46V3000 LCD HDTV")
    b = profile("Sony Bravia KDL-40V3000 LCD HDTV")
    c = compare(a, b)
    assert c.parts["code"] == -1.0
    assert "different model codes: KDL46V3000 vs KDL40V3000" in c.evidence
    assert c.score < 0.1
    # codes of unrelated shapes (maker model vs part number): a weaker negative
    d = compare(profile("Canon Ink - PG40BK"), profile("Canon Ink - 0615B002"))
    assert d.parts["code"] == -0.5


def test_colour_suffix_variant_agrees_but_sibling_suffix_does_not():
    wash = compare(profile("Whirlpool Cabrio Washer - WTW6700TWH"), profile("Whirlpool WTW6700TW Washer"))
    assert wash.parts["code"] == pytest.approx(0.8)
    ink = compare(profile("Canon Yellow Ink - CLI8Y"), profile("Canon Red Ink - CLI-8R"))
    assert ink.parts["code"] == 0.0  # siblings: neither agreement nor conflict
    assert any("sibling" in e for e in ink.evidence)


def test_code_with_inner_space_is_found_in_the_other_title():
    c = compare(profile("Sony Earbud Headphones - MDREX55BLK"), profile("Ex Series Earbuds Black - MDR EX55/BLK"))
    assert c.parts["code"] > 0
    assert any("MDREX55BLK" in e for e in c.evidence)


def test_a_code_stem_is_not_found_at_the_head_of_a_longer_number():
    # the FZ20S's stem DMCFZ20 is the head of DMCFZ200 in the other title, another model; COOLPIXS550 is found
    c = compare(profile("Panasonic Lumix DMC-FZ200 Digital Camera (FZ200)"), profile("Lumix 5 Megapixel DMC-FZ20S"))
    assert c.parts["code"] <= 0
    assert compare(profile("Nikon COOLPIXS550GB camera"), profile("Nikon Coolpix S550 camera")).parts["code"] > 0


def test_upc_containing_the_maker_number_agrees():
    c = compare(profile("Nyko PlayStation 3 Charger - 743840830153"), profile("Nyko PS3 Charger - 83015"))
    assert c.parts["code"] > 0


def test_model_behind_a_makers_series_prefix_agrees():
    # Panasonic's DMC- prefix, which shops drop, and a kit/colour suffix of letters
    for a, b in (("Panasonic Lumix DMC-GH4 4K Camera Body", "Used Panasonic GH4 Body"),
                 ("Panasonic Capture Life On The Move - DMCGX85KK", "Panasonic LUMIX GX85 Mirrorless Camera")):
        c = compare(profile(a), profile(b))
        assert c.parts["code"] >= 0.6, (a, b)
    # a prefix of one letter, digits only or a suffix with digits is no series prefix
    assert compare(profile("Sony ILCE6000LB"), profile("Sony A6000 Camera")).parts["code"] <= 0
    assert compare(profile("Pretec SD32 card"), profile("SanDisk SDSDS32 card")).parts["code"] <= 0
    assert compare(profile("Maker XYGH4S2 unit"), profile("Maker GH4 unit")).parts["code"] <= 0


def test_short_codes_count_half():
    c = compare(profile("Nikon D60 Camera"), profile("Nikon D60 SLR Body"))
    assert c.parts["code"] == pytest.approx(0.5)


def test_numbers_with_units_conflict_and_tolerate_rounding():
    c = compare(profile('Samsung 46" LCD HDTV'), profile("Samsung 40' LCD HDTV"))
    assert c.parts["numbers"] == -1.0
    assert any(e.startswith("different measures") for e in c.evidence)
    r = compare(profile("LG 24.7 Cu. Ft. Refrigerator"), profile("LG 25 cu.ft. Refrigerator"))
    assert r.parts["numbers"] == 1.0


def test_counts_and_years_must_match_exactly():
    c = compare(profile("Netgear 8-Port Switch"), profile("Netgear 5 Port Switch"))
    assert c.parts["numbers"] == -1.0
    y = compare(profile("Norton AntiVirus 2008"), profile("Norton AntiVirus 2007"))
    assert y.parts["numbers"] == -1.0
    assert "different measures: year 2008 vs year 2007" in y.evidence
    assert profile("DCC-2000 Coffee Maker").numbers == {}  # part of a code, not a year


def test_short_codes_of_one_family_conflict():
    c = compare(profile("Nikon D60 Camera Body"), profile("Nikon D90 Camera Body"))
    assert c.parts["code"] == -0.5
    assert "different model codes: D60 vs D90" in c.evidence


def test_colours_and_given_brands_conflict():
    c = compare(profile("Sony Walkman Black"), profile("Sony Walkman White"))
    assert c.parts["colour"] == -1.0
    d = compare(profile("Walkman 8GB", brand="Sony"), profile("Walkman 8GB", brand="Samsung"))
    assert d.parts["brand"] == -1.0
    assert "different brands: sony vs samsung" in d.evidence
    # a guessed first word that differs is no evidence either way
    e = compare(profile("Computer Speakers - SRSA212/BLK"), profile("Sony Active Speaker System - SRSA212BK"))
    assert e.parts["brand"] == 0.0


def test_brand_written_in_two_words_agrees():
    c = compare(profile("Polk Audio TC60i Speaker"), profile("polkaudio TC60i In-Ceiling Speaker"))
    assert c.parts["brand"] == 1.0


def test_idf_weights_rare_words():
    cat = [profile(t) for t in ["Acme Widget Pro", "Acme Gadget", "Acme Gizmo", "Acme Thing", "Zorb Widget"]]
    idf = build_idf(cat)
    assert idf.get("acme") < idf.get("widget") < idf.get("never-seen-token")
    common = compare(profile("Acme Widget"), profile("Acme Gizmo"), idf).parts["tokens"]
    rare = compare(profile("Acme Widget"), profile("Zorb Widget"), idf).parts["tokens"]
    assert rare > common


def test_score_is_bounded_and_symmetric():
    a, b = profile("Sony KDL-46V3000 46in Black"), profile("Samsung LN46A650 46in Silver")
    assert compare(a, b).score == pytest.approx(compare(b, a).score)
    assert 0.0 <= compare(a, b).score <= 1.0
