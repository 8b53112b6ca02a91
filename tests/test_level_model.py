"""The level match model on made-up pairs: each comparison's levels move the decision the way its
evidence says (no title model needed: the title level is set by hand), and the bundled model is
consistent with its own feature space."""
from __future__ import annotations

import json

import numpy as np
import pytest

from simgov.matching.levels import (JOINT, LEVELS, MODEL_FILE, MatchModel, active_levels, bundled_model, design,
                                    feature_names, title_level)
from simgov.signals.text.levels import head, idf_tables, listing_text, model_words, text_levels, untag
from simgov.signals.text.profile import profile

TITLE_LEVEL = title_level(0.88)  # two names alike in meaning, as most candidate pairs are


def levels_of(a: str, b: str, **fields) -> dict[str, int]:
    ta, tb = listing_text(a, **fields), listing_text(b, **fields)
    return {"title": TITLE_LEVEL, **text_levels(ta, tb, *idf_tables([ta, tb])).levels}


def posterior(a: str, b: str, **fields) -> float:
    return bundled_model().posterior(levels_of(a, b, **fields))


def test_head_and_untag_read_scraped_titles():
    scraped = '"GoPro HERO4 Silver"@en "Action Cameras | Shop Example"@en'
    assert head(scraped) == "GoPro HERO4 Silver"
    assert untag(scraped) == "GoPro HERO4 Silver Action Cameras | Shop Example"
    plain = 'Samsung 46" LCD TV'
    assert head(plain) == plain and untag(plain) == plain  # a bare quote is inches, kept


def test_head_reads_a_quoted_name_without_a_language_tag():
    assert head('"Canon EOS Rebel SL1" " Canon SL1 - 8575B003 Digital Cameras CDW.com') == "Canon EOS Rebel SL1"
    assert head('"Air Max Tavas" "Nike Air Tavas - 705149-009 | everysize.com"') == "Air Max Tavas"
    # the whole title where the quote is no name: an inch mark, one word (a brand), a scraper's missing value
    for title in ('"Manfrotto 055 Series 67" 3-Section Tripod"', '"Tissot" "Tissot Swiss Made Watch T0474"',
                  '"Null" "238921-B21 HP 72.8-GB 10K FC-AL HDD"', '"Null"@en "238921-B21 HP 72.8-GB"@en',
                  '"Sony Alpha a7 II Mirrorless Camera"'):
        assert head(title) == title


def test_model_words_are_mixed_tokens_not_measures():
    assert model_words("Canon EOS Rebel T7i 24MP kit 18-55mm") == {"t7i"}
    assert model_words("Sony RX100 III 1st edition 64GB") == {"rx100", "iii"}
    assert model_words("Plain title without models") == frozenset()
    # a lens's aperture names no model: "F2.8" is not a model word "f2" that the other listing lacks
    assert model_words("Sony DT 30mm F2.8 SAM Macro Lens") == frozenset()
    assert model_words("Sony SAL30M28 30mm f/2.8 SAM") == {"sal30m28"}
    assert levels_of("Canon EF-S 55-250mm f4.0-5.6 IS lens", "Canon EF-S 55-250mm f/4-5.6 IS II")["mw"] == 0


def test_data_rates_are_not_model_words():
    # "11Mbps" is a link's rate, not a model word that conflicts with the other listing's model words
    assert model_words("Camara IP Ethernet/Inalambrica 11Mbps Securicam") == frozenset()
    assert model_words("SanDisk Extreme SDXC 90MB/s r95MB/s w90MB/s U3") == {"u3"}


def test_video_resolutions_are_not_model_words():
    # "4K" is a resolution, as 1080p: a camera named with it and the same camera named without it share all
    # their model words
    assert model_words("Panasonic Lumix DMC-GH4 4K Micro Four Thirds Camera") == {"gh4"}
    assert model_words("Samsung 8K QLED TV Q900R") == {"q900r"}
    assert levels_of("GoPro HERO5 Black 4K Camera", "GoPro HERO5 Black")["mw"] == LEVELS["mw"].index("all-shared")


def test_a_colour_glued_to_a_model_is_the_model_and_its_colour():
    # "Hero5black" is the HERO5 in black, not a model word that conflicts with "HERO5 Black"
    assert model_words("Camera Gopro Hero5black") == {"hero5"}
    assert model_words("Fujifilm X100Fsilver") == {"x100f"}
    assert model_words("Nikon D750black body") == {"d750"}
    assert model_words("Sony A7RIII") == {"a7riii"}  # no colour: unchanged
    p = profile("Camera Gopro Hero5black")
    assert p.colours == ["black"] and "hero5" in p.tokens
    lv = levels_of("Camera Gopro Hero5black", "GoPro HERO5 Black 4K Camera")  # 4K: no model word
    assert lv["mw"] == LEVELS["mw"].index("all-shared") and lv["colour"] == LEVELS["colour"].index("same")


def test_a_model_word_behind_a_makers_series_prefix_is_the_model_word():
    # "DMCGX85KK" is Panasonic's DMC- GX85 in a kit: the model word gx85 of "DMC-GX85", not a conflict
    lv = levels_of("Lumix DMC-GX85 Mirrorless Camera with 12-32mm Lens", "Panasonic Capture Life - DMCGX85KK")
    assert lv["mw"] == LEVELS["mw"].index("all-shared")
    assert levels_of("Sony HDRCX405 camcorder", "Sony CX405 Handycam")["mw"] == LEVELS["mw"].index("all-shared")
    # another word beside it is still not shared; a one-letter prefix is no series
    assert levels_of("Kingston DTSE9H 16GB G2", "Kingston SE9 16GB")["mw"] == LEVELS["mw"].index("some-shared")
    assert levels_of("Sony ILCE6000 camera", "Sony LCE6000 camera")["mw"] == LEVELS["mw"].index("conflict")


def test_capacity_conflict_lowers_the_score():
    agree = levels_of("Kingston DataTraveler USB stick 64GB", "Kingston DataTraveler USB flash drive 64GB")
    conflict = levels_of("Kingston DataTraveler USB stick 64GB", "Kingston DataTraveler USB flash drive 128GB")
    assert agree["capacity"] == LEVELS["capacity"].index("agree")
    assert conflict["capacity"] == LEVELS["capacity"].index("conflict")
    model = bundled_model()
    assert model.posterior(conflict) < model.posterior(agree) - 0.2


def test_byte_capacities_compare_across_units():
    """500GB against 1TB is another disk, 1TB against 1000GB the same one; a unit both sides give is
    compared in it (the cache's 64MB agreeing does not hide the disks' 1TB against 2000GB)."""
    other = levels_of("Seagate Barracuda 7200.14 (500GB)", "Seagate Barracuda 7200.14 (1TB)")
    same = levels_of("WD Red 1TB NAS drive", "WD Red 1000GB NAS drive")
    cached = levels_of("WD Blue 1TB 64MB cache", "WD Blue 2000GB 64MB cache")
    assert other["capacity"] == cached["capacity"] == LEVELS["capacity"].index("conflict")
    assert same["capacity"] == LEVELS["capacity"].index("agree")


def test_exact_code_raises_the_score():
    with_code = levels_of("Acme game controller WX-4410 black", "Acme wireless pad WX4410")
    without = levels_of("Acme game controller black", "Acme wireless pad")
    assert with_code["code"] == LEVELS["code"].index("exact")
    model = bundled_model()
    assert model.posterior(with_code) > 0.5 > model.posterior(without)


def test_conflicting_codes_and_colours_are_strong_negatives():
    assert posterior("Sony Bravia KDL-46V3000 LCD TV", "Sony Bravia KDL-40V3000 LCD TV") < 0.05
    same = posterior("Acme TrailRunner 5 running shoe blue", "Acme TrailRunner 5 running shoe blue")
    other = posterior("Acme TrailRunner 5 running shoe blue", "Acme TrailRunner 5 running shoe red")
    assert same > 0.5 > other


def test_colourways_are_compared_in_any_language():
    """A colourway names the product (shoes, watches): the same colours written in French and English
    agree, another colourway in German conflicts, some colours shared is its own level."""
    same = levels_of("Nike Tiempo Legend V FG - Bleu/Blanc/Volt/Noir",
                     "Nike Tiempo Legend V FG - Blue/White/Volt/Black")
    other = levels_of("Nike Air Zoom Pegasus 33 - Schwarz", "Nike Air Zoom Pegasus 33 - White")
    some = levels_of("Nike Air Zoom Pegasus 33 - White/Pink", "Nike Air Zoom Pegasus 33 - Black/White")
    assert same["colour"] == LEVELS["colour"].index("same")
    assert other["colour"] == LEVELS["colour"].index("conflict")
    assert some["colour"] == LEVELS["colour"].index("overlap")
    model = bundled_model()
    assert model.posterior(same) > 0.5 > model.posterior(other)
    assert model.posterior(some) < model.posterior(same)


def test_a_colourway_named_in_part_is_a_subset_not_a_conflict():
    """One shop lists the main colours of a colourway, another all of them (crimson and anthracite in
    Italian and Spanish): a subset says less against the pair than colours each side has alone."""
    subset = levels_of("Nike Magista Obra II FG - Nero/Cremisi", "Nike Magista Obra II FG - Negro/Carmesí/Antracita")
    some = levels_of("Nike Magista Obra II FG - Nero/Cremisi", "Nike Magista Obra II FG - Negro/Antracita")
    assert subset["colour"] == LEVELS["colour"].index("subset")
    assert some["colour"] == LEVELS["colour"].index("overlap")
    model = bundled_model()
    assert model.posterior(some) < model.posterior(subset)


def test_an_accessory_for_a_model_is_not_that_model():
    """A charger "for HERO4" names the camera it fits: against the camera it is an accessory level and
    a lower score; two chargers for it are not."""
    camera = "GoPro HERO4 Black"
    charger = "GoPro Dual Battery Charger (for HERO4) AHBBP-401"
    accessory = levels_of(camera, charger)
    assert accessory["fits"] == LEVELS["fits"].index("accessory")
    assert levels_of(charger, "GoPro Dual Battery Charger for HERO4")["fits"] == 0
    assert bundled_model().posterior(accessory) < bundled_model().posterior({**accessory, "fits": 0})


def test_a_boot_on_another_sole_is_another_product():
    """Football boots: the same model for firm and for soft ground are two products, in any language the
    shops name the sole; the same sole written two ways agrees."""
    same = levels_of("Nike Tiempo Legend VI FG - Black/White", "Nike Tiempo Legend VI Firm Ground - Schwarz/Weiss")
    other = levels_of("Nike Tiempo Legend VI FG - Black/White", "Nike Tiempo Legend VI SG-Pro - Black/White")
    italian = levels_of("Nike Magista Obra Terreni Compatti - Nero", "Nike Magista Obra Terreni Morbidi - Nero")
    assert same["sole"] == LEVELS["sole"].index("same")
    assert other["sole"] == italian["sole"] == LEVELS["sole"].index("conflict")
    assert levels_of("Nike Tiempo Legend VI", "Nike Tiempo Legend VI FG")["sole"] == 0
    model = bundled_model()
    assert model.posterior(other) < 0.5 < model.posterior(same)


def test_lenses_apertures_and_bodies():
    """Cameras and lenses: a body sold alone is not the kit with a zoom, another aperture or set of focal
    lengths is another lens or kit; the same focal length and aperture written two ways agree."""
    kit = levels_of("Sony Alpha a6000 Mirrorless Camera - Body only",
                    "Sony Alpha a6000 Mirrorless Camera with 16-50mm Lens")
    aperture = levels_of("Canon EF 100mm f/2.8 Macro USM Lens", "Canon EF 100mm f/4 Macro USM Lens")
    lenses = levels_of("Sony a6000 with 16-50mm and 55-210mm Lenses", "Sony a6000 with 16-50mm Lens")
    same = levels_of("Sigma 18-250mm F3.5-6.3 DC Macro OS HSM", "Sigma 18–250 mm f/3.5–6.3 DC OS HSM Macro")
    assert levels_of("Canon EF-S 55-250mm f4.0-5.6 IS", "Canon EF-S 55-250mm f/4-5.6 IS")["lens"] == 1
    # a maker's letter after the aperture (Nikon's G, Canon's L) and a range without a decimal
    # a zoom's range written as its two ends agrees with the range, in the lens and the numbers levels
    apart = levels_of("Canon EF 24-70mm f/4L IS USM Zoom Lens", "Canon EF zoom lens - 24 mm 70 mm")
    assert apart["lens"] == 1 and apart["numbers"] == 1
    assert levels_of("Canon EF 24-105mm f/4L Lens", "Canon EF zoom lens - 24 mm 70 mm")["numbers"] == 2
    nikkor = levels_of("AF-S 28-300mm f/3.5-5.6G ED VR", "Nikkor AF-S 28-300mm f3.5-5.6G ED VR")
    assert nikkor["lens"] == 1 and nikkor["numbers"] == 1
    assert levels_of("Sigma 10-20mm f4-5.6 EX DC HSM", "Sigma 10-20mm f/3.5 EX DC HSM")["lens"] == 3
    assert kit["lens"] == LEVELS["lens"].index("body-kit")
    assert aperture["lens"] == lenses["lens"] == LEVELS["lens"].index("differ")
    assert same["lens"] == LEVELS["lens"].index("same")
    model = bundled_model()
    for pair in (kit, aperture, lenses):
        assert model.posterior(pair) < model.posterior({**pair, "lens": 0})


def test_another_number_after_the_same_name_word_is_another_model():
    """Versions: "Pegasus 33" and "Pegasus 34" are two models; the same number, or a number after a word
    only one name has (or a measure, a page of the shop), says nothing."""
    other = levels_of("Nike Air Zoom Pegasus 33 - Black/White", "Nike Air Zoom Pegasus 34 - Black/White")
    same = levels_of("Nike Air Zoom Pegasus 33 - Black/White", "Nike Zoom Pegasus 33 Running - Black/White")
    assert other["version"] == LEVELS["version"].index("conflict") and same["version"] == 0
    assert levels_of("Kingston stick 64 GB - Page 7", "Kingston stick 128 GB - Page 9")["version"] == 0
    assert levels_of("Nike Air Max 90", "Nike Free Run 5")["version"] == 0
    model = bundled_model()
    assert model.posterior(other) < model.posterior({**other, "version": 0}) - 0.2


def test_marks_plus_versions_and_glued_numbers_are_versions():
    """A roman mark is a version ("Mark II" against "Mark IV"; "Mark II" is "Mark 2"), a "+" is another
    version (HERO3+ against HERO3), a number glued to a word is the same version as written apart."""
    marks = levels_of("Canon EOS 5D Mark IV Body", "Canon EOS 5D Mark II body only")
    plus = levels_of("GoPro HD Hero 3+ Black Edition", "GoPro HERO3: Black Edition Camera")
    assert marks["version"] == plus["version"] == LEVELS["version"].index("conflict")
    assert levels_of("Canon EOS 5D Mark II", "Canon 5D Mark 2")["version"] == 0
    assert levels_of("GoPro HERO4 Black", "GoPro Hero 4 Black Edition")["version"] == 0
    assert levels_of("Battery for HERO3+ and HERO3", "GoPro HERO3+ Battery")["version"] == 0
    assert levels_of("Sony RX100 III", "Sony RX100 II")["version"] == LEVELS["version"].index("conflict")
    model = bundled_model()
    assert model.posterior(plus) < model.posterior({**plus, "version": 0}) - 0.2


def test_a_lens_for_another_mount_is_another_lens():
    """A lens maker's lens for Sony is not the same lens for Nikon; makers are read only where the text
    names a focal length, and one maker in common says nothing."""
    other = levels_of("Sigma 4.5mm f/2.8 EX DC Circular Fisheye HSM (Sony Alpha)",
                      "Sigma 4.5mm F2.8 EX DC Circular Fisheye HSM (Nikon)")
    assert other["mount"] == LEVELS["mount"].index("conflict")
    assert levels_of("Sigma 10-20mm f/3.5 for Canon", "Sigma 10-20mm f/3.5 lens for Canon EOS")["mount"] == 0
    assert levels_of("Sigma 10-20mm for Nikon & Fuji SLR", "Sigma 10-20mm (Fuji)")["mount"] == 0
    assert levels_of("Battery for Canon cameras", "Battery for Nikon cameras")["mount"] == 0
    model = bundled_model()
    assert model.posterior(other) < model.posterior({**other, "mount": 0}) - 0.2


def test_a_child_s_or_another_gender_s_version_is_another_product():
    """Audience: a junior boot is not the adult one, a women's shoe not the men's (in any of the catalogues'
    languages); a side that names no wearer says nothing."""
    kids = levels_of("Nike Enfant Hypervenom Phantom II FG - Volt/Noir", "Nike Hypervenom Phantom II FG - Volt/Noir")
    gender = levels_of("ASICS GT-2000 5 Lite-Show Damen", "ASICS GT-2000 5 Lite-Show Men's Road Running Shoes")
    assert kids["audience"] == LEVELS["audience"].index("kids")
    assert gender["audience"] == LEVELS["audience"].index("gender")
    assert levels_of("Puma Junior evoPOWER 4.3 FG", "Puma evoPOWER 4.3 FG Bambino")["audience"] == 0
    assert levels_of("Seiko Herrenuhr SNK809", "Seiko SNK809 automatic")["audience"] == 0
    assert levels_of("Unisex Uhr Damen Herren", "Watch for women")["audience"] == 0
    model = bundled_model()
    for pair in (kids, gender):
        assert model.posterior(pair) < model.posterior({**pair, "audience": 0}) - 0.1


def test_different_given_brands_lower_the_score():
    agree = posterior("Stout imperial 10%", "Stout imperial 10%", brand="Ridge Brewing")
    ta = listing_text("Stout imperial 10%", brand="Ridge Brewing")
    tb = listing_text("Stout imperial 10%", brand="Valley Ales")
    conflict = {"title": TITLE_LEVEL, **text_levels(ta, tb, *idf_tables([ta, tb])).levels}
    assert conflict["brand"] == LEVELS["brand"].index("given-conflict")
    assert bundled_model().posterior(conflict) < agree


def test_waterfall_adds_up_to_the_logit():
    model = bundled_model()
    lv = levels_of("Nikon D750 body 24MP", "Nikon D750 DSLR camera body")
    steps = model.waterfall(lv)
    assert steps[0].level == "prior" and steps[0].weight == model.intercept
    assert [s.level for s in steps[1:]] == active_levels(lv)
    assert sum(s.weight for s in steps) == pytest.approx(model.logit(lv))
    assert any("&" in s.level for s in steps)  # joint levels are part of it


def test_title_levels():
    assert title_level(None) == 0
    assert LEVELS["title"][title_level(0.2)] == "<0.50"
    assert LEVELS["title"][title_level(0.93)] == ">=0.93"
    assert LEVELS["title"][title_level(1.2)] == ">=0.93"


def test_bundled_model_matches_its_feature_space():
    data = json.loads(MODEL_FILE.read_text())
    assert set(data["weights"]) == set(feature_names()), "level_model.json names levels the code does not have"
    assert data["source"].startswith("python -m evaluation.fit_level_model")
    model = MatchModel.from_dict(data)
    again = MatchModel.from_dict(model.to_dict())
    assert again.weights == model.weights and again.intercept == model.intercept and again.joint == list(JOINT)
    rows = [levels_of("Acme X-200 kettle 1.7 l", "Acme X200 kettle 1.7l"), {k: 0 for k in LEVELS}]
    X = design(rows)
    assert X.shape == (2, len(feature_names())) and X[1].sum() == 0
    # the design's columns are the waterfall's levels: the logit is the intercept plus X @ weights
    weights = [model.weights[n] for n in feature_names()]
    assert model.intercept + X[0] @ weights == pytest.approx(model.logit(rows[0]))


def test_unknown_comparison_is_refused():
    with pytest.raises(ValueError, match="unknown comparison"):
        MatchModel(0.0, {}, comparisons=["title", "smell"])


def test_a_comparison_of_a_joint_level_is_fitted_again_with_its_joint_levels():
    """fit_level_model --added with a comparison that takes part in joint levels (tokens: title&tokens): its
    single and joint weights are dropped and fitted again, every other weight (code&numbers, ...) as it was."""
    from evaluation.fit_level_model import added_features, fit_added, without

    base = without(bundled_model(), ["tokens"])
    assert not any(part.startswith("tokens=") for n in base.weights for part in n.split("&"))
    assert "title=>=0.93&tokens=>=0.80" in added_features(["tokens"])
    assert not any(n.startswith("code=") for n in added_features(["tokens"]))
    pairs = [{"title": 5, "tokens": t, "code": 7} for t in (1, 5)] * 50
    labels = np.array([0, 1] * 50)  # here only many shared words make a match
    refit = fit_added({"made-up": (pairs, labels)}, base, ["tokens"], C=1.0)
    assert refit.weights["tokens=>=0.80"] + refit.weights["title=0.85-0.93&tokens=>=0.80"] > \
        refit.weights["tokens=0.15-0.30"] + refit.weights["title=0.85-0.93&tokens=0.15-0.30"] + 1.0
    assert {n: w for n, w in refit.weights.items() if "tokens=" not in n} == base.weights
    assert refit.comparisons == bundled_model().comparisons


def test_a_changed_comparison_is_fitted_again_the_other_weights_kept():
    """fit_level_model --added with a comparison the model has: its old weights are dropped (`without`) and
    fitted again on the new levels, every other weight as it was."""
    from evaluation.fit_level_model import fit_added, without

    model = bundled_model()
    base = without(model, ["version"])
    assert "version" not in base.comparisons and not any(n.startswith("version=") for n in base.weights)
    pairs = [{"title": 5, "tokens": 4, "version": v} for v in (0, 1)] * 50
    labels = np.array([1, 0] * 50)  # another version is never the same product here
    refit = fit_added({"made-up": (pairs, labels)}, base, ["version"], C=1.0)
    assert refit.weights["version=conflict"] < -1.0
    assert {n: w for n, w in refit.weights.items() if not n.startswith("version=")} == base.weights
