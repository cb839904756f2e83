"""The postmock-validate hook, for real: a git repository, `pre-commit install`, commits.

pre-commit installs the hook from a snapshot of this checkout (its working tree, so
uncommitted changes count) into its own virtualenv, as it would from the published
repository; the broken collection must be refused with its file and JSON path.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRE_COMMIT = shutil.which("pre-commit")
V21 = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        PRE_COMMIT is None or shutil.which("git") is None,
        reason="needs the pre-commit and git commands (pip install '.[test]')",
    ),
]


def collection(code: object) -> str:
    doc = {
        "info": {"name": "t", "schema": V21},
        "item": [
            {
                "name": "Get pet",
                "request": {"method": "GET", "url": "https://x.io/pets/1"},
                "response": [{"name": "OK", "code": code, "body": "{}"}],
            }
        ],
    }
    return json.dumps(doc, indent=2)


def git(cwd: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


def snapshot(dest: Path, env: dict[str, str]) -> str:
    """This checkout's working tree as a one-commit repository; its commit id."""
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(
        ROOT / "postmock", dest / "postmock", ignore=shutil.ignore_patterns("__pycache__")
    )
    assert git(dest, "init", "-q", env=env).returncode == 0
    git(dest, "add", "-A", env=env)
    assert git(dest, "commit", "-qm", "snapshot", env=env).returncode == 0
    return git(dest, "rev-parse", "HEAD", env=env).stdout.strip()


def test_hook_blocks_a_broken_collection(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "POSTMOCK_"))},
        "PRE_COMMIT_HOME": str(tmp_path / "cache"),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    source, repo = tmp_path / "postmock", tmp_path / "repo"
    source.mkdir()
    repo.mkdir()
    rev = snapshot(source, env)
    config = (
        f"repos:\n  - repo: {source}\n    rev: {rev}\n    hooks:\n      - id: postmock-validate\n"
    )
    (repo / ".pre-commit-config.yaml").write_text(config, "utf-8")
    assert git(repo, "init", "-q", env=env).returncode == 0
    installed = subprocess.run(
        [str(PRE_COMMIT), "install"], cwd=repo, env=env, capture_output=True, text=True
    )
    assert installed.returncode == 0, installed.stderr

    (repo / "Pets.postman_collection.json").write_text(collection(200), "utf-8")
    git(repo, "add", "-A", env=env)
    good = git(repo, "commit", "-m", "valid collection", env=env)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "postmock validate" in good.stdout + good.stderr
    assert "Passed" in good.stdout + good.stderr

    (repo / "api").mkdir()
    (repo / "api" / "api.postman.json").write_text(collection("200"), "utf-8")
    git(repo, "add", "-A", env=env)
    bad = git(repo, "commit", "-m", "broken collection", env=env)
    output = bad.stdout + bad.stderr
    assert bad.returncode != 0, output
    assert "Failed" in output
    assert "api/api.postman.json:item[0].response[0].code: error:" in output
    assert "expected an integer" in output
    assert git(repo, "log", "--oneline", env=env).stdout.count("\n") == 1  # not committed


def test_readme_local_hook_snippet(tmp_path: Path) -> None:
    """The README's `repo: local` snippet, as written, checks a collection by its name."""
    readme = (ROOT / "README.md").read_text("utf-8")
    start = readme.index("repos:\n  - repo: local")
    snippet = readme[start : readme.index("```", start)]
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "POSTMOCK_"))},
        "PRE_COMMIT_HOME": str(tmp_path / "cache"),
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        # `language: system` runs the postmock installed beside this interpreter
        "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
    }
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".pre-commit-config.yaml").write_text(snippet, "utf-8")
    (repo / "collection.json").write_text(collection("200"), "utf-8")
    (repo / "package.json").write_text("{not json", "utf-8")  # not a collection name: skipped
    assert git(repo, "init", "-q", env=env).returncode == 0
    git(repo, "add", "-A", env=env)
    run = subprocess.run(
        [str(PRE_COMMIT), "run", "--all-files"], cwd=repo, env=env, capture_output=True, text=True
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "collection.json:item[0].response[0].code: error:" in run.stdout
    assert "package.json" not in run.stdout
