# syntax=docker/dockerfile:1
# The matcher service: API (default) or worker (`docker run IMAGE worker`).
# Configure it only through MATCHER_* variables, e.g.
#   docker run -p 8000:8000 -e MATCHER_DATABASE_URL=postgresql+psycopg://user:pw@db/matcher IMAGE
# Without MATCHER_DATABASE_URL it uses an SQLite file in the /data volume.
# Probes: GET /healthz (process up) and GET /readyz (database reachable and migrated); no
# HEALTHCHECK here because the same image also runs the worker, which serves no HTTP.

# ---- build: wheels for the project and all its dependencies (no compilers needed) ----
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml ./
COPY app ./app
COPY migrations ./migrations
RUN pip wheel --wheel-dir /wheels .

# ---- runtime ----
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MATCHER_DATABASE_URL=sqlite:////data/matcher.db \
    MPLCONFIGDIR=/home/matcher/.cache/matplotlib

# A CJK font, so report pages and plots can draw Chinese text.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels cppcc-matcher

COPY docker/entrypoint.sh /usr/local/bin/matcher-entrypoint
RUN chmod 0755 /usr/local/bin/matcher-entrypoint \
    && groupadd --system --gid 10001 matcher \
    && useradd --system --uid 10001 --gid matcher --create-home --home-dir /home/matcher matcher \
    && mkdir -p /data && chown matcher:matcher /data

USER 10001:10001
WORKDIR /home/matcher
# Build matplotlib's font cache now (it finds the CJK font) instead of on the first report.
RUN python -c "import matplotlib.font_manager"

VOLUME ["/data"]
EXPOSE 8000
ENTRYPOINT ["matcher-entrypoint"]
CMD ["serve"]
