"""Warm-up before the "listening" line, so the first call of any kind is as fast as later ones.

Test suites start a mock and call it at once. What a first call used to pay for, once:
Faker's import and instance (hundreds of ms, for any dynamic variable but `$guid`), the
email parser behind multipart bodies, first-use paths of the matching engine. `warm` does
that work before the port is bound, and only the work this collection
needs: a collection without dynamic variables never imports Faker. It draws no value, so
`--seed` gives the same bodies as without it.
"""

from __future__ import annotations

from postmock.matching import IncomingRequest
from postmock.server.state import MockState
from postmock.templating.dynamic import DynamicValues, needs_faker

_BOUNDARY = "postmock-warm-up"
#: One request per body kind the engine parses; the path matches nothing real.
_PROBES = (
    ("GET", "", b""),
    ("POST", "application/json", b'{"warm": [1, {"up": true}]}'),
    ("POST", "application/x-www-form-urlencoded", b"warm=up&a=%20b"),
    (
        "POST",
        f"multipart/form-data; boundary={_BOUNDARY}",
        f'--{_BOUNDARY}\r\nContent-Disposition: form-data; name="warm"\r\n\r\nup\r\n'
        f"--{_BOUNDARY}--\r\n".encode(),
    ),
    ("POST", "application/xml", b"<warm>up</warm>"),
)
PROBE_PATH = "/__postmock_warm_up__/x?warm=up"


def uses_faker(state: MockState) -> bool:
    """Whether any response of this version draws a Faker-backed dynamic variable."""
    for plan in state.plans.values():
        if plan.static_body is None and needs_faker(plan.body.dynamic_names):
            return True
        if plan.static_headers is None and any(
            needs_faker(t.dynamic_names) for _, t in plan.headers
        ):
            return True
    return False


def warm(state: MockState, dynamic: DynamicValues) -> None:
    """Do the first-call work now (blocking: before serving, or on a thread for a reload)."""
    if uses_faker(state):
        dynamic.warm_up()
    state.index.match(IncomingRequest.from_parts("GET", PROBE_PATH))  # a miss, explained
    examples = state.index.examples
    if not examples:
        return
    # Bodies are parsed only when compared with a candidate: probe a real path.
    own = state.index.request_for(examples[0])
    for method, content_type, body in _PROBES:
        headers = {"x-mock-match-request-body": "true"}
        if content_type:
            headers["Content-Type"] = content_type
        state.index.match(IncomingRequest.from_parts(method, own.path, headers, body))
