"""The `simgov` command line (CONTRACT.md section 2). Only this module and the API print or log."""
from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from .errors import SimgovError  # noqa: E402
from .verdicts import Verdicts  # noqa: E402


def _index_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", required=True, type=Path, help="index folder")


def _table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def cmd_build(args) -> int:
    from tqdm import tqdm

    from simgov.build.local import REPORT, build
    from .config import Config

    accounts_file = getattr(args, "accounts", None)
    if args.items is None and accounts_file is None:
        print("simgov build: give --items F, --accounts F or both", file=sys.stderr)
        return 2
    config = Config.load(args.config) if args.config else None
    started_at = time.time()
    bar = tqdm(total=0, unit="row" if accounts_file else "item", desc="build", file=sys.stderr, disable=args.quiet,
               dynamic_ncols=True)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    try:
        if getattr(args, "engine", "local") == "ray":  # simgov/build/ray_engine.py; pip install 'simgov[ray]'
            from simgov.build.ray_engine import build as ray_build

            bar.unit = "chunk"
            result = ray_build(args.items, args.index, config, progress, accounts_file=accounts_file,
                               ray_address=args.ray_address, actors=args.ray_actors, shards_dir=args.ray_shards,
                               keep_shards=args.keep_shards, quiet=args.quiet)
        else:
            result = build(args.items, args.index, config, progress, accounts_file=accounts_file, workers=args.workers)
    finally:
        bar.close()
    if args.items is not None:
        print(f"{result.rows} items read: {result.encoded} encoded, {result.unchanged} unchanged; "
              f"{result.skipped_rows} rows skipped, {result.signal_problems} signal problems "
              f"({result.seconds:.1f} s, {result.rate:.0f} items/s encoded)", file=sys.stderr)
    problems = result.skipped_rows or result.signal_problems
    if result.accounts is not None:
        a = result.accounts
        print(f"{a.rows} accounts read: {a.encoded} encoded, {a.unchanged} unchanged; "
              f"{a.skipped_rows} rows skipped, {a.signal_problems} signal problems", file=sys.stderr)
        problems = problems or a.skipped_rows or a.signal_problems
    if problems:
        print(f"details: {args.index / REPORT}", file=sys.stderr)
    _report_bank_hits(args.index, started_at)
    return 0


def _report_bank_hits(folder: Path, since: float) -> None:
    """Listings this build wrote that match a known-bad bank, flagged at once (simgov/banks.py)."""
    from .store import Store

    store = Store(folder)
    try:
        rows = store.connection().execute(
            "SELECT h.item_id, h.bank, h.detail FROM bank_hits h JOIN items i ON i.item_id = h.item_id "
            "WHERE i.deleted=0 AND h.at>=? ORDER BY h.item_id, h.entry_id", (since,)).fetchall()
    finally:
        store.close()
    if rows:
        print(f"{len({r[0] for r in rows})} listings match a known-bad bank ({len(rows)} hits; "
              f"simgov banks hits --index {folder}):", file=sys.stderr)
        for item_id, bank, detail in rows[:20]:
            print(f"  {item_id}  [{bank}] {detail}", file=sys.stderr)


def _open(folder: Path):
    from .index import SimIndex

    return SimIndex.open(folder)


def _dense_backend(args) -> None:
    """--backend / --milvus-uri: set for this process and the API workers it starts."""
    from .vectors import BACKEND_ENV, MILVUS_URI_ENV

    if getattr(args, "backend", None):
        os.environ[BACKEND_ENV] = args.backend
    if getattr(args, "milvus_uri", None):
        os.environ[MILVUS_URI_ENV] = args.milvus_uri


def _backend_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", choices=["faiss", "milvus"],
                   help="where dense vectors are searched (default: the index's dense_backend, faiss)")
    p.add_argument("--milvus-uri", help="Milvus server (http://host:19530) or Milvus Lite file (*.db)")


def cmd_similar(args) -> int:
    _dense_backend(args)
    index = _open(args.index)
    signals = args.signals.split(",") if args.signals else None
    neighbours = index.similar(args.item_id, k=args.k, signals=signals, min_score=args.min_score)
    Verdicts(index).review_neighbours(args.item_id, neighbours)
    if args.json:
        print(json.dumps([n.model_dump() for n in neighbours], ensure_ascii=False, indent=2))
        return 0
    item = index.item(args.item_id).item
    print(f"{item.item_id}  seller {item.seller_id}  {item.title!r}")
    rows = [[n.item_id, n.seller_id, f"{n.score:.3f}", "yes" if n.match else "no", n.relation,
             " ".join(f"{k}={v:.2f}" for k, v in n.signals.items()), "; ".join(n.evidence)] for n in neighbours]
    print(_table(rows, ["item", "seller", "score", "match", "relation", "signals", "evidence"]))
    return 0


def cmd_linked(args) -> int:
    index = _open(args.index)
    found = index.accounts.linked(args.account_id, k=args.k, min_score=args.min_score)
    Verdicts(index).review_linked(args.account_id, found)
    if args.json:
        print(json.dumps([r.model_dump() for r in found], ensure_ascii=False, indent=2))
        return 0
    record = index.accounts.account(args.account_id).record
    names = ", ".join(record.get("identifier_names", [])) or "none"
    print(f"{args.account_id}  {record.get('display_name', '')!r}  handle {record.get('handle', '')!r}  identifiers: {names}")
    rows = [[r.account_id, f"{r.score:.3f}", "yes" if r.match else "no",
             "; ".join(e.detail for e in r.evidence if e.kind != "identifier_mismatch")] for r in found]
    print(_table(rows, ["account", "score", "match", "evidence"]))
    return 0


def cmd_rings(args) -> int:
    index = _open(args.index)
    say = (lambda msg: None) if args.quiet else (lambda msg: print(f"rings: {msg}", file=sys.stderr))
    result = index.accounts.rings(progress=say)
    _write_all(args.out, (group.model_dump(exclude_none=True) for group in result.groups))
    members = sum(len(g.members) for g in result.groups)
    print(f"{len(result.groups)} rings ({members} accounts) written to {args.out}; {result.accounts} accounts, "
          f"{result.candidates} candidate pairs scored", file=sys.stderr)
    if args.pairs_out:
        _write_all(args.pairs_out, (pair.model_dump() for pair in result.pairs))
        print(f"{len(result.pairs)} account pairs written to {args.pairs_out} "
              f"({sum(p.match for p in result.pairs)} in one ring)", file=sys.stderr)
    return 0


def cmd_duplicates(args) -> int:
    from .detectors.duplicates import duplicate_groups

    groups = duplicate_groups(_open(args.index))
    _write_all(args.out, (group.model_dump(exclude_none=True) for group in groups))
    kinds = {k: sum(g.kind == k for g in groups) for k in ("same_seller_relisting", "cross_seller_copy")}
    print(f"{len(groups)} duplicate groups written to {args.out} ({kinds['same_seller_relisting']} same-seller "
          f"re-listings, {kinds['cross_seller_copy']} cross-seller copies)", file=sys.stderr)
    return 0


def cmd_counterfeits(args) -> int:
    from .detectors.counterfeits import authorizations, counterfeit_suspects

    index = _open(args.index)
    suspects = counterfeit_suspects(index, authorizations(index))
    _write_all(args.out, (suspect.model_dump() for suspect in suspects))
    print(f"{len(suspects)} counterfeit suspects written to {args.out}", file=sys.stderr)
    return 0


def _writer(path: Path):
    """A record sink by file ending: .csv or JSON Lines."""
    import csv

    fh = open(path, "w", encoding="utf-8", newline="")
    if path.suffix.lower() == ".csv":
        writer = None

        def write(record: dict) -> None:
            nonlocal writer
            flat = {k: (json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v) for k, v in record.items()}
            if writer is None:
                writer = csv.DictWriter(fh, fieldnames=list(flat))
                writer.writeheader()
            writer.writerow(flat)
    else:
        def write(record: dict) -> None:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return fh, write


def _write_all(path: Path, records) -> None:
    """Every record into `path` (.csv or JSON Lines)."""
    fh, write = _writer(path)
    with fh:
        for record in records:
            write(record)


def cmd_pairs(args) -> int:
    index = _open(args.index)
    fh, write = _writer(args.out)
    count = matches = 0
    with fh:
        pairs = index.pairs(min_score=args.min_score, cross_seller_only=args.cross_seller_only, k=args.k,
                            workers=args.workers)
        for pair in Verdicts(index).review_pairs(pairs):
            write(pair.model_dump())
            count += 1
            matches += pair.match
    print(f"{count} pairs written to {args.out} ({matches} matches)", file=sys.stderr)
    return 0


def cmd_eval(args) -> int:
    from .evaluation import best_f1, metrics, plot_pr, read_gold, read_predictions

    gold = read_gold(args.gold)
    decisions = list(read_predictions(args.pairs))
    result = metrics({d.pair for d in decisions if d.match}, gold)
    tuned, at = best_f1(decisions, gold)
    report = {"match_decisions": result.to_dict(), "best_f1_over_thresholds": round(tuned, 4),
              "best_threshold": round(at, 4), "scored_pairs": len(decisions)}
    if args.plot:
        plot_pr(decisions, gold, args.plot, title=args.pairs.name)
        report["plot"] = str(args.plot)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        m = result
        print(f"precision {m.precision:.4f}  recall {m.recall:.4f}  F1 {m.f1:.4f}  "
              f"(TP {m.true_positives}, FP {m.false_positives}, FN {m.false_negatives}; {m.gold} gold pairs)")
        print(f"best F1 over score thresholds: {tuned:.4f} at {at:.4f}")
        if args.plot:
            print(f"precision-recall curve: {args.plot}")
    return 0


def cmd_demo(args) -> int:
    from .demo import generate_marketplace

    out = args.out
    print(f"generating the demo marketplace in {out} ...", file=sys.stderr)
    market = generate_marketplace(out, seed=args.seed)
    print(f"{market}", file=sys.stderr)
    # through the parser, so the demo's build gets every default of `simgov build`
    cmd_build(parser().parse_args(["build", "--items", str(market.items_file), "--accounts", str(market.accounts_file),
                                   "--index", str(out / "index")]))
    index = _open(out / "index")
    planted = json.loads(Path(market.planted_file).read_text())
    examples = []
    for key in ("cross_seller_copies", "same_seller_duplicates"):
        groups = planted.get(key) or []
        if groups:
            first = groups[0]
            examples.append(first[0] if isinstance(first, list) else (first.get("members") or first.get("item_ids"))[0])
    for item_id in examples:
        print(f"\n$ simgov similar {item_id} --index {out / 'index'} -k 5")
        cmd_similar(parser().parse_args(["similar", item_id, "--index", str(out / "index"), "-k", "5"]))
    print(f"\nplanted cases: {market.planted_file}\nnext: simgov pairs --index {out / 'index'} --cross-seller-only "
          f"--out pairs.jsonl", file=sys.stderr)
    from .keys import KeyStore

    key, _ = KeyStore(index.store).create("investigator", "simgov demo")
    index.close()
    print(f"\ninvestigator console: http://{args.host}:{args.port}/ui\ninvestigator key (shown once): {key}")
    if not args.no_serve:
        serve(out / "index", args.host, args.port)
    return 0


def _index_dir(args) -> Path:
    """--index, else $SIMGOV_INDEX; an index must exist there."""
    from .index import read_manifest

    folder = args.index or (Path(os.environ["SIMGOV_INDEX"]) if os.environ.get("SIMGOV_INDEX") else None)
    if folder is None:
        raise SimgovError("no index folder: give --index DIR or set SIMGOV_INDEX")
    if read_manifest(folder) is None:
        raise SimgovError(f"no simgov index in {folder} (build one with: simgov build --items F --index {folder})")
    return folder


def cmd_keys(args) -> int:
    from .keys import KeyStore
    from .store import Store

    store = Store(_index_dir(args))
    keys = KeyStore(store)
    try:
        if args.keys_command == "create":
            key, info = keys.create(args.role, args.label)
            print(key)
            print(f"key {info.key_id} ({info.role}) created; the key is shown only now", file=sys.stderr)
        elif args.keys_command == "list":
            import time

            when = lambda t: time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) if t else ""  # noqa: E731
            rows = [[k.key_id, k.role, "revoked" if k.revoked_at else "live", when(k.created_at),
                     when(k.revoked_at), k.label or ""] for k in keys.list()]
            print(_table(rows, ["key_id", "role", "state", "created", "revoked", "label"]))
        elif not keys.revoke(args.key_id):
            raise SimgovError(f"no live key with id {args.key_id}")
        else:
            print(f"key {args.key_id} revoked", file=sys.stderr)
    finally:
        store.close()
    return 0


def cmd_models_distill(args) -> int:
    """Distil the static title model now (offline), instead of at the first build that needs it."""
    import time

    from .config import Config
    from .encoders import StaticEncoder, distill_static, weights_digest

    text_model = (Config.load(args.config) if args.config else Config()).text_model
    source = Path(args.model) if args.model else text_model.resolved_path()
    dims = args.dims or text_model.static_dims
    out = args.out or (Path(text_model.static_path) if text_model.static_path else StaticEncoder(source, dims).folder)
    started = time.monotonic()
    distill_static(source, out, dims=dims)
    print(out)
    print(f"static model distilled from {source} in {time.monotonic() - started:.1f} s "
          f"({dims} dimensions, weights sha256 {weights_digest(out, ('.safetensors',))[:16]}...)", file=sys.stderr)
    return 0


def _findings_args(p) -> None:
    p.add_argument("--pairs", type=Path, help="the current item-pair findings, as `simgov pairs` wrote them "
                                              "(default: run the self-join)")
    p.add_argument("--cross-seller-only", action="store_true", help="self-join: only pairs of different sellers")
    p.add_argument("--min-score", type=float, default=0.05,
                   help="findings scored below this are not reviewed and not counted (default 0.05)")


def _cli_key_id() -> str:
    """Who gives a verdict or changes a bank from the command line (the API records the key id)."""
    import getpass

    return f"cli:{getpass.getuser()}"


def _when(t: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) if t else ""


def cmd_verdicts(args) -> int:
    index = _open(_index_dir(args))
    verdicts = Verdicts(index)
    if args.verdicts_command == "add":
        v = verdicts.record(args.kind, args.ids, args.decision, args.reason, args.note, _cli_key_id())
        print(json.dumps(v.model_dump(), ensure_ascii=False) if args.json else
              f"verdict {v.verdict_id}: {v.kind} {' '.join(v.ids)} {v.decision} ({v.reason}); "
              f"score {v.score}, agreeing: {', '.join(v.agreeing) or 'none'}")
    elif args.verdicts_command == "import":
        count = 0
        with open(args.file, encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    verdicts.record(row["kind"], row["ids"], row["decision"], row["reason"], row.get("note"),
                                    _cli_key_id())
                except (json.JSONDecodeError, KeyError, TypeError) as exc:
                    raise SimgovError(f"{args.file} line {number}: not a verdict record ({type(exc).__name__}: {exc}); "
                                      f"{count} verdicts recorded before it") from None
                except SimgovError as exc:
                    raise SimgovError(f"{args.file} line {number}: {exc}; {count} verdicts recorded before it") from None
                count += 1
        print(f"{count} verdicts recorded from {args.file}", file=sys.stderr)
    elif args.verdicts_command == "list":
        found = verdicts.list(kind=args.kind, decision=args.decision, latest_only=args.latest)
        rows = [[str(v.verdict_id), _when(v.at), v.kind, " ".join(v.ids), v.decision, v.reason, v.key_id,
                 "" if v.score is None else f"{v.score:.3f}", ",".join(v.agreeing)] for v in found]
        print(_table(rows, ["id", "at", "kind", "ids", "decision", "reason", "by", "score", "agreeing"]))
    elif args.verdicts_command == "queue":
        import random

        from .matching.calibrate import band, band_name, review_queue
        from .verdicts import key

        findings = [f for f in _pair_findings(index, args) if f[1] >= args.min_score]
        judged = verdicts.latest("pair", (ids for ids, _ in findings))
        open_ = [f for f in findings if key(f[0]) not in judged]
        picked = review_queue(open_, args.size, index.matcher.threshold, random.Random(args.seed))
        with open(args.out, "w", encoding="utf-8") as fh:
            for ids, score in picked:
                fh.write(json.dumps({"kind": "pair", "ids": ids, "score": score, "band": band_name(band(score))},
                                    ensure_ascii=False) + "\n")
        print(f"{len(picked)} of {len(open_)} unjudged findings (score >= {args.min_score}) queued in {args.out}; "
              f"add decision and reason to each line, then `simgov verdicts import`", file=sys.stderr)
    else:
        found = verdicts.list(kind=args.kind, decision=args.decision, latest_only=args.latest)
        _write_all(args.out, (v.model_dump() for v in found))
        print(f"{len(found)} verdicts written to {args.out}", file=sys.stderr)
    return 0


def cmd_banks(args) -> int:
    from .exchange import format_hash_list, parse_hash_list

    index = _open(_index_dir(args))
    banks, who, command = index.banks, _cli_key_id(), args.banks_command
    if command == "create":
        banks.create(args.name, args.description, who)
        print(f"bank {args.name} created", file=sys.stderr)
    elif command == "list":
        rows = [[b.name, "enabled" if b.enabled else "disabled", str(b.entries), str(b.enabled_entries),
                 _when(b.created_at), b.description or ""] for b in banks.list()]
        print(_table(rows, ["bank", "state", "entries", "enabled", "created", "description"]))
    elif command in ("enable", "disable"):
        banks.set_enabled(args.name, command == "enable")
        print(f"bank {args.name} {command}d", file=sys.stderr)
    elif command == "add":
        entries = [("pdq", h, args.label) for h in args.pdq or []] + [("title", t, args.label) for t in args.title or []]
        for text in args.identifier or []:
            name, sep, value = text.partition("=")
            if not sep:
                raise SimgovError(f"--identifier takes NAME=VALUE (e.g. phone=+44 7700 900123), not {text!r}")
            entries.append(("identifier", banks.identifier_hash(name, value), args.label or name.strip().lower()))
        if not entries:
            raise SimgovError("give at least one --pdq, --title or --identifier")
        added, already = banks.add(args.name, entries, source="cli", by=who)
        print(f"{added} entries added to {args.name} ({already} already there)", file=sys.stderr)
    elif command == "entries":
        rows = [[str(e.entry_id), e.kind, e.value if e.kind != "title" else repr(e.value), "yes" if e.enabled else "no",
                 e.label or "", e.source or "", _when(e.added_at)] for e in banks.entries(args.name, args.kind)]
        print(_table(rows, ["entry", "kind", "value", "enabled", "label", "source", "added"]))
    elif command in ("entry-enable", "entry-disable"):
        banks.set_entry_enabled(args.name, args.entry_id, command == "entry-enable")
        print(f"entry {args.entry_id} of {args.name} {command.split('-')[1]}d", file=sys.stderr)
    elif command == "import":
        try:
            text = args.file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise SimgovError(f"{args.file} is not UTF-8 text") from None
        hashes = parse_hash_list(text)
        if args.create and args.name not in {b.name for b in banks.list()}:
            banks.create(args.name, f"imported from {args.file.name}", who)
        added, already = banks.add(args.name, [("pdq", h, label) for h, label in hashes],
                                   source=f"import:{args.file.name}", by=who)
        print(f"{len(hashes)} hashes read from {args.file}: {added} added to {args.name}, {already} already there",
              file=sys.stderr)
    elif command == "export":
        entries = [(e.value, e.label) for e in banks.entries(args.name, "pdq") if e.enabled or args.all]
        args.out.write_text(format_hash_list(entries, labels=args.labels), encoding="utf-8")
        print(f"{len(entries)} PDQ hashes of {args.name} written to {args.out}", file=sys.stderr)
    elif command == "scan":
        hits = banks.scan()
        print(f"{len({h.item_id for h in hits})} listings match a known-bad bank ({len(hits)} hits)", file=sys.stderr)
    else:
        hits = banks.hits(bank=args.bank, limit=args.limit)
        if args.json:
            print(json.dumps([h.model_dump() for h in hits], ensure_ascii=False, indent=2))
        else:
            print(_table([[h.item_id, h.bank, str(h.entry_id), h.kind, f"{h.score:.2f}", _when(h.at), h.detail]
                          for h in hits], ["item", "bank", "entry", "kind", "score", "at", "detail"]))
    return 0


def _pair_findings(index, args) -> list[tuple[list[str], float]]:
    """Item-pair findings with their scores: from --pairs (a `simgov pairs` output), else the self-join."""
    from .evaluation import read_predictions

    if args.pairs:
        return [(list(d.pair), d.score) for d in read_predictions(args.pairs)]
    return [([p.item_a, p.item_b], p.score)
            for p in index.pairs(min_score=args.min_score, cross_seller_only=args.cross_seller_only)]


def cmd_calibrate(args) -> int:
    from .matching.calibrate import calibrate, write_thresholds

    if not 0 < args.precision <= 1:
        raise SimgovError("--precision must be in (0, 1]")
    index = _open(_index_dir(args))
    found = Verdicts(index).list(latest_only=True)
    population = None
    if not args.judged_only and any(v.kind in ("pair", "group") for v in found):
        population = {"item_match": [score for _, score in _pair_findings(index, args)]}
    results = calibrate(index, found, args.precision, objective=args.objective, population=population,
                        min_score=args.min_score)
    if args.write:
        written = write_thresholds(index, results)
        print(f"thresholds written to {index.folder / 'manifest.json'}: {written}" if written
              else "no threshold to write", file=sys.stderr)
    if args.json:
        from dataclasses import asdict

        print(json.dumps([asdict(r) for r in results], indent=2))
        return 0
    fig = lambda f: "-" if f is None else (  # noqa: E731
        f"{f.threshold:.4f}  P {f.precision:.3f} [{f.precision_ci[0]:.3f}, {f.precision_ci[1]:.3f}]  "
        f"R {f.recall:.3f} [{f.recall_ci[0]:.3f}, {f.recall_ci[1]:.3f}]  F1 {f.f1:.3f} [{f.f1_ci[0]:.3f}, "
        f"{f.f1_ci[1]:.3f}]  (TP {f.true_positives:g}, FP {f.false_positives:g}, FN {f.false_negatives:g})")
    for r in results:
        print(f"{r.detector} [{r.threshold_key}]: {r.confirmed} confirmed, {r.rejected} rejected verdicts")
        if r.confirmed + r.rejected:
            print(f"  figures from {r.basis}")
        print(f"  current   {fig(r.current)}")
        print(f"  proposed  {fig(r.proposed)}  {'(written)' if r.written else ''}".rstrip())
        print(f"  {r.note}")
    return 0


def serve(index_dir: Path, host: str, port: int, workers: int = 1, log_level: str = "info") -> None:
    """Run the API and console with uvicorn until interrupted (workers share the index folder)."""
    import shutil
    import tempfile

    import uvicorn

    from simgov.api.app import INDEX_ENV, RATE_SHARED_ENV
    from simgov.api.logs import log_config

    os.environ[INDEX_ENV] = str(Path(index_dir).resolve())
    shared_dir = None
    if workers > 1:  # what the workers must count together: metrics, and each key's rate limit
        shared_dir = Path(tempfile.mkdtemp(prefix="simgov-serve-"))
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            (shared_dir / "metrics").mkdir()
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(shared_dir / "metrics")
        os.environ[RATE_SHARED_ENV] = str(shared_dir / "ratelimit.sqlite")
    try:
        uvicorn.run("simgov.api.app:create_app_from_env", factory=True, host=host, port=port, workers=workers,
                    log_config=log_config(log_level), access_log=False, server_header=False)
    except SystemExit as exc:  # uvicorn exits 3 when the app cannot start (the log says why)
        if exc.code not in (0, None):
            raise SimgovError(f"the server could not start on {host}:{port}; the log above says why") from None
    finally:
        if shared_dir:
            shutil.rmtree(shared_dir, ignore_errors=True)


def cmd_serve(args) -> int:
    _dense_backend(args)
    folder = _index_dir(args)
    if not 1 <= args.workers <= 64:
        raise SimgovError("--workers must be between 1 and 64")
    serve(folder, args.host, args.port, args.workers, args.log_level)
    return 0


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="simgov", description="similarity and duplicate detection for marketplace governance")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build", help="build or update an index from an items file and/or an accounts file (resumable)")
    p.add_argument("--items", type=Path, help="items as JSON Lines or CSV")
    p.add_argument("--accounts", type=Path, help="accounts as JSON Lines or CSV (identifiers are stored only as keyed hashes)")
    _index_arg(p)
    p.add_argument("--config", type=Path, help="settings file (JSON or TOML); default: built-in settings")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="local: one streaming process (default); ray: encode on a Ray cluster (simgov[ray])")
    p.add_argument("--workers", type=int, choices=range(1, 65), metavar="N",
                   help="local engine: processes for the lexical profiles and image fingerprints "
                        "(default: the config's image_workers, 0 there = one per core; 1 = none)")
    p.add_argument("--ray-address", help="ray engine: the cluster (ray://host:10001 or host:6379); "
                                         "default: a local Ray instance on this machine")
    p.add_argument("--ray-actors", type=int, help="ray engine: encoding actors (default: one per CPU of the cluster)")
    p.add_argument("--ray-shards", type=Path, help="ray engine: folder for the Parquet shards of blobs, which every "
                                                   "node and this machine can reach (default: INDEX/ray-shards)")
    p.add_argument("--keep-shards", action="store_true", help="ray engine: keep the Parquet shards of blobs")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("similar", help="an indexed item's nearest items")
    p.add_argument("item_id")
    _index_arg(p)
    p.add_argument("-k", type=int, default=10, help="number of neighbours (default 10)")
    p.add_argument("--signals", help="comma-separated signals to use (default: all)")
    p.add_argument("--min-score", type=float, default=0.0)
    p.add_argument("--json", action="store_true", help="JSON records instead of a table")
    _backend_args(p)
    p.set_defaults(func=cmd_similar)

    p = sub.add_parser("linked", help="accounts linked to this one, with evidence")
    p.add_argument("account_id")
    _index_arg(p)
    p.add_argument("-k", type=int, default=10, help="number of accounts (default 10)")
    p.add_argument("--min-score", type=float, default=0.0)
    p.add_argument("--json", action="store_true", help="JSON records instead of a table")
    p.set_defaults(func=cmd_linked)

    p = sub.add_parser("rings", help="groups of linked (sock-puppet) accounts")
    _index_arg(p)
    p.add_argument("--out", required=True, type=Path, help="groups: .csv or JSON Lines")
    p.add_argument("--pairs-out", type=Path,
                   help="also every scored account pair {account_a, account_b, score, match} (for simgov eval)")
    p.add_argument("--quiet", action="store_true", help="no progress messages")
    p.set_defaults(func=cmd_rings)

    p = sub.add_parser("pairs", help="similarity self-join: every item pair above a score")
    _index_arg(p)
    p.add_argument("--min-score", type=float, default=0.0)
    p.add_argument("--cross-seller-only", action="store_true", help="only pairs of different sellers")
    p.add_argument("-k", type=int, default=None, help="neighbours per item and signal (default from config)")
    p.add_argument("--out", required=True, type=Path, help="output file: .csv or JSON Lines")
    p.add_argument("--workers", type=int, choices=range(1, 65), metavar="N",
                   help="processes that score the pairs (default: the config's image_workers, 0 there = one "
                        "per core; 1 = none)")
    p.set_defaults(func=cmd_pairs)

    p = sub.add_parser("duplicates", help="groups of duplicated merchandise (re-listings and copies)")
    _index_arg(p)
    p.add_argument("--out", required=True, type=Path, help="output file: .csv or JSON Lines")
    p.set_defaults(func=cmd_duplicates)

    p = sub.add_parser("counterfeits", help="suspected counterfeits of brand-verified reference listings")
    _index_arg(p)
    p.add_argument("--out", required=True, type=Path, help="output file: .csv or JSON Lines")
    p.set_defaults(func=cmd_counterfeits)

    p = sub.add_parser("eval", help="precision, recall and F1 of pair decisions against gold pairs")
    p.add_argument("--pairs", required=True, type=Path, help="pairs file (.jsonl or .csv) from pairs, rings or linked")
    p.add_argument("--gold", required=True, type=Path, help="gold pairs: CSV whose first two columns are ids")
    p.add_argument("--plot", type=Path, help="write a precision-recall curve (PNG)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("serve", help="the HTTP API and the investigator console")
    p.add_argument("--index", type=Path, help="index folder (default: $SIMGOV_INDEX)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    _backend_args(p)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("keys", help="API keys: create, list, revoke")
    keys_sub = p.add_subparsers(dest="keys_command", required=True)
    for name, help_text in (("create", "make a key and print it (shown only once)"), ("list", "the keys, never their secrets"),
                            ("revoke", "revoke a key by its id")):
        kp = keys_sub.add_parser(name, help=help_text)
        kp.add_argument("--index", type=Path, help="index folder (default: $SIMGOV_INDEX)")
        kp.set_defaults(func=cmd_keys)
    kp = keys_sub.choices["create"]
    kp.add_argument("--role", required=True, choices=["investigator", "ingest", "admin"])
    kp.add_argument("--label", help="a note to recognise the key by (who or what uses it)")
    keys_sub.choices["revoke"].add_argument("key_id")

    p = sub.add_parser("models", help="title models: distil the static model offline")
    models_sub = p.add_subparsers(dest="models_command", required=True)
    mp = models_sub.add_parser("distill", help="distil the static title model from the local sentence model (no download)")
    mp.add_argument("--config", type=Path, help="settings file: its text_model section (model path, static_dims, static_path)")
    mp.add_argument("--model", type=Path, help="sentence-transformers folder to distil (default: the configured model)")
    mp.add_argument("--dims", type=int, help="dimensions to keep (default: text_model.static_dims, 256)")
    mp.add_argument("--out", type=Path, help="folder to write (default: text_model.static_path, else the cache folder)")
    mp.set_defaults(func=cmd_models_distill)

    p = sub.add_parser("verdicts", help="investigator verdicts on findings: add, import, list, export")
    verdicts_sub = p.add_subparsers(dest="verdicts_command", required=True)
    for name, help_text in (("add", "confirm or reject one finding"),
                            ("import", "record verdicts from JSON Lines {kind, ids, decision, reason, note}"),
                            ("list", "the verdicts, oldest first"), ("export", "the verdicts to a file (.csv or JSON Lines)"),
                            ("queue", "pick item-pair findings to judge (stratified by score, densest near the threshold)")):
        vp = verdicts_sub.add_parser(name, help=help_text)
        vp.add_argument("--index", type=Path, help="index folder (default: $SIMGOV_INDEX)")
        vp.set_defaults(func=cmd_verdicts)
        if name in ("list", "export"):
            vp.add_argument("--kind", choices=["pair", "group", "counterfeit", "link"])
            vp.add_argument("--decision", choices=["confirmed", "rejected"])
            vp.add_argument("--latest", action="store_true", help="only the verdict that counts for each finding")
    vp = verdicts_sub.choices["add"]
    vp.add_argument("kind", choices=["pair", "group", "counterfeit", "link"])
    vp.add_argument("ids", nargs="+", help="pair/link: two ids; group: the members; counterfeit: ITEM REFERENCE")
    vp.add_argument("--decision", required=True, choices=["confirmed", "rejected"])
    vp.add_argument("--reason", required=True)
    vp.add_argument("--note")
    vp.add_argument("--json", action="store_true")
    verdicts_sub.choices["import"].add_argument("--file", required=True, type=Path)
    verdicts_sub.choices["export"].add_argument("--out", required=True, type=Path)
    vp = verdicts_sub.choices["queue"]
    vp.add_argument("--size", type=int, default=300, help="findings to queue (default 300)")
    vp.add_argument("--seed", type=int, default=0, help="seed of the random draw within each score band")
    vp.add_argument("--out", required=True, type=Path, help="JSON Lines {kind, ids, score, band}")
    _findings_args(vp)

    p = sub.add_parser("banks", help="known-bad banks of pictures (PDQ), titles and identifiers")
    banks_sub = p.add_subparsers(dest="banks_command", required=True)
    for name, help_text in (("create", "make an empty bank"), ("list", "the banks"), ("enable", "use a bank again"),
                            ("disable", "stop matching a bank's entries"), ("add", "add entries to a bank"),
                            ("entries", "a bank's entries"), ("entry-enable", "use an entry again"),
                            ("entry-disable", "stop matching one entry"),
                            ("import", "load a PDQ hash list (ThreatExchange / HMA text format)"),
                            ("export", "write a bank's PDQ hashes as a ThreatExchange / HMA hash list"),
                            ("scan", "check every listing against the banks again"),
                            ("hits", "listings that matched a bank")):
        bp = banks_sub.add_parser(name, help=help_text)
        bp.add_argument("--index", type=Path, help="index folder (default: $SIMGOV_INDEX)")
        bp.set_defaults(func=cmd_banks)
        if name not in ("list", "scan", "hits"):
            bp.add_argument("name", help="bank name")
    banks_sub.choices["create"].add_argument("--description")
    bp = banks_sub.choices["add"]
    bp.add_argument("--pdq", action="append", help="a PDQ hash (64 hex digits); repeatable")
    bp.add_argument("--title", action="append", help="a known-bad title; repeatable")
    bp.add_argument("--identifier", action="append", help="NAME=VALUE of an account identifier, stored only as its "
                                                          "keyed hash; repeatable")
    bp.add_argument("--label", help="why these entries are bad")
    banks_sub.choices["entries"].add_argument("--kind", choices=["pdq", "title", "identifier"])
    for name in ("entry-enable", "entry-disable"):
        banks_sub.choices[name].add_argument("entry_id", type=int)
    bp = banks_sub.choices["import"]
    bp.add_argument("file", type=Path)
    bp.add_argument("--create", action="store_true", help="make the bank if it does not exist")
    bp = banks_sub.choices["export"]
    bp.add_argument("--out", required=True, type=Path)
    bp.add_argument("--labels", action="store_true", help="append each entry's label after its hash")
    bp.add_argument("--all", action="store_true", help="disabled entries too")
    bp = banks_sub.choices["hits"]
    bp.add_argument("--bank", help="only this bank's hits")
    bp.add_argument("--limit", type=int, default=1000)
    bp.add_argument("--json", action="store_true")

    p = sub.add_parser("calibrate", help="set match thresholds from the stored verdicts for a chosen precision")
    p.add_argument("--index", type=Path, help="index folder (default: $SIMGOV_INDEX)")
    p.add_argument("--precision", type=float, default=0.99,
                   help="target precision (estimated for the current findings; default 0.99)")
    p.add_argument("--write", action="store_true", help="write the proposed thresholds into the index configuration")
    p.add_argument("--objective", choices=["precision", "f1"], default="precision",
                   help="precision: the lowest threshold reaching --precision; f1: the highest estimated F1 among those")
    p.add_argument("--judged-only", action="store_true",
                   help="do not weigh the verdicts by the current findings (sound only for a uniform random sample)")
    _findings_args(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_calibrate)

    p = sub.add_parser("demo", help="make the bundled demo marketplace, build it and serve it")
    p.add_argument("--out", type=Path, default=Path("demo-marketplace"), help="folder for the marketplace")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port to serve on (default 8000)")
    p.add_argument("--no-serve", action="store_true", help="build and make a key, but do not start the server")
    p.set_defaults(func=cmd_demo)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "k", None) is not None and not 1 <= args.k <= 1000:
        parser().error("-k must be between 1 and 1000")
    try:
        return args.func(args)
    except SimgovError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as exc:
        print(f"simgov: {exc}", file=sys.stderr)
        return 1
    except sqlite3.Error as exc:  # the store on a full disk or in a read-only folder
        print(f"simgov: the index store cannot be used: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
