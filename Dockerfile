# paperbot as a container: `docker build -t paperbot .` then see compose.yaml (or README "Docker").
# Dependencies come from the hash-checked lock file, so every build installs the same versions.

# The build stage is the full image for its C compiler and Python headers: the compiled parts
# declared in setup.py (the PostgreSQL search document's builder, the COPY binary row encoder, the
# paper's content hash) are built here. The slim image that runs the bot needs neither; without
# them the install falls back to the Python code, which gives the same bytes several times slower.
FROM python:3.11-bookworm AS build
WORKDIR /src
RUN python -m venv /opt/paperbot
COPY requirements/runtime.txt requirements/runtime.txt
RUN /opt/paperbot/bin/pip install --no-cache-dir --disable-pip-version-check --require-hashes \
        -r requirements/runtime.txt
COPY pyproject.toml setup.py README.md LICENSE ./
COPY bot bot
COPY cogs cogs
# The dependencies are in already (above, from the lock): only the project itself here.
RUN /opt/paperbot/bin/pip install --no-cache-dir --disable-pip-version-check --no-deps .

FROM python:3.11-slim-bookworm
# A dedicated unprivileged user owns the data volume; the code is root-owned and read-only to it.
RUN groupadd --system --gid 10001 paperbot \
    && useradd --system --uid 10001 --gid paperbot --home-dir /data --shell /usr/sbin/nologin paperbot \
    && mkdir /data \
    && chown paperbot:paperbot /data
COPY --from=build /opt/paperbot /opt/paperbot
WORKDIR /app
COPY config/paperbot.toml config/paperbot.toml
ENV PATH="/opt/paperbot/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PAPERBOT_DB=/data/paperbot.db \
    PAPERBOT_HEALTH__FILE=/data/heartbeat.json
VOLUME ["/data"]
USER 10001:10001
# `paperbot run` rewrites the heartbeat every 30 s; `paperbot health` fails when it is stale, the
# gateway has been down for minutes or the scheduler stopped ticking.
HEALTHCHECK --interval=60s --timeout=10s --start-period=90s --retries=3 CMD ["paperbot", "health"]
# SIGTERM (docker stop) stops the bot cleanly: scheduler stopped, database closed.
STOPSIGNAL SIGTERM
CMD ["paperbot", "run"]
