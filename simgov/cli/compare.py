"""`simgov compare` (two listings that need not be indexed, or a file of pairs) and `simgov model`
(the level match model's weights)."""
from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from pydantic import ValidationError

from ..compare import Comparer, Listing
from ..errors import SimgovError
from ..index import SimIndex
from ..matching.catalogue import CatalogueFit
from ..matching.levels import LEVELS, MatchModel, bundled_model
from ..schema import MAX_LINE_BYTES, json_shape_problem
from .common import open_index, table, where, writer

#: Pairs decided together: their names are encoded in one batch.
CHUNK = 2048


def register(sub) -> None:
    p = sub.add_parser("compare", help="decide whether two listings are the same merchandise (need not be indexed)",
                       description="simgov compare A.json B.json [--json], or simgov compare --pairs F --out F; "
                                   "picture paths are relative to the folder of the file that names them")
    p.add_argument("files", nargs="*", type=Path, metavar="FILE", help="two files, one item record (JSON) each")
    p.add_argument("--pairs", type=Path, help='JSON Lines of {"a": item, "b": item}')
    p.add_argument("--out", type=Path, help="with --pairs: output file (JSON Lines or .csv); - for standard output")
    p.add_argument("--index", type=Path, help="index folder: its title model and word weights (default: the "
                                              "bundled model, word weights from the listings compared)")
    p.add_argument("--json", action="store_true", help="the decision as a JSON record instead of text")
    p.set_defaults(handler=cmd_compare, usage_error=p.error)

    p = sub.add_parser("model", help="the level match model: each comparison's levels and their match weights")
    p.add_argument("--index", type=Path, help="index folder: also its own fitted match model, and how many of its "
                                              "candidate pairs fall in each level (and are matches)")
    p.add_argument("--plot", type=Path, help="also draw the weights into this PNG file (needs matplotlib)")
    p.set_defaults(handler=cmd_model)


def comparer(index_folder: Path | None) -> Comparer:
    return Comparer.for_index(open_index(index_folder)) if index_folder else Comparer.bundled()


def cmd_compare(args) -> int:
    if args.pairs is not None:
        if args.files or args.out is None:
            args.usage_error("--pairs takes no FILE arguments and needs --out")
        return compare_pairs(args.pairs, args.out, args.index)
    if len(args.files) != 2 or args.out is not None:
        args.usage_error("give two files (A.json B.json), or --pairs F --out F")
    a, b = (read_listing(f) for f in args.files)
    result = comparer(args.index).compare(a, b, [f.resolve().parent for f in args.files])
    for problem in result.problems:
        print(f"warning: {problem}", file=sys.stderr)
    if args.json:
        print(json.dumps(result.record(), ensure_ascii=False, indent=2))
        return 0
    print(f"score {result.score:.4f}  match {'yes' if result.match else 'no'}  relation {result.relation}")
    print("signals: " + (" ".join(f"{k}={v:.2f}" for k, v in result.signals.items()) or "none"))
    for line in result.evidence:
        print(f"  - {line}")
    print(table([[s.level, f"{s.weight:+.3f}"] for s in result.waterfall], ["level", "weight (log odds)"]))
    return 0


def read_listing(path: Path) -> Listing:
    """One item record from a JSON file, its picture paths made relative to the file's folder."""
    try:
        data = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SimgovError(f"{path}: not a JSON item record ({exc})") from None
    return listing(data, path.resolve().parent, str(path))


def listing(data, folder: Path, where_from: str) -> Listing:
    if not isinstance(data, dict):
        raise SimgovError(f"{where_from}: an item record must be a JSON object")
    problem = json_shape_problem(data)
    if problem:
        raise SimgovError(f"{where_from}: {problem}")
    try:
        item = Listing.model_validate(data)
    except ValidationError as exc:
        reasons = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'record'}: {e['msg']}" for e in exc.errors()[:5])
        raise SimgovError(f"{where_from}: not an item record ({reasons})") from None
    item.images = [p if Path(p).is_absolute() else str(folder / p) for p in item.images]
    return item


def _pair(raw: bytes, number: int, folder: Path) -> tuple[Listing, Listing]:
    """One line of a pairs file, or SimgovError saying what is wrong with it."""
    where_from = f"line {number}"
    if len(raw) > MAX_LINE_BYTES:
        raise SimgovError(f"{where_from}: longer than {MAX_LINE_BYTES} bytes")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SimgovError(f"{where_from}: not JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("a"), dict) or not isinstance(data.get("b"), dict):
        raise SimgovError(f'{where_from}: expected {{"a": item, "b": item}}')
    return listing(data["a"], folder, f"{where_from}, a"), listing(data["b"], folder, f"{where_from}, b")


def compare_pairs(path: Path, out: Path, index_folder: Path | None) -> int:
    """Every line decided, in input order; a bad line gets an error record in its place. Without an
    index, the word weights are those of all the file's listings."""
    folder = path.resolve().parent
    lines: list[tuple[int, tuple[Listing, Listing] | str]] = []
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                lines.append((number, _pair(raw, number, folder)))
            except SimgovError as exc:
                lines.append((number, str(exc)))
    good = [(n, p) for n, p in lines if not isinstance(p, str)]
    decider = comparer(index_folder)
    if index_folder is None and good:
        decider.idf = decider.population_idf([x for _, pair in good for x in pair])
    decided = {}
    for start in range(0, len(good), CHUNK):
        part = good[start:start + CHUNK]
        for (number, _), result in zip(part, decider.compare_many([p for _, p in part], [folder])):
            decided[number] = result
    fh, write = writer(out)
    matches = 0
    with fh:
        for number, pair in lines:
            if isinstance(pair, str):
                write({"line": number, "error": pair})
                continue
            result = decided[number]
            matches += result.match
            write({"line": number, **result.record()})
    bad = sum(isinstance(p, str) for _, p in lines)
    print(f"{len(good)} pairs compared ({matches} matches), {bad} bad lines; written to {where(out)}", file=sys.stderr)
    return 0


def cmd_model(args) -> int:
    model = bundled_model()
    index = open_index(args.index) if args.index else None
    counts, matches = level_counts(index) if index is not None else (None, None)
    headers = ["comparison", "level", "weight"] + (["matches", "pairs"] if counts is not None else [])
    rows = []
    for comparison, level, weight in model.table():
        row = [comparison, level, f"{weight:+.3f}"]
        if counts is not None:
            row += [str(matches.get((comparison, level), 0)), str(counts.get((comparison, level), 0))] \
                if comparison in LEVELS else ["", ""]
        rows.append(row)
    print(f"intercept {model.intercept:+.3f} (log odds); {model.source}")
    print(table(rows, headers))
    if index is not None:
        print(index_model_lines(index, model))
    if args.plot:
        plot_weights(model, args.plot)
        print(f"weights drawn into {args.plot}", file=sys.stderr)
    return 0


def index_model_lines(index: SimIndex, model: MatchModel) -> str:
    """The index's own match model (simgov.matching.catalogue) in words: what EM fitted on its
    candidate pairs on top of the bundled weights above."""
    fit, kept = index.catalogue_fit(), True
    if fit is None:
        record, kept = index.fit_match_model(), False
        if record is None:
            return ("index match model: none kept with this generation (too many listings to fit at build time); "
                    "each `simgov pairs` run fits one on its own candidate pairs")
        fit = CatalogueFit.from_dict(record)
    where = "kept with the index's generation" if kept else "fitted now: none was kept with this generation"
    return "\n".join([
        f"index match model ({where}): EM on {fit.pairs} cross-seller candidate pairs, the levels' weights above "
        f"fixed, {fit.iterations} iterations",
        f"  match rate {fit.match_rate:.4f} (bundled {model.train_prior:.4f}): intercept "
        f"{model.intercept + fit.prior_shift:+.3f} ({fit.prior_shift:+.3f} on the bundled one)",
        f"  mutual best ({fit.mutual_pairs} pairs): m {fit.mutual_m:.4f} u {fit.mutual_u:.4f} -> "
        f"{fit.mutual_yes:+.3f} when mutual best, {fit.mutual_no:+.3f} when not "
        f"(Beta priors of {fit.prior_pairs:g} pairs at m 0.8, u 0.2)"])


def level_counts(index: SimIndex) -> tuple[Counter, Counter]:
    """How many of the index's candidate pairs (its `pairs` self-join) fall in each level, and how
    many of those the index decides are matches."""
    decider = Comparer.for_index(index)
    counts: Counter = Counter()
    matches: Counter = Counter()
    batch: list[tuple[Listing, Listing]] = []
    decided: list[bool] = []

    def flush() -> None:
        for result, match in zip(decider.compare_many(batch, index.data_roots()), decided):
            levels = [(k, LEVELS[k][v]) for k, v in result.levels.items()]
            counts.update(levels)
            if match:
                matches.update(levels)
        batch.clear()
        decided.clear()

    cache: dict[str, Listing] = {}

    def stored(item_id: str) -> Listing:
        if item_id not in cache:
            cache[item_id] = Listing.model_validate(index.item(item_id).item.model_dump())
        return cache[item_id]

    for pair in index.pairs():
        batch.append((stored(pair.item_a), stored(pair.item_b)))
        decided.append(pair.match)
        if len(batch) >= CHUNK:
            flush()
    flush()
    return counts, matches


def plot_weights(model: MatchModel, out: Path) -> None:
    """A match-weights chart: one bar per level, grouped by comparison (joint levels left out)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SimgovError("--plot needs matplotlib (pip install matplotlib)") from None
    rows = [(f"{c}: {lv}", w) for c, lv, w in model.table() if c in LEVELS]
    fig, ax = plt.subplots(figsize=(7, 0.22 * len(rows) + 1))
    ax.barh(range(len(rows)), [w for _, w in rows], color=["tab:green" if w >= 0 else "tab:red" for _, w in rows])
    ax.set_yticks(range(len(rows)), [n for n, _ in rows], fontsize=7)
    ax.invert_yaxis()
    ax.axvline(0, color="black", linewidth=0.5)
    ax.set_xlabel("match weight (log odds)")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
