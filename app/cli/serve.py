from __future__ import annotations

import asyncio

import typer

from app.cli.common import say
from app.settings import Settings, get_settings

#: Seconds uvicorn keeps an idle connection open. Longer than any client's own idle expiry (httpx
#: and most pools: 5 s; reverse proxies: up to 60 s): with both at 5 s (uvicorn's default), a client
#: reusing a connection in the instant the server closes it got ReadError/RemoteProtocolError (a few
#: per thousand under load; reproduced by reusing 20 connections after 4.98 s idle). An idle
#: connection costs the server only a socket and a timer.
KEEP_ALIVE_S = 75


def serve(
    host: str = typer.Option("127.0.0.1", help="Bind address."),
    port: int = typer.Option(8000),
    workers: int = typer.Option(1),
) -> None:
    """Run the HTTP API with uvicorn (and /metrics on MATCHER_METRICS_PORT when that is set)."""
    import uvicorn

    settings = get_settings()
    if settings.metrics_port is None:
        uvicorn.run(
            "app.asgi:app", host=host, port=port, workers=workers, access_log=False, timeout_keep_alive=KEEP_ALIVE_S
        )
        return
    if workers != 1:
        # Request counts live in the process that answered: a second port of one of N workers would lie.
        raise typer.BadParameter(say("ops.metrics_port_workers"), param_hint="--workers")
    asyncio.run(_serve_with_metrics(host, port, settings))


async def _serve_with_metrics(host: str, port: int, settings: Settings) -> None:
    """The API and the metrics listener in one process and one event loop, so the metrics port
    reports this process's request counts; Ctrl-C or SIGTERM stops both (uvicorn passes the
    captured signal on to the server that installed its handlers first)."""
    import uvicorn

    from app.metrics import metrics_app

    api = uvicorn.Server(
        uvicorn.Config("app.asgi:app", host=host, port=port, access_log=False, timeout_keep_alive=KEEP_ALIVE_S)
    )
    side = uvicorn.Server(
        uvicorn.Config(
            metrics_app(settings.database_url),
            host=settings.metrics_host,
            port=settings.metrics_port or 0,
            access_log=False,
            log_config=None,
            lifespan="off",
        )
    )
    await asyncio.gather(api.serve(), side.serve())
