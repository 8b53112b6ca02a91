"""The investigator console: a static page under a strict CSP, and a real browser driving it over the
demo marketplace built by `simgov demo --no-serve`."""
from __future__ import annotations

import contextlib
import functools
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from api_support import REPO, copy_market, thread_server
from simgov.keys import KeyStore
from simgov.storage.items import Store

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
STATIC = REPO / "simgov" / "api" / "static"


class _Inline(HTMLParser):
    """Collects anything a strict CSP would block: inline scripts, inline styles, event attributes."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "script":
            self._in_script = True
            if "src" not in names:
                self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("<style> element")
        for name, _ in attrs:
            if name == "style" or name.startswith("on"):
                self.problems.append(f"{name}= attribute on <{tag}>")

    def handle_endtag(self, tag):
        self._in_script = self._in_script and tag != "script"

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.problems.append("script body")


def test_console_is_static_and_csp_clean():
    for page in ("index.html", "docs.html"):
        parser = _Inline()
        parser.feed((STATIC / page).read_text(encoding="utf-8"))
        assert parser.problems == [], page
    for name in ("app.js", "workbench.js", "docs.js"):
        assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function",
                             (STATIC / name).read_text(encoding="utf-8")), name
    script = (STATIC / "app.js").read_text(encoding="utf-8")
    assert "sessionStorage" in script and "localStorage" not in script


def test_console_page_needs_no_key_but_its_data_does(tmp_path):
    index_dir = copy_market(tmp_path / "market")
    with thread_server(index_dir) as url:
        page = httpx.get(f"{url}/ui")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
        for asset, kind in (("app.js", "javascript"), ("app.css", "text/css")):
            response = httpx.get(f"{url}/ui/assets/{asset}")
            assert response.status_code == 200 and kind in response.headers["content-type"]
        assert httpx.get(f"{url}/ui/assets/nope.js").json()["error"]["code"] == "not_found"
        home = httpx.get(f"{url}/")  # `/` leads to the console, `/docs` to the API reference
        assert home.status_code == 307 and home.headers["location"] == "/ui"
        reference = httpx.get(f"{url}/docs")
        assert reference.status_code == 200 and "Authorization: Bearer" in reference.text
        assert httpx.get(f"{url}/ui/assets/docs.js").status_code == 200
        assert httpx.get(f"{url}/v1/items/shoe-1/images/0").status_code == 401


# -- the browser test -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """`simgov demo --no-serve` on a small demo marketplace; returns (folder, printed key, planted)."""
    from simgov import cli, demo as demo_module

    out = tmp_path_factory.mktemp("demo") / "market"
    small = functools.partial(demo_module.generate_marketplace, n_sellers=30, n_products=60, workers=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(demo_module, "generate_marketplace", small)
        stdout = io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(io.StringIO()):
            assert cli.main(["demo", "--out", str(out), "--seed", "11", "--no-serve", "--port", "8123"]) == 0
    printed = stdout.getvalue()
    assert "investigator console: http://127.0.0.1:8123/ui" in printed
    key = re.search(r"investigator key \(shown once\): (sgk_\S+)", printed).group(1)
    return out, key, json.loads((out / "planted.json").read_text())


def view_shown(page, before: str | None) -> int:
    """Waits for a view newer than `before` to show its data; how long it took in the page (ms)."""
    page.wait_for_function("b => { const v = document.getElementById('view'); "
                           "return v.dataset.shown && v.dataset.shown !== b; }",
                           arg=before or "", timeout=60_000)
    return int(page.get_attribute("#view", "data-ms"))


def shown_token(page) -> str | None:
    return page.get_attribute("#view", "data-shown")


def wait_pictures(page) -> None:
    page.wait_for_function("() => document.querySelectorAll('.pic.loading').length === 0", timeout=30_000)


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium "
                                                   "(apt-get install chromium)")
def test_console_in_a_browser(demo):
    from playwright.sync_api import sync_playwright

    out, _, planted = demo
    store = Store(out / "index")
    try:  # the investigator logs in with a key of their own: verdicts name them
        key = KeyStore(store).create("investigator", "console test", "Ana Silva")[0]
    finally:
        store.close()
    copy = planted["cross_seller_copies"][0]
    query, copies = copy["original_item_id"], {c["item_id"] for c in copy["copies"]}
    items = {json.loads(line)["item_id"]: json.loads(line) for line in (out / "items.jsonl").read_text().splitlines()}
    ring_accounts = {a for r in planted["rings"] for a in r["account_ids"]}
    ARTIFACTS.mkdir(exist_ok=True)
    errors: list[str] = []
    timings: dict[str, int] = {}
    api = {"Authorization": f"Bearer {key}"}
    with thread_server(out / "index") as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
            # script errors and CSP violations (a 404 answer the page handles is not one)
            page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{url}/ui")
            page.locator("#key-gate").wait_for(state="visible")
            page.fill("#key-input", key)
            page.click("#key-form button")

            # the queue, right after the key: open findings, most severe first, with thumbnails
            timings["findings queue"] = view_shown(page, None)
            rows = page.locator("#queue-list article.finding")
            assert rows.count() >= 10, rows.count()
            assert set(rows.evaluate_all("els => els.map(e => e.dataset.status)")) == {"open"}
            severities = rows.evaluate_all("els => els.map(e => e.querySelector('.badge.sev').textContent)")
            assert severities == sorted(severities, key=["high", "medium", "low"].index)
            wait_pictures(page)
            assert page.locator("#queue-list .thumbs .pic.loaded img").count() >= 5
            page.screenshot(path=str(ARTIFACTS / "console-queue.png"), full_page=True)

            # filter: counterfeit suspects only
            before = shown_token(page)
            page.select_option("#queue-filters select[name=kind]", "counterfeit")
            page.click("#queue-filters button[type=submit]")
            timings["queue, filtered"] = view_shown(page, before)
            kinds = set(rows.evaluate_all("els => els.map(e => e.dataset.kind)"))
            assert kinds == {"counterfeit"}, kinds
            planted_fakes = {c["item_id"] for c in planted["counterfeits"]}

            # confirm the second one with the keyboard: j moves down, c confirms with the last reason
            assert rows.count() >= 2
            page.keyboard.press("j")
            second = rows.nth(1)
            assert "focus" in second.get_attribute("class")
            finding_id = second.get_attribute("data-finding")
            page.keyboard.press("c")
            page.locator(f"#queue-list article[data-finding='{finding_id}'][data-status='confirmed']").wait_for()
            assert "confirmed by Ana Silva" in second.locator(".state").inner_text()
            # u undoes it: open again, the verdict kept in the history as undone; c confirms it again
            page.keyboard.press("u")
            page.locator(f"#queue-list article[data-finding='{finding_id}'][data-status='open']").wait_for()
            assert second.locator(".state").inner_text() == "undone; open" and second.locator(".undo").is_hidden()
            assert httpx.get(f"{url}/v1/findings/{finding_id}", headers=api).json()["status"] == "open"
            page.keyboard.press("c")
            page.locator(f"#queue-list article[data-finding='{finding_id}'][data-status='confirmed']").wait_for()
            stored = httpx.get(f"{url}/v1/findings/{finding_id}", headers=api).json()
            assert stored["status"] == "confirmed" and stored["verdict"]["reason"] == "confirmed in the queue"
            assert stored["verdict"]["holder"] == stored["decided_by"] == "Ana Silva"
            verdicts = httpx.get(f"{url}/v1/verdicts", params={"kind": "counterfeit"}, headers=api).json()["verdicts"]
            assert [(v["ids"], v["undone_at"] is not None) for v in verdicts] == [(stored["items"], True),
                                                                                  (stored["items"], False)]
            assert stored["items"][0] in planted_fakes
            wait_pictures(page)
            page.screenshot(path=str(ARTIFACTS / "console-queue-confirmed.png"), full_page=True)

            # the suspect's seller: its risk and the findings behind it
            seller = stored["sellers"][0]
            before = shown_token(page)
            second.locator(f".seller[data-seller='{seller}']").click()
            timings["account with risk"] = view_shown(page, before)
            risk_card = page.locator(f"#risk-card[data-seller='{seller}']")
            risk_card.wait_for()
            assert risk_card.locator(".reasons li").count() >= 1 and "counterfeit" in risk_card.inner_text()

            # sellers by risk: the planted bad actors lead
            before = shown_token(page)
            page.click("#tab-sellers")
            timings["sellers by risk"] = view_shown(page, before)
            ranked = page.locator("#sellers-table tr.seller-row").evaluate_all("els => els.map(e => e.dataset.seller)")
            bad = {c["seller_id"] for c in planted["counterfeits"]} | ring_accounts | \
                {c["seller_id"] for g in planted["cross_seller_copies"] for c in g["copies"]}
            assert ranked and ranked[0] in bad, ranked[:5]
            page.screenshot(path=str(ARTIFACTS / "console-sellers.png"), full_page=True)

            # a ring from the queue: open it (o), then pivot from its risk card to a linked account
            before = shown_token(page)
            page.goto(f"{url}/ui#/queue/kind=ring&status=open")
            view_shown(page, before)
            ring_row = page.locator("#queue-list article.finding").first
            members = ring_row.locator(".account-chip").evaluate_all("els => els.map(e => e.textContent)")
            assert set(members) & ring_accounts, members
            before = shown_token(page)
            page.keyboard.press("o")
            timings["account (ring member)"] = view_shown(page, before)
            page.locator(f"#account-card:has-text('{members[0]}')").wait_for()
            linked = page.locator("#risk-card .linked-account").evaluate_all("els => els.map(e => e.dataset.account)")
            assert linked and set(linked) <= set(members) | ring_accounts, (linked, members)
            page.locator("section.linked[data-loaded] svg.graph").wait_for(timeout=60_000)
            timings["linked accounts, after the account view"] = int(page.get_attribute("#view", "data-linked-ms"))
            before = shown_token(page)
            page.locator(f"#risk-card .linked-account[data-account='{linked[0]}']").click()
            timings["account (linked)"] = view_shown(page, before)
            page.locator(f"#account-card:has-text('{linked[0]}')").wait_for()
            wait_pictures(page)
            page.screenshot(path=str(ARTIFACTS / "console-account.png"), full_page=True)

            # search by picture: a copy's picture finds the original listing
            copy_item = items[sorted(copies)[0]]
            before = shown_token(page)
            page.click("#tab-search")
            timings["search"] = view_shown(page, before)
            page.set_input_files("#search-form input[name=image]", str(out / copy_item["images"][0]))
            page.click("#search-form button[type=submit]")
            page.wait_for_function("() => document.getElementById('view').dataset.searched", timeout=60_000)
            timings["search by picture"] = int(page.get_attribute("#view", "data-searched"))
            found = page.locator("#search-results article").evaluate_all("els => els.map(e => e.dataset.item)")
            assert query in found, (query, found)
            wait_pictures(page)
            page.screenshot(path=str(ARTIFACTS / "console-search.png"), full_page=True)

            # the item view: its neighbours as thumbnails beside the query picture
            before = shown_token(page)
            page.select_option("#lookup-kind", "item")
            page.fill("#lookup-id", query)
            page.click("#lookup button")
            timings["item"] = view_shown(page, before)
            page.locator(f"#item-card[data-item='{query}']").wait_for()
            cards = page.locator("#neighbours article.neighbour")
            cards.first.wait_for()
            found = set(cards.evaluate_all("els => els.map(e => e.dataset.item)"))
            assert copies & found, (copies, found)
            first_copy = sorted(copies & found)[0]
            card = page.locator(f"#neighbours article.neighbour[data-item='{first_copy}']")
            page.wait_for_function(
                "id => { const imgs = document.querySelectorAll("
                "`#neighbours article[data-item='${id}'] .pic.loaded img`);"
                " return imgs.length === 2 && [...imgs].every(i => i.complete && i.naturalWidth > 0); }",
                arg=first_copy, timeout=30_000)
            assert card.locator(".pic.loaded img").first.get_attribute("src").startswith("blob:")
            assert card.locator(".badge.rel").inner_text() in ("copy", "duplicate", "counterfeit suspect", "similar")
            assert card.locator(".score-row").count() >= 2 and card.locator(".evidence li").count() >= 1
            card.locator(".facts .title").wait_for()  # the other listing's title and price
            assert card.locator(".facts .title").inner_text() == items[first_copy]["title"]
            wait_pictures(page)
            page.screenshot(path=str(ARTIFACTS / "console.png"), full_page=True)

            # export of the case, downloaded client-side
            with page.expect_download() as download:
                page.click("#export-json")
            case = json.loads(Path(download.value.path()).read_text())
            assert case["item_id"] == query and first_copy in [n["item_id"] for n in case["neighbours"]]
            with page.expect_download() as download:
                page.click("#export-csv")
            lines = Path(download.value.path()).read_text().splitlines()
            assert lines[0].startswith("query_item_id,item_id,seller_id,score,match,relation")
            assert len(lines) == len(found) + 1

            # the item's duplicate group (from the findings): its members, one click confirms the whole group
            group_card = page.locator("#dup-group")
            group_card.wait_for()
            members = group_card.locator("article.group-member").evaluate_all("els => els.map(e => e.dataset.item)")
            assert members[0] == query and len(members) >= 2 and set(members[1:]) & copies, (members, copies)
            group_ids = group_card.locator(".verdict").get_attribute("data-ids").split(" ")
            assert sorted(group_ids) == sorted(members)
            assert group_card.locator(".evidence li").count() >= 2
            assert group_card.locator(".verdict .state").inner_text() == "no verdict yet"
            group_card.locator(".verdict select").select_option("same merchandise")
            group_card.locator(".verdict button.confirm").click()
            group_card.locator(".verdict[data-verdict='confirmed']").wait_for()
            stored = httpx.get(f"{url}/v1/verdicts", params={"kind": "group"}, headers=api).json()["verdicts"]
            assert [(v["kind"], v["ids"], v["decision"], v["reason"]) for v in stored] == [
                ("group", sorted(members), "confirmed", "same merchandise")]
            page.reload()  # a later view of the same group shows the verdict
            verdict_id = stored[0]["verdict_id"]
            page.locator(f"#dup-group .verdict[data-verdict='confirmed'][data-verdict-id='{verdict_id}']").wait_for()
            assert "confirmed by" in page.locator("#dup-group .verdict .state").inner_text()
            wait_pictures(page)
            page.screenshot(path=str(ARTIFACTS / "console-group.png"), full_page=True)

            # one click on the card's verdict bar stores a verdict, shown in place and through the API
            card = page.locator(f"#neighbours article.neighbour[data-item='{first_copy}']")
            assert card.locator(".verdict .state").inner_text() == "no verdict yet"
            card.locator(".verdict select").select_option("different merchandise")
            card.locator(".verdict button.reject").click()
            card.locator(".verdict[data-verdict='rejected']").wait_for()
            assert "rejected by Ana Silva" in card.locator(".verdict .state").inner_text()
            stored = httpx.get(f"{url}/v1/verdicts", params={"item_id": first_copy, "kind": "pair"},
                               headers=api).json()["verdicts"]
            assert [(v["kind"], v["ids"], v["decision"], v["reason"]) for v in stored] == [
                ("pair", sorted([query, first_copy]), "rejected", "different merchandise")]
            # the case export carries the verdict and who gave it
            with page.expect_download() as download:
                page.click("#export-csv")
            rows = {line.split(",")[1]: line for line in Path(download.value.path()).read_text().splitlines()[1:]}
            assert "rejected by Ana Silva" in rows[first_copy]
            # Undo on the card: no verdict again, the rejection kept in the history as undone
            card.locator(".verdict button.undo").click()
            page.wait_for_function("id => !document.querySelector("
                                   "`#neighbours article[data-item='${id}'] .verdict`).dataset.verdict",
                                   arg=first_copy, timeout=30_000)
            assert card.locator(".verdict .state").inner_text() == "verdict undone; no verdict"
            stored = httpx.get(f"{url}/v1/verdicts", params={"item_id": first_copy, "kind": "pair"},
                               headers=api).json()["verdicts"]
            assert len(stored) == 1 and stored[0]["undone_at"] is not None
            page.screenshot(path=str(ARTIFACTS / "console-undone.png"), full_page=True)

            # pivot to the neighbour, then to its seller
            card.locator(".item-link").click()
            page.locator(f"#item-card[data-item='{first_copy}']").wait_for()
            seller = page.locator("#item-card .seller").inner_text()
            page.locator("#item-card .seller").click()
            page.locator("#account-card").wait_for()
            assert seller in page.locator("#account-card").inner_text()

            # the two listings side by side: fields, zoomable pictures, each signal's score
            page.goto(f"{url}/ui#/item/{query}")
            link = page.locator(f"#neighbours article.neighbour[data-item='{first_copy}'] a.compare-link")
            link.wait_for()
            before = shown_token(page)
            link.click()
            timings["comparison"] = view_shown(page, before)
            compare = page.locator("#compare-card")
            assert compare.locator(".compare-fields tr").count() >= 3
            assert compare.locator(".compare-bars .score-row").count() >= 2
            wait_pictures(page)
            compare.locator(".compare-side .pic.loaded").first.click()
            compare.locator(".compare-side .pic.zoomed").wait_for()
            page.screenshot(path=str(ARTIFACTS / "console-compare.png"), full_page=True)
        finally:
            browser.close()
    print("\nconsole views, data shown after (ms): " + ", ".join(f"{name} {ms}" for name, ms in timings.items()))
    assert errors == [], errors
