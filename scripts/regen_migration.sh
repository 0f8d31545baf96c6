#!/usr/bin/env bash
# Regenerates the single initial migration (0001) from the models, atomically.
# Only while the project is unreleased: once a schema ships, add new revisions instead.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
cp -r migrations "$tmp/migrations"
find "$tmp"/migrations/versions -name "0*.py" -delete
cat > "$tmp/alembic.ini" <<INI
[alembic]
script_location = $tmp/migrations
INI
MATCHER_DATABASE_URL="sqlite:///$tmp/empty.db" .venv/bin/alembic -c "$tmp/alembic.ini" revision --autogenerate \
  -m "initial schema" --rev-id 0001 >/dev/null
mv "$tmp"/migrations/versions/0001_initial_schema.py migrations/versions/0001_initial_schema.py
rm -rf "$tmp"
echo "migrations/versions/0001_initial_schema.py regenerated"
