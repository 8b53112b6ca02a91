"""`GET /v1/items/{item_id}/group`: an item's duplicate group found live, against a real server, the
same group `simgov duplicates` finds, and group verdicts shown on it."""
from __future__ import annotations

import httpx
import pytest

from api_support import ITEMS, copy_market, make_key, thread_server
from simgov.detectors.duplicates import duplicate_groups, item_group
from simgov.matching.grouping import grow_component
from simgov.index import SimIndex

ROLES = ("investigator", "ingest", "admin")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server over a private copy of the test marketplace, its keys, the CLI's duplicate groups and
    shoe-1's group grown to at most two members."""
    index_dir = copy_market(tmp_path_factory.mktemp("group") / "market")
    keys = {role: make_key(index_dir, role) for role in ROLES}
    index = SimIndex.open(index_dir)
    try:
        groups, cut = duplicate_groups(index), item_group(index, "shoe-1", max_members=2)
    finally:
        index.close()
    with thread_server(index_dir) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield client, keys, groups, cut


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def error(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json") and "Traceback" not in response.text
    return response.json()["error"]


def test_group_is_the_one_the_cli_finds(server):
    client, keys, groups, _ = server
    shoes = next(g for g in groups if "shoe-1" in g.members and g.kind == "cross_seller_copy")
    for item_id in shoes.members:  # the same group, and the same group id, from every member
        body = client.get(f"/v1/items/{item_id}/group", headers=auth(keys["investigator"])).json()
        assert body["item_id"] == item_id and body["match"] and not body["truncated"] and body["max_members"] == 50
        group = body["group"]
        # the same members; the score is each path's own (the live group decides as `similar` does,
        # `duplicates` with the self-join's level model and catalogue fit), both a match
        assert group["members"] == shoes.members and 0 < group["score"] <= 1 and 0 < shoes.score <= 1
        assert group["kind"] == "cross_seller_copy" and group["sellers"] == ["seller-a", "seller-b"]
        assert group["group_id"].startswith("dup-") and group["verdict"] is None
        assert group["evidence"][0] == "3 listings by 2 sellers" and len(group["evidence"]) == 4
        members = body["members"]
        seller, title = next((s, t) for i, s, t, *_ in ITEMS if i == item_id)
        assert members[0] == {"item_id": item_id, "seller_id": seller, "title": title, "images": 2, "score": None}
        assert sorted(m["item_id"] for m in members) == shoes.members
        assert all(0 < m["score"] <= 1 for m in members[1:])
        assert [m["score"] for m in members[1:]] == sorted((m["score"] for m in members[1:]), reverse=True)
    ids = {client.get(f"/v1/items/{i}/group", headers=auth(keys["admin"])).json()["group"]["group_id"]
           for i in shoes.members}
    assert len(ids) == 1


def test_an_item_in_no_group(server):
    client, keys, *_ = server
    body = client.get("/v1/items/mug-1/group", headers=auth(keys["investigator"])).json()
    assert body == {"item_id": "mug-1", "group": None, "match": False, "members": [], "truncated": False,
                    "max_members": 50}


def test_unknown_item_and_access(server):
    client, keys, *_ = server
    assert error(client.get("/v1/items/nope/group", headers=auth(keys["investigator"])), 404) == {
        "code": "not_found", "message": "unknown item: nope"}
    assert error(client.get("/v1/items/shoe-1/group"), 401)["code"] == "unauthorized"
    assert error(client.get("/v1/items/shoe-1/group", headers=auth("sgk_x_y")), 401)["code"] == "unauthorized"
    assert error(client.get("/v1/items/shoe-1/group", headers=auth(keys["ingest"])), 403)["code"] == "forbidden"


def test_group_verdicts_show_on_the_group(server):
    client, keys, *_ = server
    inv = auth(keys["investigator"])
    group = client.get("/v1/items/bag-2/group", headers=inv).json()["group"]
    assert group["members"] == ["bag-1", "bag-2"]
    confirmed = client.post("/v1/verdicts", headers=inv, json={
        "kind": "group", "ids": group["members"], "decision": "confirmed", "reason": "same merchandise"})
    assert confirmed.status_code == 201, confirmed.text
    body = client.get("/v1/items/bag-1/group", headers=inv).json()
    assert body["match"] and body["group"]["verdict"] == confirmed.json()
    assert body["group"]["evidence"][-1].startswith("confirmed by an investigator on ")
    # a later rejection counts: the group is still shown, with it, but is no match while no signal agrees anew
    rejected = client.post("/v1/verdicts", headers=inv, json={
        "kind": "group", "ids": group["members"], "decision": "rejected", "reason": "authorised outlet"}).json()
    body = client.get("/v1/items/bag-2/group", headers=inv).json()
    assert not body["match"] and body["group"]["verdict"]["verdict_id"] == rejected["verdict_id"]
    assert "so not a match" in body["group"]["evidence"][-1]
    listed = client.get("/v1/verdicts", params={"kind": "group", "item_id": "bag-2", "latest": True},
                        headers=inv).json()["verdicts"]
    assert [(v["ids"], v["decision"]) for v in listed] == [(["bag-1", "bag-2"], "rejected")]


def test_the_bound_cuts_a_group_and_says_so(server):
    # shoe-1 matches shoe-2 and shoe-3 (the same picture): a bound of two members leaves one of them out
    *_, cut = server
    assert cut.truncated and cut.match and len(cut.group.members) == 2 and "shoe-1" in cut.group.members
    other = next(m for m in cut.group.members if m != "shoe-1")
    assert list(cut.member_scores) == [other]
    assert cut.group.kind == ("same_seller_relisting" if other == "shoe-2" else "cross_seller_copy")


def test_grow_component_is_bounded():
    chain = {n: [(n - 1, 0.9), (n + 1, 0.8)] for n in range(10)}
    links_of = lambda n: [(m, s) for m, s in chain[n] if 0 <= m < 10]  # noqa: E731
    members, links, cut = grow_component(4, links_of, max_members=10)
    assert sorted(members) == list(range(10)) and not cut
    assert links[(3, 4)] == 0.9 and len(links) == 9  # both sides report each link; the higher score is kept
    members, links, cut = grow_component(4, links_of, max_members=3)
    assert members == [4, 3, 5] and cut and set(links) == {(3, 4), (4, 5)}
