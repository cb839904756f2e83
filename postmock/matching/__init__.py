"""The matching engine: compile a collection's examples once, then pick one per request.

Implements Postman's matching algorithm (docs: postman-mock-behavior.md §3): method,
x-mock-* control headers, path rules with scores, query scoring, optional header and
body matching, tie-breaks; a miss lists the nearest examples and why each lost. Pure, no I/O.
"""

from postmock.matching.index import MatchIndex, shadowed_examples
from postmock.matching.model import (
    IncomingRequest,
    Match,
    MatchConfig,
    MatchRule,
    Miss,
    MissReason,
    Rejection,
    Stage,
)

__all__ = [
    "IncomingRequest",
    "Match",
    "MatchConfig",
    "MatchIndex",
    "MatchRule",
    "Miss",
    "MissReason",
    "Rejection",
    "Stage",
    "shadowed_examples",
]
