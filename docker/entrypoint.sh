#!/bin/sh
# Container entry point: migrate the database to head, then become the service process.
#
#   (no argument) | serve [ARGS]  ->  matcher db upgrade; exec matcher serve --host 0.0.0.0 --port $PORT [ARGS]
#   worker [ARGS]                 ->  matcher db upgrade; exec matcher worker [ARGS]
#   anything else                 ->  exec it as given (e.g. `matcher demo`, `sh`), no migration
#
# Configuration comes only from MATCHER_* variables (read by the application itself). The port is
# MATCHER_PORT, else PORT (set by many platforms), else 8000. MATCHER_SKIP_MIGRATIONS=1 skips the
# upgrade (e.g. when a release job migrates once for many replicas). MATCHER_ENTRYPOINT_DRY_RUN=1
# prints the final command instead of running it (used by the tests).
set -eu

run() {
    if [ "${MATCHER_ENTRYPOINT_DRY_RUN:-0}" = "1" ]; then
        printf '%s\n' "$*"
        exit 0
    fi
    exec "$@"
}

migrate() {
    if [ "${MATCHER_SKIP_MIGRATIONS:-0}" != "1" ]; then
        matcher db upgrade
    fi
}

command="${1:-serve}"
[ "$#" -gt 0 ] && shift

case "$command" in
    serve)
        migrate
        run matcher serve --host 0.0.0.0 --port "${MATCHER_PORT:-${PORT:-8000}}" "$@"
        ;;
    worker)
        migrate
        run matcher worker "$@"
        ;;
    *)
        run "$command" "$@"
        ;;
esac
