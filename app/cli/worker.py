"""Placeholder: filled in by its own change."""
import typer


def worker() -> None:
    """Not built yet."""
    raise typer.Exit(1)
