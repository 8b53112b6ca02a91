"""The lexical text signal, all of it in one place: what a listing's text identifies
(profile.py), the catalogue's token weights (idf.py), how two texts compare (compare.py), and the
signal that stores, searches and scores them (signal.py)."""
from .compare import Comparable, TextComparison, compare, compare_prepared
from .idf import IdfTable, build_idf
from .profile import TitleProfile, blocking_keys, code_keys, code_stem, profile
from .signal import TextSignal

__all__ = ["TextSignal", "TitleProfile", "profile", "blocking_keys", "code_keys", "code_stem", "IdfTable",
           "build_idf", "TextComparison", "Comparable", "compare", "compare_prepared"]
