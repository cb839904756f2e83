"""The mock server: the aiohttp app, its lifecycle, and `--workers`.

`run` is what `postmock serve` calls; the modules inside are imported only when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from postmock.config import ServeConfig
    from postmock.server.upstream import UpstreamFactory


def run(config: ServeConfig, console: Console, upstream: UpstreamFactory | None = None) -> None:
    """Serve until a signal: in this process, or as a supervisor of `--workers` processes.

    `upstream` builds where unmatched calls go when `config.upstream` is set."""
    from postmock.server.tls import resolve

    config = resolve(config)  # `--tls`: the local CA made once, before any worker forks
    if config.workers > 1:
        from postmock.server.workers import run_workers

        run_workers(config, console, upstream)
    else:
        from postmock.server.lifecycle import run_single

        run_single(config, console, upstream=upstream)
