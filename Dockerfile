# incident-bot. Build: docker build -t incident-bot .
# Run (Socket Mode): docker run --env-file .env -v incident-bot-data:/data incident-bot
# See "Deploying" in the README (compose.yaml: PostgreSQL and two replicas; Kubernetes probes).

# ---- build: a virtualenv with the dependencies, then the bot --------------------------------------
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
RUN python -m venv /opt/venv

# The dependencies in a layer of their own: it changes when pyproject.toml does, not with the code.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && /opt/venv/bin/pip install --requirement /tmp/requirements.txt

COPY README.md LICENSE ./
COPY bot ./bot
COPY slack_sim ./slack_sim
# The runtime runs with PYTHONOPTIMIZE=2 and never writes bytecode, so that level is compiled here.
RUN /opt/venv/bin/pip install --no-deps . \
    && /opt/venv/bin/python -m compileall -q -o 2 /opt/venv

# ---- runtime: slim Python, git and ssh, the virtualenv, a numeric non-root user ---------------------
FROM python:3.11-slim

# PYTHONOPTIMIZE=2: modules are loaded without their docstrings (and asserts), ≈3 MB less resident
# memory for every process of the bot (bench/RESULTS.md); tests/slack/test_optimized.py runs serve so.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONOPTIMIZE=2 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    PORT=3000 \
    DATABASE_URL=sqlite:////data/incident-bot.db \
    DOCS_REPO_PATH=/data/docs \
    PACING_DIR=/data/pacing \
    HOME=/data/home

# git publishes RCAs (the bot drives the git binary); ssh is how most git remotes are reached. The
# standard library is compiled at PYTHONOPTIMIZE's level too (its test folders hold files meant not to).
# Debian's security updates change these versions, so they are not pinned.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends git openssh-client ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && python -m compileall -q -o 2 -x '/(tests?|idle_test)/' "$(python -c 'import sysconfig; print(sysconfig.get_path("stdlib"))')"

COPY --from=build /opt/venv /opt/venv
COPY docker/entrypoint.sh /usr/local/bin/incident-bot-entrypoint

# A fixed uid and gid let operators chown a bind-mounted /data to match.
RUN groupadd --gid 10001 incident-bot \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /data/home --shell /usr/sbin/nologin incident-bot \
    && mkdir -p /data/home /data/pacing \
    && chown -R 10001:10001 /data \
    && chmod 0700 /data/pacing \
    && chmod 0755 /usr/local/bin/incident-bot-entrypoint

VOLUME /data
USER 10001:10001
WORKDIR /data
EXPOSE 3000

# /healthz on the configured port; urlopen raises on a refused connection or a non-2xx answer.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"]

ENTRYPOINT ["incident-bot-entrypoint"]
CMD ["serve"]
