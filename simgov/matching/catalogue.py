"""The index's own match model: the bundled level model adapted to one catalogue by EM (issue 15).

The self-join (`SimIndex.pairs`) decides each candidate pair with the level model of
`simgov.matching.levels`: the pair's comparison levels (title cosine band, the text signal's levels
read from the stored records under the index's word weights) give the bundled model's logit `z`.
What differs between catalogues is how many candidate pairs are matches and how much the
one-to-one structure of listings across shops says, so those are fitted on the index's own
candidate pairs, without labels, by EM (`fit_catalogue`), as Splink estimates its m-probabilities:

* the match rate among cross-seller candidate pairs: the bundled prior (the development sets' rate)
  is moved to it; at most `RATE_CEILING` times the share of mutual-best pairs, as a listing has
  about one match in each other seller's shop (without a ceiling EM can call every candidate a
  match where the levels call most of them alike);
* the mutual-best comparison (the pair is each listing's best candidate within the other's seller):
  its m and u probabilities, with Beta priors of `PRIOR_PAIRS` pairs at m = 0.8 and u = 0.2, so that a
  small catalogue stays near them;
* the levels' weights stay the bundled ones (fixed evidence): they were fitted jointly on labels;
* investigator verdicts on candidate pairs are labels: a confirmed pair counts as a match, a
  rejected one as none, in every EM step.

Who is whose best is decided on `rank_scores`: the level logit plus the title and text signals'
continuous scores (`RANK_SLOPE` logits per unit). Ranking on the banded logit alone ties many
candidates, and a tie picks the first listing, not the right one: on Abt-Buy 974 of the 990
mutual-best pairs were matches ranked so, 998 of 1004 with the scores added (any slope from 3 to 20
gave 994 to 1001).

The fit is made when the index is built and kept in the manifest with its generation
(`SimIndex.fit_match_model`; a `pairs` run on a generation without one fits on its own candidate
pairs); `simgov model --index IDX` shows it.
"""
from __future__ import annotations

import math
import pickle
from dataclasses import asdict, dataclass, fields
from typing import Mapping

import numpy as np

from ..schema import Item
from ..signals.text.levels import Lens, ListingText, listing_text, prepared_text, text_levels
from ..signals.text.profile import TitleProfile
from .levels import MatchModel, title_level

#: Logits per unit of the title and text signals' scores added to the level logit to rank candidates.
RANK_SLOPE = 5.0
#: The match rate is at most this many times the share of mutual-best pairs (or the bundled prior).
RATE_CEILING = 2.0
#: Strength of the Beta priors on the mutual-best m and u probabilities, in pairs.
PRIOR_PAIRS = 100.0
#: Where those priors are centred: the mutual-best weight of a catalogue that says nothing new.
PRIOR_M, PRIOR_U = 0.8, 0.2
EM_ITERATIONS = 500
#: Above this many listings a build keeps no fit: the self-join it needs would cost more than the rest of a
#: title-only build (357 of 425 s in a profiled 20k build); `pairs` fits on its own candidates at no extra search.
FIT_AT_BUILD_MAX_ITEMS = 10_000
#: The text of a listing whose stored record could not be read: every level says nothing.
_NO_TEXT = listing_text("")


@dataclass(frozen=True)
class CatalogueFit:
    """What EM learnt on one catalogue's candidate pairs. A pair's logit is the bundled level
    logit, plus `prior_shift` (the catalogue's match rate instead of the development sets'), plus
    `mutual_yes` or `mutual_no` (the pair is mutual best or not; only where both titles are there)."""

    match_rate: float
    prior_shift: float
    mutual_m: float
    mutual_u: float
    mutual_yes: float
    mutual_no: float
    pairs: int
    mutual_pairs: int
    iterations: int
    prior_pairs: float = PRIOR_PAIRS
    #: pairs whose investigator verdict (confirmed or rejected) stood for their posterior
    verdicts: int = 0

    @classmethod
    def from_dict(cls, d: Mapping) -> "CatalogueFit":
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})

    def to_dict(self) -> dict:
        return asdict(self)

    def logits(self, z: np.ndarray, mutual: np.ndarray, ranked: np.ndarray) -> np.ndarray:
        """The pairs' logits: `mutual` whether each is mutual best, `ranked` whether that says
        anything (both titles there: without them the rank is the level logit's prior alone)."""
        said = np.where(mutual, self.mutual_yes, self.mutual_no)
        return np.asarray(z, dtype=np.float64) + self.prior_shift + np.where(ranked, said, 0.0)

    def posteriors(self, z: np.ndarray, mutual: np.ndarray, ranked: np.ndarray) -> np.ndarray:
        return _sigmoid(self.logits(z, mutual, ranked))


def fit_catalogue(z: np.ndarray, mutual: np.ndarray, train_prior: float, *, labels: np.ndarray | None = None,
                  prior_pairs: float = PRIOR_PAIRS, m0: float = PRIOR_M, u0: float = PRIOR_U) -> CatalogueFit:
    """EM on a catalogue's cross-seller candidate pairs: `z` their bundled level logits (fixed
    evidence), `mutual` whether each is mutual best, `labels` what investigators said of some (1
    confirmed, 0 rejected, NaN no verdict: a verdict replaces the pair's posterior). Fits the match
    rate (at most RATE_CEILING times the mutual-best share) and the mutual-best m and u probabilities
    (Beta priors of `prior_pairs` pairs at m0, u0; m at least u)."""
    z = np.asarray(z, dtype=np.float64)
    mutual = np.asarray(mutual, dtype=bool)
    known = np.zeros(len(z), bool) if labels is None else ~np.isnan(labels)
    # about one match per listing in each other seller's shop (its mutual best), re-listings aside:
    # where the levels call most candidates alike, EM alone would let the rate run away to 1
    ceiling = max(RATE_CEILING * float(mutual.mean()) if len(z) else 1.0, train_prior)
    base = z - _logit(train_prior)  # the levels' evidence alone (log likelihood ratio)
    rate, m, u = train_prior, m0, u0
    done = 0
    for done in range(1, EM_ITERATIONS + 1):
        posterior = _sigmoid(base + _logit(rate) + np.where(mutual, math.log(m / u), math.log((1 - m) / (1 - u))))
        if known.any():
            posterior[known] = labels[known]
        new_rate = min(float(posterior.mean()), ceiling) if len(posterior) else rate
        m = (posterior[mutual].sum() + prior_pairs * m0) / (posterior.sum() + prior_pairs)
        u = ((1 - posterior)[mutual].sum() + prior_pairs * u0) / ((1 - posterior).sum() + prior_pairs)
        if u > m:  # mutual best never counts against a pair: at worst it says nothing
            m = u = (m + u) / 2
        converged = abs(new_rate - rate) < 1e-9
        rate = min(max(new_rate, 1e-6), 1 - 1e-6)
        if converged:
            break
    return CatalogueFit(match_rate=rate, prior_shift=_logit(rate) - _logit(train_prior), mutual_m=float(m),
                        mutual_u=float(u), mutual_yes=math.log(m / u), mutual_no=math.log((1 - m) / (1 - u)),
                        pairs=len(z), mutual_pairs=int(mutual.sum()), iterations=done, prior_pairs=prior_pairs,
                        verdicts=int(known.sum()))


def listing_texts(items: Mapping[int, Item]) -> dict[int, ListingText]:
    """Each stored listing's text as the levels read it, by vec_id."""
    return {v: listing_text(x.title, brand=x.brand, description=x.description, attributes=x.attributes)
            for v, x in items.items()}


def pack_text(text: ListingText) -> bytes:
    """One listing's text as bytes (about 200), for a pool process: a self-join makes each listing's
    text once and sends it with every chunk that needs it, instead of each chunk making it again."""
    full = _profile_fields(text.full)
    name = None if text.name_profile == text.full else _profile_fields(text.name_profile)
    lens = (tuple(text.lens.focal), tuple(text.lens.apertures), text.lens.body, tuple(text.lens.mounts))
    return pickle.dumps((full, name, text.name, tuple(text.words), tuple(text.soles), lens, tuple(text.versions)),
                        protocol=pickle.HIGHEST_PROTOCOL)


def unpack_text(blob: bytes) -> ListingText:
    """`pack_text`'s listing text, equal to the one packed."""
    full, name, head, words, soles, (focal, apertures, body, mounts), versions = pickle.loads(blob)
    full_profile = TitleProfile(*full)
    return ListingText(full_profile, full_profile if name is None else TitleProfile(*name), head, frozenset(words),
                       frozenset(soles), Lens(frozenset(focal), frozenset(apertures), body, frozenset(mounts)),
                       frozenset(versions))


def _profile_fields(profile: TitleProfile) -> tuple:
    return tuple(getattr(profile, f.name) for f in fields(TitleProfile))


def level_logits(model: MatchModel, texts: Mapping[int, ListingText], pairs: list[tuple[int, int]],
                 title_scores: np.ndarray, idf: Mapping[str, float] | None, *,
                 text_scores: np.ndarray | None = None) -> np.ndarray:
    """The bundled level model's logit of each pair (a, b) of listings: the title signal's score
    (NaN: a side has no title) gives the title band, the texts their levels under `idf`.
    `text_scores`, when given, receives each pair's comparison of the whole texts (its score), which
    is the text signal's score wherever both stored profiles are the texts' `full` ones."""
    out = np.empty(len(pairs), dtype=np.float64)
    logits: dict[tuple, float] = {}  # few level combinations recur: each one's logit summed once
    ready: dict[int, tuple] = {}  # each listing's texts made ready once for all its pairs
    for i, (a, b) in enumerate(pairs):
        cosine = float(title_scores[i])
        text_a, text_b = texts.get(a, _NO_TEXT), texts.get(b, _NO_TEXT)
        if a not in ready:
            ready[a] = prepared_text(text_a, idf, idf)
        if b not in ready:
            ready[b] = prepared_text(text_b, idf, idf)
        text = text_levels(text_a, text_b, idf, idf, (ready[a], ready[b]))
        levels = {"title": title_level(None if cosine != cosine else cosine), **text.levels}
        key = tuple(levels.items())
        z = logits.get(key)
        if z is None:
            z = logits[key] = model.logit(levels)
        out[i] = z
        if text_scores is not None:
            text_scores[i] = text.comparison.score
    return out


def rank_scores(z: np.ndarray, title: np.ndarray, text: np.ndarray) -> np.ndarray:
    """The score candidates are ranked by for mutual best: the level logit, the signals' continuous
    scores (NaN: absent, adds nothing) breaking its ties and moving pairs within a band."""
    return np.asarray(z, dtype=np.float64) + RANK_SLOPE * (np.nan_to_num(title) + np.nan_to_num(text))


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))
