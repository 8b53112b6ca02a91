"""The fuzzing that found issue 19's findings, kept in the suite at a size that fits it: schemathesis
walking linked operations (a written item is then read, searched around, judged and deleted), JSON
of every depth and width, and pictures of every size class, against a real server. Every answer
is a documented one; no 5xx, no stack trace; what was accepted can be read back."""
from __future__ import annotations

import io
import json
from urllib.parse import unquote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from api_support import copy_market, make_key, thread_server
from simgov.api.app import create_app
from simgov.imageio import MAX_UNREDUCED_PIXELS
from simgov.schema import MAX_JSON_DEPTH, MAX_JSON_VALUES

#: OpenAPI links from an item write to the operations that use the item. Only from writes whose
#: answer does not depend on what earlier examples left on the server (creating a bank twice is a
#: 409, a verdict on a deleted item a 404): Hypothesis refuses a scenario that draws differently
#: when it is replayed.
LINKS = {
    ("/v1/items", "put", "200"): {
        name: {"operationId": op, "parameters": {"path.item_id": "$response.body#/items/0/item_id"}}
        for name, op in (("Read", "get_item_v1_items__item_id__get"),
                         ("Similar", "similar_v1_items__item_id__similar_get"),
                         ("Counterfeit", "counterfeit_v1_items__item_id__counterfeit_get"),
                         ("Group", "group_v1_items__item_id__group_get"),
                         ("Delete", "delete_v1_items__item_id__delete"))},
}


def linked_spec() -> dict:
    """The app's OpenAPI document with LINKS added (the links' operation ids must exist)."""
    spec = create_app("never-opened").openapi()
    ids = {op["operationId"] for ops in spec["paths"].values() for op in ops.values()}
    for (path, method, status), links in LINKS.items():
        missing = {link["operationId"] for link in links.values()} - ids
        assert not missing, f"operation ids changed: {missing}"
        spec["paths"][path][method]["responses"][status]["links"] = links
    return spec


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory):
    index_dir = copy_market(tmp_path_factory.mktemp("fuzz") / "market")
    key = make_key(index_dir, "admin")
    with thread_server(index_dir, max_body_bytes=2 * 1024 * 1024, rate_per_second=0) as url:
        yield url, key


def json_errors(ctx, response, case):
    """Every error in the JSON shape, never with a stack trace, never a 5xx."""
    assert response.status_code < 500, response.text[:300]
    if response.status_code >= 400:
        assert response.json()["error"]["code"], response.text
    assert "Traceback" not in response.text


def test_stateful_fuzz_along_the_links(admin_server):
    url, key = admin_server
    schema = schemathesis.openapi.from_dict(linked_spec())
    schema.config.phases.stateful.inference.algorithms = []  # LINKS only: inferred ones may depend on state

    written: set[str] = set()  # item ids PUT answered 200 for
    linked_calls: list[str] = []  # later calls that used one of them

    class Workflow(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"base_url": url, "headers": {"Authorization": f"Bearer {key}"}, "timeout": 60}

        def after_call(self, response, case):
            if case.operation.path == "/v1/items" and response.status_code == 200:
                written.update(item["item_id"] for item in response.json()["items"])
            elif unquote((case.path_parameters or {}).get("item_id", "")) in written:  # sent URL-encoded
                linked_calls.append(f"{case.method} {case.operation.path}")

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            # Lenient by design (see test_api_schema): lax coercion, ignored unknown parameters, and
            # bodies a schema cannot describe (pictures, hash lists).
            excluded = [negative_data_rejection, positive_data_acceptance]
            case.validate_response(response, additional_checks=[json_errors], excluded_checks=excluded,
                                   transport_kwargs=kwargs)

    Workflow.run(settings=settings(max_examples=12, stateful_step_count=5, deadline=None,
                                   suppress_health_check=list(HealthCheck)))
    assert linked_calls, "no step followed a link from a written item"


def _nested(depth: int, width: int) -> object:
    value: object = "leaf"
    for level in range(depth):
        value = {f"k{n}": value for n in range(width)} if level == 0 else {"a": value}
    return value


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(depth=st.one_of(st.integers(0, 1100), st.integers(28, 33)), width=st.sampled_from([1, 10, 5_000, 12_000]),
       in_list=st.booleans())
def test_json_of_any_depth_and_width_is_stored_readably_or_refused(admin_server, depth, width, in_list):
    url, key = admin_server
    attributes = _nested(depth, width)
    item = {"item_id": f"shape-{depth}-{width}", "seller_id": "seller-x", "title": "t",
            "attributes": {"v": [attributes] if in_list else attributes}}
    headers = {"Authorization": f"Bearer {key}", "content-type": "application/json"}
    try:
        body = json.dumps({"items": [item]})
    except RecursionError:  # deeper than this process can write: sent as text
        body = '{"items": [{"item_id": "shape-deep", "seller_id": "s", "title": "t", "attributes": ' + \
            '{"a": ' * depth + "1" + "}" * depth + "}]}"
    # the row, `attributes` and the list (if any) hold the `depth` nested objects; a wide one holds
    # `width` values at its deepest level
    fits = depth + 2 + in_list <= MAX_JSON_DEPTH and (depth == 0 or width < MAX_JSON_VALUES)
    with httpx.Client(base_url=url, timeout=60, headers=headers) as client:
        answer = client.put("/v1/items", content=body)
        json_errors(None, answer, None)
        assert (answer.status_code == 200) == fits, (depth, width, in_list, answer.status_code, answer.text[:200])
        if fits:
            item_id = answer.json()["items"][0]["item_id"]
            for path in ("", "/similar", "/counterfeit", "/group"):
                read = client.get(f"/v1/items/{item_id}{path}")
                assert read.status_code == 200, (path, read.text[:300])


#: (width, height, format): tiny, ordinary, at and just past the budget for pictures that decode in
#: full, a large JPEG (decoded reduced), and over the pixel limit.
SIDE = int(MAX_UNREDUCED_PIXELS ** 0.5)
SIZE_CLASSES = [(1, 1, "PNG"), (7, 3000, "PNG"), (320, 240, "WEBP"), (640, 480, "GIF"), (SIDE, SIDE, "PNG"),
                (SIDE + 1, SIDE + 1, "PNG"), (SIDE + 1, SIDE + 1, "WEBP"), (6000, 6000, "JPEG"),
                (6400, 6400, "PNG"), (1, 60_000, "PNG")]


@pytest.mark.parametrize("width, height, fmt", SIZE_CLASSES)
def test_pictures_of_every_size_class(admin_server, width, height, fmt):
    url, key = admin_server
    out = io.BytesIO()
    mode = "1" if fmt == "PNG" else "RGB"
    Image.new(mode, (width, height), 1 if mode == "1" else (120, 40, 200)).save(out, format=fmt)
    answer = httpx.post(f"{url}/v1/search", files={"image": (f"p.{fmt.lower()}", out.getvalue())},
                        headers={"Authorization": f"Bearer {key}"}, timeout=60)
    json_errors(None, answer, None)
    reduced = fmt == "JPEG" or width * height <= MAX_UNREDUCED_PIXELS
    if width * height > 40_000_000 or not reduced:
        assert answer.status_code == 413, (width, height, fmt, answer.text[:200])
    else:
        assert answer.status_code in (200, 422), (width, height, fmt, answer.text[:200])  # 422: too plain to hash
