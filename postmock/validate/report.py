"""Render a ValidationResult: Rich on a terminal, plain lines when piped, JSON, GitHub, SARIF.

The console is injected; nothing here prints on its own.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Literal

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from postmock.validate.annotations import github_lines, sarif_text
from postmock.validate.findings import FileReport, Finding, ValidationResult, plural
from postmock.validate.locate import escape

Format = Literal["text", "json", "github", "sarif"]
FORMATS: tuple[Format, ...] = ("text", "json", "github", "sarif")
_STYLE = {"error": "bold red", "warning": "yellow"}


def render(result: ValidationResult, console: Console, fmt: Format = "text") -> None:
    """Write `result` to `console` in the requested format."""
    if fmt == "json":
        render_json(result, console)
    elif fmt == "sarif":
        console.out(sarif_text(result), highlight=False)
    elif fmt == "github":
        for line in github_lines(result):
            console.out(line, highlight=False)
    elif console.is_terminal:
        render_rich(result, console)
    else:
        render_plain(result, console)


def render_json(result: ValidationResult, console: Console) -> None:
    """One JSON document: files, findings, summary."""
    console.out(json.dumps(result.to_json(), indent=2, ensure_ascii=False), highlight=False)


def plain_line(finding: Finding) -> str:
    """`FILE:PATH: severity: Where: message [code]`, the compiler-style line editors know.

    Always one line: names and messages have their line breaks escaped.
    """
    at = f"{finding.file}:{finding.path}" if finding.path else finding.file
    where = f"{finding.where}: " if finding.where else ""
    return escape(f"{at}: {finding.severity}: {where}{finding.message} [{finding.code}]")


def render_plain(result: ValidationResult, console: Console) -> None:
    """One line per finding, then the summary; no colour, no wrapping."""
    for finding in result.findings:
        console.out(plain_line(finding), highlight=False)
    console.out(_summary_text(result), highlight=False)


def render_rich(result: ValidationResult, console: Console) -> None:
    """Per file: a status line and a table of its findings; then the summary."""
    for report in result.reports:
        console.print(_heading(report))
        if report.findings:
            console.print(_table(report))
    style = "bold red" if result.failed else "bold green"
    console.print(Text(_summary_text(result), style=style))
    counts = Counter(f.code for f in result.findings)
    if len(counts) > 1:
        by_code = ", ".join(f"{code} {n}" for code, n in counts.most_common())
        console.print(Text(f"by code: {by_code} (leave one out with --ignore CODE)", style="dim"))


def _summary_text(result: ValidationResult) -> str:
    strict = " (--strict: warnings fail)" if result.strict and result.warnings else ""
    return result.summary() + strict


def _heading(report: FileReport) -> Text:
    version = f" (v{report.version})" if report.version else ""
    if report.errors:
        mark, style = "✗", "bold red"
    elif report.warnings:
        mark, style = "!", "bold yellow"
    else:
        mark, style = "✓", "bold green"
    heading = Text.assemble((f"{mark} ", style), (report.file, "bold"), version)
    if report.findings:
        counts = f"{plural(report.errors, 'error')}, {plural(report.warnings, 'warning')}"
        heading.append(f" — {counts}", style="dim")
    return heading


def _table(report: FileReport) -> Table:
    table = Table(box=box.SIMPLE, show_edge=False, pad_edge=False, expand=False)
    table.add_column("severity", no_wrap=True)
    table.add_column("where", overflow="fold", ratio=2)
    table.add_column(Text("message [code]"), overflow="fold", ratio=3)
    for finding in report.findings:
        where = Text(finding.where, style="cyan") if finding.where else Text()
        where.append(("\n" if finding.where else "") + (finding.path or "(root)"), style="dim")
        message = Text(escape(finding.message))
        message.append(f" [{finding.code}]", style="dim")
        table.add_row(Text(finding.severity, style=_STYLE[finding.severity]), where, message)
    return table
