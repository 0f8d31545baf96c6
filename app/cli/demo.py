"""Placeholder: filled in by its own change."""
import typer


def demo() -> None:
    """Not built yet."""
    raise typer.Exit(1)
