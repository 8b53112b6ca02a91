"""The exact re-scoring's filter: a pair is looked at only where a nearby title band could move its decision."""
import itertools
import random

from simgov.matching.levels import LEVELS, MatchModel, bundled_model
from simgov.title_rescore import _band_shifts, band_reach


def test_band_reach_bounds_every_shift_of_the_bundled_model():
    """No pair's logit moves further than `band_reach` says when its title moves up to `bands` bands
    (every level of the comparisons the title is joint with, the other comparisons sampled)."""
    model = bundled_model()
    partners = sorted({c for pair in model.joint if "title" in pair for c in pair} - {"title"})
    rng = random.Random(1)
    for bands in (1, 2, 6):
        reach = band_reach(model, bands)
        worst = [0.0] * len(LEVELS["title"])
        for joint in itertools.product(*(range(len(LEVELS[c])) for c in partners)):
            for title in range(1, len(LEVELS["title"])):
                levels = {c: rng.randrange(len(LEVELS[c])) for c in LEVELS} | dict(zip(partners, joint))
                levels["title"] = title
                shifts = _band_shifts(model, levels)
                near = range(max(1, title - bands), min(len(LEVELS["title"]) - 1, title + bands) + 1)
                worst[title] = max(worst[title], *(abs(shifts[b]) for b in near))
        assert all(w <= r + 1e-9 for w, r in zip(worst, reach))
        assert max(worst) > 0.5 * max(reach)  # a bound, not a blanket


def test_band_reach_of_a_model_without_joint_weights_is_the_title_weights_change():
    names = LEVELS["title"]
    weights = {f"title={names[b]}": w for b, w in zip(range(1, 7), [0.0, 1.0, 3.0, 2.0, 2.5, 2.5])}
    model = MatchModel(0.0, weights, joint=[])
    assert band_reach(model, 1).tolist() == [0.0, 1.0, 2.0, 2.0, 1.0, 0.5, 0.0]
