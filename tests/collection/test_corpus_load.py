"""Every real collection and environment of the shared corpus loads (POSTMOCK_CORPUS).

Run with `POSTMOCK_CORPUS=/work/shared/corpus pytest tests/test_corpus_load.py`; skipped
when the variable is unset.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from postmock.collection import load_collection, load_environment
from postmock.collection.loader import V1_HELP
from postmock.errors import LoadError

pytestmark = pytest.mark.corpus

_ROOT = os.environ.get("POSTMOCK_CORPUS")


def _names(sub: str) -> list[str]:
    """File names under the corpus, for test ids (empty when the corpus is not set)."""
    if not _ROOT or not (Path(_ROOT) / sub).is_dir():
        return []
    return sorted(p.name for p in (Path(_ROOT) / sub).iterdir() if p.suffix == ".json")


def raw_json(path: Path) -> Any:
    return json.loads(path.read_bytes().decode("utf-8-sig"))


def raw_counts(node: Any) -> tuple[int, int]:
    """(request items, examples) counted straight from the JSON, `item` key only."""
    requests = examples = 0
    for entry in node.get("item", []) if isinstance(node, dict) else []:
        if not isinstance(entry, dict):
            continue
        if "request" in entry:
            requests += 1
            examples += len(entry.get("response") or [])
        else:
            r, e = raw_counts(entry)
            requests, examples = requests + r, examples + e
    return requests, examples


def at(document: Any, json_path: str) -> Any:
    """Follow a loader JSON path such as `item[1].item[0].response[2]`."""
    node = document
    for part in json_path.split("."):
        m = re.fullmatch(r"(\w+)((?:\[\d+\])*)", part)
        assert m, json_path
        node = node[m.group(1)]
        for index in re.findall(r"\[(\d+)\]", m.group(2)):
            node = node[int(index)]
    return node


def manifest_table(corpus: Path, heading: str) -> dict[str, list[str]]:
    """Rows of one MANIFEST table, keyed by file name (cells stripped)."""
    rows: dict[str, list[str]] = {}
    in_section = False
    for line in (corpus / "MANIFEST.md").read_text("utf-8").splitlines():
        if line.startswith("## "):
            in_section = line.strip() == heading
            continue
        if in_section and re.match(r"\| \d+ \| `", line):
            cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
            rows[cells[1].strip("`")] = cells
    return rows


@pytest.fixture(scope="module")
def manifest_collections(corpus_dir: Path) -> dict[str, list[str]]:
    return manifest_table(corpus_dir, "## Collections")


@pytest.mark.parametrize("name", _names("collections"))
def test_collection_loads(
    corpus_dir: Path, manifest_collections: dict[str, list[str]], name: str
) -> None:
    path = corpus_dir / "collections" / name
    data = raw_json(path)
    coll = load_collection(path)
    requests, examples = raw_counts(data)
    assert coll.warnings == ()
    assert (len(coll.items), len(coll.examples)) == (requests, examples)
    row = manifest_collections[
        name
    ]  # | # | File | repo | path | commit | licence | schema | req | ex |
    assert (len(coll.items), len(coll.examples)) == (int(row[7]), int(row[8]))
    assert [e.index for e in coll.examples] == list(range(len(coll.examples)))
    items = {it.location: it for it in coll.items}
    for ex in coll.examples:
        raw = at(data, ex.location)
        assert ex.name == (raw.get("name") or "")
        assert ex.location.startswith(ex.item_location + ".response[")
        assert ex.code == (raw["code"] if isinstance(raw.get("code"), int) else 200)
        assert ex.has_original_request is (raw.get("originalRequest") is not None)
        if not ex.has_original_request:
            assert ex.request == items[ex.item_location].request


def test_collection_totals(corpus_dir: Path) -> None:
    files = sorted((corpus_dir / "collections").glob("*.json"))
    assert len(files) == 36
    assert sum(len(load_collection(f).examples) for f in files) == 4019


@pytest.mark.parametrize("name", _names("environments"))
def test_environment_loads(corpus_dir: Path, name: str) -> None:
    path = corpus_dir / "environments" / name
    env = load_environment(path)
    row = manifest_table(corpus_dir, "## Environments")[name]  # | # | File | ... | Values |
    assert env.scope == "environment"
    assert env.warnings == ()
    assert len(env.values) == len(raw_json(path)["values"]) == int(row[6])
    assert env.name == raw_json(path)["name"]


def test_disabled_and_duplicate_environment(corpus_dir: Path) -> None:
    from postmock.templating.variables import VariableScope, layer

    path = (
        corpus_dir
        / "environments"
        / "postmanlabs__newman__disabled-and-duplicates.postman_environment.json"
    )
    env = load_environment(path)
    expected: dict[str, str] = {}
    for entry in raw_json(path)["values"]:
        if entry.get("enabled", True) and not entry.get("disabled", False):
            expected[entry["key"]] = str(entry["value"])
    assert layer(env.values) == expected
    assert dict(VariableScope.build(environment=env).values) == expected
    assert any(v.disabled for v in env.values)


V1_FIRST_SENTENCE = V1_HELP.split(";")[0]

INVALID = {
    "postmanlabs__newman__bom-in-collection-file.postman_collection.json": "collection",
    "postmanlabs__newman__utf16-le-encoding-in-env.postman_environment.json": "environment",
    "postmanlabs__postman-collection-transformer__echo.json": "v1",
    "postmanlabs__postman-collection-transformer__malformed.json": "v1",
    "vernig__twilio-postman-collection__Twilio.postman_collection.json": "collection-with-warnings",
    "vmware__vsphere-automation-sdk-rest__vSphere-Automation-Rest-API-Samples.postman.json": "v1",
}


def test_every_invalid_file_has_an_expectation(corpus_dir: Path) -> None:
    assert sorted(INVALID) == sorted(p.name for p in (corpus_dir / "invalid").glob("*.json"))


def _one_line_error(path: Path, load: Any) -> str:
    with pytest.raises(LoadError) as info:
        load(path)
    text = str(info.value)
    assert "\n" not in text
    assert text.startswith(f"{path}: ")
    return text


@pytest.mark.parametrize("name", _names("invalid"))
def test_invalid_file(corpus_dir: Path, name: str) -> None:
    path = corpus_dir / "invalid" / name
    kind = INVALID[name]
    if kind == "v1":
        text = _one_line_error(path, load_collection)
        assert V1_FIRST_SENTENCE in text
        assert "postman-collection-transformer convert" in text
    elif kind == "collection":  # UTF-8 with a BOM
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")
        coll = load_collection(path)
        assert coll.warnings == ()
        assert coll.schema_version == "2.0"
        assert (len(coll.items), len(coll.examples)) == raw_counts(raw_json(path))
        assert len(coll.items) > 0
    elif kind == "environment":  # UTF-16 LE with a BOM
        assert path.read_bytes().startswith(b"\xff\xfe")
        env = load_environment(path)
        data = json.loads(path.read_bytes().decode("utf-16"))
        assert [(v.key, v.value) for v in env.values] == [
            (e["key"], str(e["value"])) for e in data["values"]
        ]
        assert "environment file, not a collection" in _one_line_error(path, load_collection)
    else:  # `items` instead of `item`: served, with a warning per folder
        coll = load_collection(path)
        data = raw_json(path)
        folders = 0
        stack = list(data["items"])
        while stack:
            entry = stack.pop()
            if "items" in entry:
                folders += 1
                stack.extend(entry["items"])
        assert len(coll.warnings) == folders + 1
        assert coll.warnings[0].where == "items"
        assert all("instead of 'item'" in w.message for w in coll.warnings)
        assert len(coll.items) == 850
        assert coll.examples == ()
