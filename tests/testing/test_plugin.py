"""The pytest plugin, through pytest itself: generated test modules run by `pytester`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SAMPLE = Path(__file__).resolve().parents[2] / "sample_collections"
PETSTORE = SAMPLE / "petstore.postman_collection.json"
ENV = SAMPLE / "petstore.postman_environment.json"

HEADER = f"""
import threading, socket, urllib.error, urllib.request
import pytest

PETSTORE = {str(PETSTORE)!r}
ENV = {str(ENV)!r}

def get(url, method="GET", body=None):
    request = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code
"""


#: Warnings are errors in the generated suites too (a stray socket or thread would show).
INI = "[pytest]\nfilterwarnings = error\nasyncio_default_fixture_loop_scope = function\n"


def run(pytester: pytest.Pytester, body: str, *args: str, ini: str = "") -> pytest.RunResult:
    pytester.makeini(INI + ini)
    pytester.makepyfile(test_generated=HEADER + body)
    return pytester.runpytest("-p", "no:cacheprovider", *args)


def test_strict_fails_the_test_on_an_unmatched_call_and_explains(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
def test_matched(postmock_server):
    mock = postmock_server(PETSTORE, environment=ENV, strict=True)
    assert get(mock.url + "/v1/pets/7") == 200

def test_unmatched(postmock_server):
    mock = postmock_server(PETSTORE, environment=ENV, strict=True)
    assert get(mock.url + "/v1/pet/7") == 404   # the app under test got a 404 and went on

def test_own_failure_wins(postmock_server):
    mock = postmock_server(PETSTORE, environment=ENV, strict=True)
    get(mock.url + "/v1/pet/7")
    assert False, "the test's own failure"

def test_not_strict(postmock_server):
    mock = postmock_server(PETSTORE, environment=ENV)
    assert get(mock.url + "/v1/pet/7") == 404
""",
    )
    result.assert_outcomes(passed=2, failed=2)
    result.stdout.fnmatch_lines(
        ["*test_own_failure_wins*", "*AssertionError: the test's own failure"]
    )
    result.stdout.fnmatch_lines(
        [
            "*test_unmatched*",
            "*1 call(s) matched no example of the collection:*",
            "*GET /v1/pet/7 → 404*",
            "*nearest 'Pet found' (GET {{baseUrl}}/pets/:petId, item*lost on path*",
        ]
    )
    assert "error" not in result.parseoutcomes()  # a failure of the test, not of teardown


def test_assert_called_message_in_the_report(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
def test_checkout(postmock_server):
    mock = postmock_server(PETSTORE, environment=ENV)
    get(mock.url + "/v1/store/orders", "POST", b'{"petId": 1}')
    get(mock.url + "/v1/pets/7")
    mock.assert_called(example="Pet already sold", times=1)
""",
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*expected a call with example='Pet already sold' exactly once; it came 0 times.",
            "*Closest calls (2 of 2, closest first):",
            "*GET /v1/pets/7 → 200 example 'Pet found' (Pets › Get pet by id)  [[]example differs*",
            "*POST /v1/store/orders → 201 example 'Order placed'*",
        ]
    )


def test_marker_and_ini_choose_the_collection_with_strict_markers(
    pytester: pytest.Pytester,
) -> None:
    env = os.path.relpath(ENV, pytester.path)
    result = run(
        pytester,
        """
@pytest.mark.postmock(PETSTORE, variables={"apiVersion": "v9"})
def test_marked(postmock_server):
    mock = postmock_server()
    assert get(mock.url + "/v9/pets/7") == 200
    mock.assert_called(path="/v9/pets/7", times=1)

@pytest.mark.postmock(PETSTORE)
def test_ini_strict(postmock_server):
    mock = postmock_server()
    assert get(mock.url + "/v1/pets/7") == 200   # the environment came from the ini file
    get(mock.url + "/unknown")

@pytest.mark.postmock(PETSTORE, strict=False)
def test_marker_beats_ini(postmock_server):
    get(postmock_server().url + "/unknown")

@pytest.mark.postmock(PETSTORE, strict=True)
def test_call_beats_marker_and_ini(postmock_server):
    mock = postmock_server(strict=False)
    get(mock.url + "/unknown")

def test_no_collection_anywhere(postmock_server):
    postmock_server()
""",
        "--strict-markers",
        ini=f"postmock_environment = {env}\npostmock_strict = true\n",
    )
    result.assert_outcomes(passed=3, failed=2)
    result.stdout.fnmatch_lines(["*test_ini_strict*", "*GET /unknown → 404*"])
    result.stdout.fnmatch_lines(["*postmock_server() needs a collection*"])


def test_reset_and_clean_stop_between_tests(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
SEEN = {}

def test_first(postmock_server):
    SEEN["threads"] = threading.active_count()
    mock = postmock_server(PETSTORE, environment=ENV)
    other = postmock_server(PETSTORE, environment=ENV)
    assert mock.port != other.port
    get(mock.url + "/v1/pets/1")
    mock.reset()
    get(mock.url + "/v1/pets/2")
    assert [c["request"]["path"] for c in mock.calls()] == ["/v1/pets/2"]
    assert other.calls() == []
    SEEN["ports"] = (mock.port, other.port)

def test_after(postmock_server):
    assert threading.active_count() == SEEN["threads"]
    for port in SEEN["ports"]:
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0
""",
    )
    result.assert_outcomes(passed=2)


@pytest.mark.slow
def test_parallel_workers_with_xdist(pytester: pytest.Pytester) -> None:
    body = "".join(
        f"""
def test_{n}(postmock_server, tmp_path_factory):
    mock = postmock_server(PETSTORE, environment=ENV, strict=True)
    for _ in range({n}):
        assert get(mock.url + "/v1/pets/{n}") == 200
    mock.assert_called(path="/v1/pets/{n}", times={n})
    assert len(mock.calls()) == {n}
    print("PORT", mock.port)
"""
        for n in range(1, 7)
    )
    pytester.makeini(INI)
    pytester.makepyfile(test_generated=HEADER + body)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["*2 workers*"])
