from __future__ import annotations

import typer


def serve(
    host: str = typer.Option("127.0.0.1", help="Bind address."),
    port: int = typer.Option(8000),
    workers: int = typer.Option(1),
) -> None:
    """Run the HTTP API with uvicorn."""
    import uvicorn

    uvicorn.run("app.asgi:app", host=host, port=port, workers=workers, access_log=False)
