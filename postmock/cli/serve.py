"""`postmock serve`: options -> one frozen ServeConfig -> postmock.server.run."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from postmock.cli.base import (
    FILE,
    LINES,
    cli,
    converter,
    domain_errors,
    examples,
    header_list,
    upstream_connection_options,
)
from postmock.config import (
    CALL_LINES,
    DEFAULT_BODY_CAP,
    DEFAULT_DELAY,
    DEFAULT_HOST,
    DEFAULT_LOG_BUFFER,
    DEFAULT_LOG_DB,
    DEFAULT_LOG_MAX,
    DEFAULT_MAX_BODY,
    DEFAULT_PORT,
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_WORKERS,
    ServeConfig,
    format_size,
    parse_delay,
    parse_size,
)
from postmock.proxy.url import check_upstream_url
from postmock.templating.variables import parse_assignment

EXAMPLES = examples(
    "postmock serve collection.json -e env.json",
    "postmock serve collection.json -p 0 --var baseUrl=http://localhost --delay 3g",
    "POSTMOCK_PORT=8080 postmock serve collection.json --no-log",
)


@cli.command(epilog=EXAMPLES)
@click.argument("collection", type=FILE)
@click.option(
    "-e",
    "--environment",
    type=FILE,
    envvar="POSTMOCK_ENVIRONMENT",
    help="Postman environment file whose values feed {{variables}}.",
)
@click.option(
    "--globals",
    "globals_file",
    type=FILE,
    envvar="POSTMOCK_GLOBALS",
    help="Postman globals file (below the environment; Postman's mocks ignore globals).",
)
@click.option(
    "--var",
    "variables",
    multiple=True,
    type=LINES,
    metavar="KEY=VALUE",
    envvar="POSTMOCK_VAR",
    callback=converter(parse_assignment),
    help="Set a variable; beats every file. Repeatable; POSTMOCK_VAR: one per line.",
)
@click.option(
    "--host",
    default=DEFAULT_HOST,
    show_default=True,
    envvar="POSTMOCK_HOST",
    help="Interface to bind (0.0.0.0 exposes the mock to your network).",
)
@click.option(
    "-p",
    "--port",
    type=click.IntRange(0, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    envvar="POSTMOCK_PORT",
    help="Port to listen on (0 picks a free one).",
)
@click.option(
    "--api-key",
    "api_keys",
    multiple=True,
    envvar="POSTMOCK_API_KEY",
    metavar="KEY",
    help="Make the mock private: every call needs x-api-key. Repeatable.",
)
@click.option(
    "--delay",
    default=DEFAULT_DELAY,
    show_default=True,
    envvar="POSTMOCK_DELAY",
    callback=converter(parse_delay),
    help="Network delay: none, 2g (300 ms), 3g (100 ms) or MS.",
)
@click.option(
    "--match-body/--no-match-body",
    default=False,
    envvar="POSTMOCK_MATCH_BODY",
    help="Drop examples whose saved request body differs from the call's.",
)
@click.option(
    "--match-headers",
    default="",
    envvar="POSTMOCK_MATCH_HEADERS",
    metavar="K1,K2",
    callback=converter(header_list),
    help="Drop examples lacking these request headers.",
)
@click.option(
    "--fuzzy/--no-fuzzy",
    default=True,
    envvar="POSTMOCK_FUZZY",
    show_default=True,
    help="Allow the 'document distance' path rule (near-miss paths still match).",
)
@click.option(
    "--seed", type=int, envvar="POSTMOCK_SEED", help="Seed dynamic variables for repeatable bodies."
)
@click.option(
    "--max-body-size",
    default=format_size(DEFAULT_MAX_BODY),
    show_default=True,
    envvar="POSTMOCK_MAX_BODY_SIZE",
    callback=converter(parse_size),
    metavar="BYTES",
    help="Larger request bodies get 413.",
)
@click.option(
    "--server-response",
    envvar="POSTMOCK_SERVER_RESPONSE",
    metavar="NAME",
    help="Answer every call with this example (an outage drill).",
)
@click.option(
    "--cors/--no-cors",
    default=True,
    envvar="POSTMOCK_CORS",
    show_default=True,
    help="Add CORS headers and answer preflights.",
)
@click.option(
    "-q", "--quiet", is_flag=True, envvar="POSTMOCK_QUIET", help="No call table or lines."
)
@click.option(
    "--reload/--no-reload",
    default=True,
    envvar="POSTMOCK_RELOAD",
    show_default=True,
    help="Recompile when the collection or environment file changes.",
)
@click.option(
    "--log-db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_LOG_DB,
    show_default=True,
    envvar="POSTMOCK_LOG_DB",
    help="Call-log store (SQLite).",
)
@click.option("--no-log", is_flag=True, envvar="POSTMOCK_NO_LOG", help="Keep no call log.")
@click.option(
    "--log-max",
    type=click.IntRange(1),
    default=DEFAULT_LOG_MAX,
    show_default=True,
    envvar="POSTMOCK_LOG_MAX",
    help="Keep at most this many calls.",
)
@click.option(
    "--log-body-cap",
    default=format_size(DEFAULT_BODY_CAP),
    show_default=True,
    envvar="POSTMOCK_LOG_BODY_CAP",
    callback=converter(parse_size),
    metavar="BYTES",
    help="Cut logged bodies at this size.",
)
@click.option(
    "--redact",
    multiple=True,
    envvar="POSTMOCK_REDACT",
    metavar="NAME",
    help="Also mask values whose header, query or body field name contains NAME. Repeatable.",
)
@click.option(
    "--redact-bodies/--no-redact-bodies",
    default=True,
    show_default=True,
    envvar="POSTMOCK_REDACT_BODIES",
    help="Mask secret fields inside JSON, form and multipart request bodies in the log.",
)
@click.option(
    "--log-buffer",
    default=format_size(DEFAULT_LOG_BUFFER),
    show_default=True,
    envvar="POSTMOCK_LOG_BUFFER",
    callback=converter(parse_size),
    metavar="BYTES",
    help="Calls kept in memory while the store cannot take them; beyond, dropped and counted.",
)
@click.option(
    "-w",
    "--workers",
    type=click.IntRange(1, 64),
    default=DEFAULT_WORKERS,
    show_default=True,
    envvar="POSTMOCK_WORKERS",
    help="Processes sharing the port (SO_REUSEPORT).",
)
@click.option(
    "--ready-file",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="POSTMOCK_READY_FILE",
    help="Write the URL to this file once serving (removed on stop): scripts wait for it.",
)
@click.option(
    "--print-url",
    is_flag=True,
    envvar="POSTMOCK_PRINT_URL",
    help="Print only the URL on stdout once serving; everything else goes to stderr.",
)
# --- the proxy (#16): unmatched calls go to a real API
@click.option(
    "--upstream",
    envvar="POSTMOCK_UPSTREAM",
    metavar="URL",
    callback=converter(check_upstream_url),
    help="Forward calls no example matches to this API and return its answer.",
)
@upstream_connection_options
@click.option(
    "--tls",
    is_flag=True,
    envvar="POSTMOCK_TLS",
    help="Serve HTTPS with a local CA made once under .postmock/tls/ (prints how to trust it).",
)
@click.option(
    "--tls-cert",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="POSTMOCK_TLS_CERT",
    metavar="CERT.pem",
    help="Serve HTTPS with this certificate chain (with --tls-key).",
)
@click.option(
    "--tls-key",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="POSTMOCK_TLS_KEY",
    metavar="KEY.pem",
    help="The private key of --tls-cert.",
)
@click.option(
    "--call-lines",
    type=click.Choice(CALL_LINES),
    default="plain",
    show_default=True,
    envvar="POSTMOCK_CALL_LINES",
    help="What to print per call when stdout is not a terminal: a plain line or the JSON record.",
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    envvar="POSTMOCK_ALLOWED_HOST",
    metavar="NAME",
    help="Also let the /__postmock/ API answer this Host (*.example.com: its subdomains). "
    "Repeatable; localhost and IP addresses always may.",
)
@click.option(
    "--request-timeout",
    type=click.FloatRange(0.1, 3600),
    default=DEFAULT_REQUEST_TIMEOUT,
    show_default=True,
    envvar="POSTMOCK_REQUEST_TIMEOUT",
    metavar="SECONDS",
    help="Close connections that send no complete request (head or body) in this time, "
    "and idle keep-alive ones.",
)
def serve(
    collection: Path,
    environment: Path | None,
    globals_file: Path | None,
    variables: tuple[tuple[str, str], ...],
    host: str,
    port: int,
    api_keys: tuple[str, ...],
    delay: int,
    match_body: bool,
    match_headers: tuple[str, ...],
    fuzzy: bool,
    seed: int | None,
    max_body_size: int,
    server_response: str | None,
    cors: bool,
    quiet: bool,
    reload: bool,
    log_db: Path,
    no_log: bool,
    log_max: int,
    log_body_cap: int,
    redact: tuple[str, ...],
    workers: int,
    ready_file: Path | None,
    print_url: bool,
    upstream: str | None,
    upstream_timeout: float,
    upstream_ca: Path | None,
    upstream_insecure: bool,
    tls: bool,
    tls_cert: Path | None,
    tls_key: Path | None,
    call_lines: str,
    redact_bodies: bool,
    log_buffer: int,
    allowed_hosts: tuple[str, ...],
    request_timeout: float,
) -> None:
    """Serve COLLECTION's saved examples as a mock HTTP server."""
    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError("--tls-cert and --tls-key go together")
    config = ServeConfig(
        collection=collection,
        environment=environment,
        globals_file=globals_file,
        variables=variables,
        host=host,
        port=port,
        api_keys=api_keys,
        delay_ms=delay,
        match_body=match_body,
        match_headers=match_headers,
        fuzzy=fuzzy,
        seed=seed,
        max_body_size=max_body_size,
        server_response=server_response,
        cors=cors,
        quiet=quiet,
        reload=reload,
        log_db=None if no_log else log_db,
        log_max=log_max,
        log_body_cap=log_body_cap,
        redact=redact,
        workers=workers,
        ready_file=ready_file,
        print_url=print_url,
        upstream=upstream,
        upstream_timeout=upstream_timeout,
        upstream_ca=upstream_ca,
        upstream_insecure=upstream_insecure,
        tls=tls,
        tls_cert=tls_cert,
        tls_key=tls_key,
        call_lines=call_lines,
        log_buffer=log_buffer,
        redact_bodies=redact_bodies,
        allowed_hosts=allowed_hosts,
        request_timeout=request_timeout,
    )
    from postmock.server import run  # the server's imports are only paid for by `serve`

    factory = None
    if upstream is not None:
        from postmock.proxy.forward import Forwarder

        factory = Forwarder.from_config
    with domain_errors():
        try:
            run(config, Console(stderr=print_url), factory)
        except KeyboardInterrupt:  # a Ctrl-C outside the server's own handling: no traceback
            raise SystemExit(130) from None
