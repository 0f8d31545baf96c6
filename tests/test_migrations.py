"""The migration chain is the only way the schema is made, so it must match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from app.db import get_engine
from app.migrate import current_revision, head_revision, include_name
from app.models import Base


def test_upgrade_to_head_matches_models(db):
    engine = get_engine(db.url)
    assert current_revision(engine) == head_revision(db.url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": include_name})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


def test_partial_unique_index_for_active_runs_exists(db):
    indexes = {ix["name"]: ix for ix in inspect(get_engine(db.url)).get_indexes("optimization_runs")}
    ix = indexes["uq_optimization_runs_active_window"]
    assert ix["unique"]
