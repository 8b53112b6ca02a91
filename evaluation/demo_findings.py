"""The investigator's workbench on the demo marketplace (issue 17's "done when"), through a real server.

    simgov demo --out /tmp/demo --no-serve        # prints an investigator key
    simgov serve --index /tmp/demo/index --port 8000 &
    .venv/bin/python -m evaluation.demo_findings --market /tmp/demo --url http://127.0.0.1:8000 --key sgk_...

Pages through GET /v1/findings by next_cursor and scores it against planted.json: the share of
planted counterfeits and rings listed, the planted bad actors among the 30 riskiest sellers, and any
authorised reseller among them; then times the calls each console view makes.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import httpx

TOP = 30


def all_findings(client: httpx.Client) -> tuple[list[dict], int]:
    found, cursor, pages = [], None, 0
    while True:
        page = client.get("/v1/findings", params={"limit": 100, **({"cursor": cursor} if cursor else {})})
        page.raise_for_status()
        body = page.json()
        found += body["findings"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return found, pages


def timed(client: httpx.Client, paths: list[str], runs: int = 3) -> tuple[float, float]:
    """The first time and the median over `runs` to answer every path of one view, one after
    another (ms): a first view of an account or an item fills caches later views use."""
    spent = []
    for _ in range(runs):
        start = time.perf_counter()
        for path in paths:
            client.get(path).raise_for_status()
        spent.append((time.perf_counter() - start) * 1000)
    return spent[0], statistics.median(spent)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--market", type=Path, required=True, help="the demo folder (planted.json)")
    ap.add_argument("--url", default="http://127.0.0.1:8000")
    ap.add_argument("--key", required=True, help="an investigator key")
    ap.add_argument("--browser", action="store_true", help="also time each console view in Chromium (playwright)")
    args = ap.parse_args()
    planted = json.loads((args.market / "planted.json").read_text())
    with httpx.Client(base_url=args.url, headers={"Authorization": f"Bearer {args.key}"}, timeout=300) as client:
        start = time.perf_counter()
        findings, pages = all_findings(client)
        paging_s = time.perf_counter() - start
        fakes = {(f["items"][0], f["items"][1]) for f in findings if f["kind"] == "counterfeit"}
        planted_fakes = {(c["item_id"], c["reference_item_id"]) for c in planted["counterfeits"]}
        rings = [set(f["accounts"]) for f in findings if f["kind"] == "ring"]
        found_rings = sum(any(len(set(r["account_ids"]) & ring) >= max(2, len(r["account_ids"]) // 2 + 1)
                              for ring in rings) for r in planted["rings"])
        sellers = client.get("/v1/sellers", params={"sort": "risk", "limit": TOP}).json()["sellers"]
        bad = ({c["seller_id"] for c in planted["counterfeits"]}
               | {a for r in planted["rings"] for a in r["account_ids"]}
               | {c["seller_id"] for g in planted["cross_seller_copies"] for c in g["copies"]})
        authorised = {a["seller_id"] for a in planted["authorized_resellers"]}
        top = [s["seller_id"] for s in sellers]
        kinds: dict[str, int] = {}
        for f in findings:
            kinds[f["kind"]] = kinds.get(f["kind"], 0) + 1
        print(f"findings: {len(findings)} in {pages} pages of 100 ({paging_s:.2f} s), by kind {kinds}")
        print(f"planted counterfeits listed: {len(planted_fakes & fakes)}/{len(planted_fakes)} "
              f"({len(planted_fakes & fakes) / len(planted_fakes):.0%}); counterfeit findings not planted: "
              f"{len(fakes - planted_fakes)}")
        print(f"planted rings listed (a finding holding most of the ring): {found_rings}/{len(planted['rings'])} "
              f"({found_rings / len(planted['rings']):.0%})")
        print(f"top {TOP} sellers by risk: {sum(s in bad for s in top)} planted bad actors "
              f"({sum(s in bad for s in top) / len(top):.0%}), authorised resellers among them: "
              f"{sorted(set(top) & authorised) or 'none'}")
        print(f"  not planted: {[s for s in top if s not in bad]}")
        first = findings[0]
        item = next(f["items"][0] for f in findings if f["kind"] == "cross_seller_copy")
        account = next(f["accounts"][-1] for f in findings if f["kind"] == "ring")
        views = {
            "queue (GET /v1/findings?status=open&limit=25)": ["/v1/findings?status=open&limit=25"],
            "sellers by risk (GET /v1/sellers?limit=50)": ["/v1/sellers?sort=risk&limit=50"],
            f"item {item} (item, similar k=10, findings of the item)":
                [f"/v1/items/{item}", f"/v1/items/{item}/similar?k=10", f"/v1/findings?item_id={item}&limit=50"],
            f"account {account} (items, risk; linked accounts follow)":
                [f"/v1/accounts/{account}/items?limit=60", f"/v1/sellers/{account}/risk"],
            f"linked accounts of {account}": [f"/v1/accounts/{account}/linked"],
            f"one finding ({first['finding_id']})": [f"/v1/findings/{first['finding_id']}"],
            f"item {item} as the console asked before (item, similar, counterfeit, group)":
                [f"/v1/items/{item}", f"/v1/items/{item}/similar?k=10", f"/v1/items/{item}/counterfeit",
                 f"/v1/items/{item}/group"],
        }
        for name, paths in views.items():
            once, median = timed(client, paths)
            print(f"view {name}: first {once:.0f} ms, median of 3 {median:.0f} ms (calls one after another)")
        if args.browser:
            in_browser(args.url, args.key, item, account)


def in_browser(url: str, key: str, item: str, account: str) -> None:
    """Each console view in Chromium, timed by the page itself (data shown, pictures may still load)."""
    from playwright.sync_api import sync_playwright  # optional: only for --browser

    def shown(page, before: str | None) -> int:
        page.wait_for_function("b => { const v = document.getElementById('view'); "
                               "return v.dataset.shown && v.dataset.shown !== b; }", arg=before or "", timeout=120_000)
        return int(page.get_attribute("#view", "data-ms"))

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/ui")
        page.fill("#key-input", key)
        page.click("#key-form button")
        times = {"queue": shown(page, None)}
        rows = page.locator("#queue-list article.finding").count()
        for name, hash_ in (("sellers by risk", "#/sellers"), (f"item {item}", f"#/item/{item}"),
                            (f"account {account}", f"#/account/{account}"), ("search", "#/search")):
            before = page.get_attribute("#view", "data-shown")
            page.evaluate("h => { location.hash = h; }", hash_)
            times[name] = shown(page, before)
            if name.startswith("account"):
                page.locator("section.linked[data-loaded]").wait_for(timeout=120_000)
                times["its linked accounts"] = int(page.get_attribute("#view", "data-linked-ms"))
        browser.close()
    print(f"browser: the queue shows {rows} findings right after the key; views shown after (ms): "
          + ", ".join(f"{name} {ms}" for name, ms in times.items()))


if __name__ == "__main__":
    main()
