"""Validated input shapes shared by every face of the service.

The HTTP API (``app.api.schemas``), the services and the CLI all read requests through these
Pydantic models, so a rule on a field holds the same way whether the value came from JSON, a
spreadsheet row or a command line. This package imports nothing from ``app.api`` or the
services; the API's schemas re-export these and add what only HTTP needs (responses, pages,
problem documents).
"""
