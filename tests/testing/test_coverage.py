"""`postmock coverage` over real kept calls: a store file and a running server's API."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

from click.testing import CliRunner

from postmock.calllog.record import CallRecord
from postmock.cli import cli
from postmock.collection import load_collection
from postmock.testing import MockServer
from postmock.testing.coverage import measure

SAMPLE = Path(__file__).resolve().parents[2] / "sample_collections"
PETSTORE = SAMPLE / "petstore.postman_collection.json"
ENV = SAMPLE / "petstore.postman_environment.json"
EXAMPLES = 20  # in the sample


def hit(url: str, *paths: str) -> None:
    for path in paths:
        try:
            urllib.request.urlopen(url + path, timeout=10).close()
        except urllib.error.HTTPError as exc:
            exc.close()


def test_coverage_of_a_store_file_text_json_and_fail_under(tmp_path: Path) -> None:
    db = tmp_path / "calls.db"
    with MockServer(PETSTORE, environment=ENV, log_db=db) as mock:
        hit(mock.url, "/v1/pets/7", "/v1/pets/8", "/v1/health", "/v1/nowhere")
    runner = CliRunner()
    result = runner.invoke(cli, ["coverage", str(PETSTORE), "--db", str(db), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["total"], report["served"], report["percent"]) == (EXAMPLES, 2, 10.0)
    assert report["unmatchedCalls"] == 1
    found = {(e["request"], e["name"]): e for e in report["examples"]}
    assert found[("Pets › Get pet by id", "Pet found")]["calls"] == 2
    assert found[("Pets › Get pet by id", "Pet found")]["location"] == "item[0].item[1].response[0]"
    assert found[("Health check", "Healthy")]["calls"] == 1
    assert found[("Orders › Place order", "Order placed")]["calls"] == 0

    text = runner.invoke(cli, ["coverage", str(PETSTORE), "--db", str(db)])
    assert text.exit_code == 0
    assert text.output.startswith("Pet Store: 2 of 20 examples served (10%)")
    assert "    ✓ Pet found: 2  (item[0].item[1].response[0])" in text.output
    assert "Never served (18):" in text.output
    assert "  Orders › Place order › Order placed  (item[2].item[1].item[0].response[0])" in (
        text.output
    )

    under = runner.invoke(cli, ["coverage", str(PETSTORE), "--db", str(db), "--fail-under", "50"])
    assert under.exit_code == 1
    assert under.stderr.strip().splitlines()[-1] == (
        "Error: 10% of the examples were served, under --fail-under 50%"
    )
    over = runner.invoke(cli, ["coverage", str(PETSTORE), "--db", str(db), "--fail-under", "10"])
    assert over.exit_code == 0


def test_coverage_of_a_running_server_and_bad_sources(tmp_path: Path) -> None:
    runner = CliRunner()
    with MockServer(PETSTORE, environment=ENV, log_db=tmp_path / "c.db", api_keys=["k"]) as mock:
        hit(mock.url, *[f"/v1/pets/{n}?x-api-key=no" for n in range(3)])  # 401s: no example
        req = urllib.request.Request(mock.url + "/v1/store/orders/1", headers={"x-api-key": "k"})
        urllib.request.urlopen(req, timeout=10).close()
        url = mock.url
        args = ["coverage", str(PETSTORE), "--url", url, "--format", "json"]
        denied = runner.invoke(cli, args)
        assert denied.exit_code == 1
        assert "wants an API key" in denied.stderr
        result = runner.invoke(cli, [*args, "--api-key", "k"])
        assert result.exit_code == 0, result.output
        report = json.loads(result.output)
        assert report["served"] == 1
        assert [e["name"] for e in report["examples"] if e["calls"]] == ["Order"]
        assert mock.coverage().to_json() == report  # the same, from memory
    gone = runner.invoke(cli, ["coverage", str(PETSTORE), "--url", url])
    assert gone.exit_code == 1
    assert gone.stderr.startswith("Error: cannot reach postmock")
    missing = runner.invoke(cli, ["coverage", str(tmp_path / "nope.json"), "--db", "x.db"])
    assert missing.exit_code == 1
    assert "Traceback" not in missing.output


def test_calls_are_told_apart_by_request_and_example_name() -> None:
    collection = load_collection(PETSTORE)

    def record(request: str | None, name: str, kind: str = "example") -> CallRecord:
        return CallRecord.create(
            method="GET", path="/", response_name=name, request_name=request,
            response_type=kind,  # type: ignore[arg-type]
        )  # fmt: skip

    report = measure(
        collection,
        [
            record("Pets › Get pet by id", "Pet found"),
            record(None, "Order"),  # an older store: no request name, the example name is unique
            record("Elsewhere › Other", "Pet found"),
            record(None, "Other collection's example"),
            CallRecord.create(method="GET", path="/x", status_code=404, response_type="noMatch"),
        ],
    )
    counts = {e.name: e.calls for e in report.examples if e.calls}
    assert counts == {"Pet found": 1, "Order": 1}
    assert (report.elsewhere, report.unmatched) == (2, 1)
    assert measure(collection.__class__("Empty", "x", "v2.1.0"), []).percent == 100.0
