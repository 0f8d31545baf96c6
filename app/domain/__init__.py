"""Domain vocabulary shared by every layer (models, services, schemas, CLI, pages, solver glue).

Nothing here imports the web framework or the database: it is plain Python, so the API, the
services, the CLI and the pure solver may all depend on it.
"""
