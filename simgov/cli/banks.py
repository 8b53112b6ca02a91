"""`simgov banks ...`: known-bad banks of pictures (PDQ), titles and identifiers."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from ..errors import SimgovError
from ..exchange import format_hash_list, parse_hash_list
from ..signals.video_vpdq import format_vpdq, parse_vpdq
from .common import cli_key_id, index_dir, open_index, open_output, optional_index_arg, table, when, where


def register(sub) -> None:
    p = sub.add_parser("banks", help="known-bad banks of pictures (PDQ), titles and identifiers")
    banks_sub = p.add_subparsers(dest="banks_command", required=True)
    for name, help_text, handler in (
            ("create", "make an empty bank", cmd_create), ("list", "the banks", cmd_list),
            ("enable", "use a bank again", cmd_enable), ("disable", "stop matching a bank's entries", cmd_enable),
            ("add", "add entries to a bank", cmd_add), ("entries", "a bank's entries", cmd_entries),
            ("entry-enable", "use an entry again", cmd_entry_enable),
            ("entry-disable", "stop matching one entry", cmd_entry_enable),
            ("import", "load a PDQ hash list (ThreatExchange / HMA text format)", cmd_import),
            ("export", "write a bank's PDQ hashes as a ThreatExchange / HMA hash list", cmd_export),
            ("scan", "check every listing against the banks again", cmd_scan),
            ("hits", "listings that matched a bank", cmd_hits)):
        bp = banks_sub.add_parser(name, help=help_text)
        optional_index_arg(bp)
        bp.set_defaults(handler=handler)
        if name not in ("list", "scan", "hits"):
            bp.add_argument("name", help="bank name")
    banks_sub.choices["create"].add_argument("--description")
    bp = banks_sub.choices["add"]
    bp.add_argument("--pdq", action="append", help="a PDQ hash (64 hex digits); repeatable")
    bp.add_argument("--title", action="append", help="a known-bad title; repeatable")
    bp.add_argument("--identifier", action="append", help="NAME=VALUE of an account identifier, stored only as its "
                                                          "keyed hash; repeatable")
    bp.add_argument("--label", help="why these entries are bad")
    banks_sub.choices["entries"].add_argument("--kind", choices=["pdq", "title", "identifier", "vpdq"])
    for name in ("entry-enable", "entry-disable"):
        banks_sub.choices[name].add_argument("entry_id", type=int)
    bp = banks_sub.choices["import"]
    bp.add_argument("file", type=Path)
    bp.add_argument("--create", action="store_true", help="make the bank if it does not exist")
    bp.add_argument("--vpdq", action="store_true", help="FILE is one video's vPDQ hash file (Meta's vPDQ / HMA): "
                                                        "one vpdq entry, labelled with the file's name")
    bp = banks_sub.choices["export"]
    bp.add_argument("--out", required=True, type=Path, help="hash list file; - for standard output; "
                                                            "with --vpdq a folder")
    bp.add_argument("--vpdq", action="store_true", help="the bank's vPDQ entries instead, one NAME-ENTRY.vpdq "
                                                        "file per video in the folder --out")
    bp.add_argument("--labels", action="store_true", help="append each entry's label after its hash")
    bp.add_argument("--all", action="store_true", help="disabled entries too")
    bp = banks_sub.choices["hits"]
    bp.add_argument("--bank", help="only this bank's hits")
    bp.add_argument("--limit", type=int, default=1000)
    bp.add_argument("--json", action="store_true")


def _banks(args):
    return open_index(index_dir(args)).banks


def cmd_create(args) -> int:
    _banks(args).create(args.name, args.description, cli_key_id())
    print(f"bank {args.name} created", file=sys.stderr)
    return 0


def cmd_list(args) -> int:
    rows = [[b.name, "enabled" if b.enabled else "disabled", str(b.entries), str(b.enabled_entries),
             when(b.created_at), b.description or ""] for b in _banks(args).list()]
    print(table(rows, ["bank", "state", "entries", "enabled", "created", "description"]))
    return 0


def cmd_enable(args) -> int:
    """enable and disable."""
    _banks(args).set_enabled(args.name, args.banks_command == "enable")
    print(f"bank {args.name} {args.banks_command}d", file=sys.stderr)
    return 0


def cmd_add(args) -> int:
    banks = _banks(args)
    entries = [("pdq", h, args.label) for h in args.pdq or []] + [("title", t, args.label) for t in args.title or []]
    for text in args.identifier or []:
        name, sep, value = text.partition("=")
        if not sep:
            raise SimgovError(f"--identifier takes NAME=VALUE (e.g. phone=+44 7700 900123), not {text!r}")
        entries.append(("identifier", banks.identifier_hash(name, value), args.label or name.strip().lower()))
    if not entries:
        raise SimgovError("give at least one --pdq, --title or --identifier")
    added, already = banks.add(args.name, entries, source="cli", by=cli_key_id())
    print(f"{added} entries added to {args.name} ({already} already there)", file=sys.stderr)
    return 0


def cmd_entries(args) -> int:
    rows = [[str(e.entry_id), e.kind, e.value if e.kind != "title" else repr(e.value), "yes" if e.enabled else "no",
             e.label or "", e.source or "", when(e.added_at)] for e in _banks(args).entries(args.name, args.kind)]
    print(table(rows, ["entry", "kind", "value", "enabled", "label", "source", "added"]))
    return 0


def cmd_entry_enable(args) -> int:
    """entry-enable and entry-disable."""
    _banks(args).set_entry_enabled(args.name, args.entry_id, args.banks_command == "entry-enable")
    print(f"entry {args.entry_id} of {args.name} {args.banks_command.split('-')[1]}d", file=sys.stderr)
    return 0


def cmd_import(args) -> int:
    banks, who = _banks(args), cli_key_id()
    try:
        text = args.file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SimgovError(f"{args.file} is not UTF-8 text") from None
    if args.vpdq:
        return _import_vpdq(args, banks, who, text)
    hashes = parse_hash_list(text)
    if args.create and args.name not in {b.name for b in banks.list()}:
        banks.create(args.name, f"imported from {args.file.name}", who)
    added, already = banks.add(args.name, [("pdq", h, label) for h, label in hashes],
                               source=f"import:{args.file.name}", by=who)
    print(f"{len(hashes)} hashes read from {args.file}: {added} added to {args.name}, {already} already there",
          file=sys.stderr)
    return 0


def _import_vpdq(args, banks, who, text: str) -> int:
    frames = parse_vpdq(text)
    if args.create and args.name not in {b.name for b in banks.list()}:
        banks.create(args.name, f"imported from {args.file.name}", who)
    added, _ = banks.add(args.name, [("vpdq", format_vpdq(frames), args.file.name)],
                         source=f"import:{args.file.name}", by=who)
    print(f"{len(frames)} frame hashes read from {args.file}: "
          f"{'one video added to' if added else 'the video is already in'} {args.name}", file=sys.stderr)
    return 0


def _export_vpdq(args) -> int:
    entries = [e for e in _banks(args).entries(args.name, "vpdq") if e.enabled or args.all]
    if args.out.exists() and not args.out.is_dir():
        raise SimgovError(f"--out {args.out} is a file: with --vpdq it names a folder")
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in args.name)
    for e in entries:
        (args.out / f"{stem}-{e.entry_id}.vpdq").write_text(e.value, encoding="utf-8")
    print(f"{len(entries)} vPDQ files of {args.name} written to {args.out}", file=sys.stderr)
    return 0


def cmd_export(args) -> int:
    if args.vpdq:
        return _export_vpdq(args)
    entries = [(e.value, e.label) for e in _banks(args).entries(args.name, "pdq") if e.enabled or args.all]
    with open_output(args.out) as fh:
        fh.write(format_hash_list(entries, labels=args.labels))
    print(f"{len(entries)} PDQ hashes of {args.name} written to {where(args.out)}", file=sys.stderr)
    return 0


def cmd_scan(args) -> int:
    hits = _banks(args).scan()
    print(f"{len({h.item_id for h in hits})} listings match a known-bad bank ({len(hits)} hits)", file=sys.stderr)
    return 0


def cmd_hits(args) -> int:
    hits = _banks(args).hits(bank=args.bank, limit=args.limit)
    if args.json:
        print(json.dumps([h.model_dump() for h in hits], ensure_ascii=False, indent=2))
    else:
        print(table([[h.item_id, h.bank, str(h.entry_id), h.kind, f"{h.score:.2f}", when(h.at), h.detail]
                     for h in hits], ["item", "bank", "entry", "kind", "score", "at", "detail"]))
    return 0
