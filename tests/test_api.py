"""The JSON API against a real server: scenarios, runs, traces, imports, and bad input."""

from __future__ import annotations

import httpx

from tests.conftest import finished_run
from visualizer.execution.scenarios import Registry

JSON = {"content-type": "application/json"}


def test_scenarios_are_listed_with_their_requests(site: str, registry: Registry) -> None:
    listed = httpx.get(f"{site}/api/scenarios").json()
    assert [s["name"] for s in listed] == registry.names
    create = next(s for s in listed if s["name"] == "create_item")
    assert create["requests"] == [{"method": "POST", "path": "/items/?name=apple"}]


def test_a_run_is_created_then_its_trace_follows_the_contract(site: str) -> None:
    trace = finished_run(site, "item_not_found")
    assert trace["status"] == "done"
    assert trace["scenario"] == "item_not_found"
    assert trace["requests"][0]["status"] == 404
    assert trace["events"][0]["kind"] == "request.start"
    assert trace["steps_observed"] == [{"request": 1, "steps": [1, 2, 3, 4, 6, 7]}]


def test_export_then_import_gives_a_new_run_with_the_same_trace(site: str) -> None:
    original = finished_run(site, "read_items")
    exported = httpx.get(f"{site}/api/runs/{original['id']}?download=1")
    assert "attachment" in exported.headers["content-disposition"]
    imported = httpx.post(f"{site}/api/runs/import", content=exported.content, headers=JSON)
    assert imported.status_code == 201
    new = imported.json()
    assert new["url"] == f"/runs/{new['id']}" and new["id"] != original["id"]
    again = httpx.get(f"{site}/api/runs/{new['id']}").json()
    assert again["events"] == original["events"]
    assert again["deviations"] == original["deviations"]


def test_unknown_things_are_404_with_a_message(site: str) -> None:
    assert httpx.get(f"{site}/api/runs/nope").status_code == 404
    response = httpx.post(f"{site}/api/runs", json={"scenario": "nope"})
    assert response.status_code == 404
    assert "available:" in response.json()["detail"]
    page = httpx.get(f"{site}/runs/nope")
    assert page.status_code == 404 and "There is no run" in page.text
    assert httpx.get(f"{site}/scenarios/nope").status_code == 404
    assert httpx.get(f"{site}/runs/nope/stage?cursor=1").status_code == 404


def test_malformed_input_is_refused_and_nothing_is_stored(site: str) -> None:
    before = httpx.get(site).text.count("/runs/")
    not_json = httpx.post(f"{site}/api/runs/import", content=b"{oops", headers=JSON)
    assert not_json.status_code == 400 and "not JSON" in not_json.json()["detail"]
    not_trace = httpx.post(f"{site}/api/runs/import", json={"events": []})
    assert not_trace.status_code == 422 and "not a valid trace" in not_trace.json()["detail"]
    no_name = httpx.post(f"{site}/api/runs", json={"title": "x"})
    assert no_name.status_code == 422
    assert httpx.get(site).text.count("/runs/") == before


def test_the_api_is_documented(site: str) -> None:
    schema = httpx.get(f"{site}/openapi.json").json()
    paths = schema["paths"]
    assert {"/api/scenarios", "/api/runs", "/api/runs/{run_id}", "/api/runs/import"} <= set(paths)
    assert paths["/api/runs"]["post"]["description"]
    assert httpx.get(f"{site}/docs").status_code == 200
    # The trace contract is in the schema: what an import takes and a run answers.
    components = schema["components"]["schemas"]
    imported = paths["/api/runs/import"]["post"]["requestBody"]["content"]["application/json"]
    assert imported["schema"] == {"$ref": "#/components/schemas/Trace"}
    assert {"Trace", "Event", "Question", "KeyMoment", "PoolStatus"} <= set(components)
    assert {"seq", "kind", "step", "db", "pool", "text"} <= set(components["Event"]["properties"])
    run = paths["/api/runs/{run_id}"]["get"]["responses"]["200"]["content"]["application/json"]
    assert "RunDocument" in str(run["schema"])
    assert {"steps_observed", "deviations"} <= set(components["RunDocument"]["properties"])
    claims = str(components["Choice"]["properties"]["claim"])
    assert "OrderClaim" in claims and "DbAtClaim" in claims


def test_a_trace_that_lost_events_says_so_on_its_page(site: str) -> None:
    original = finished_run(site, "session_ready")
    assert "This trace is incomplete" not in httpx.get(f"{site}/runs/{original['id']}").text
    lost = {**original, "warnings": ["Request 1 was still running 15 s after it was sent."]}
    imported = httpx.post(f"{site}/api/runs/import", json=lost).json()
    page = httpx.get(f"{site}{imported['url']}").text
    assert "This trace is incomplete" in page and "still running 15 s" in page
