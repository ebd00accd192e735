# Incident Bot. Build: docker build -t incident-bot .
# Run (Socket Mode): docker run -e SLACK_BOT_TOKEN=... -e SLACK_SIGNING_SECRET=... -e SLACK_APP_TOKEN=... \
#   -v incident-bot-data:/data incident-bot
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# gitpython drives the git binary to publish RCAs; ssh is how most git remotes are reached.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git openssh-client \
    && rm -rf /var/lib/apt/lists/*

# A fixed uid lets operators chown a bind-mounted /data to match.
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin incident-bot

WORKDIR /app
COPY . .
RUN pip install . \
    && mkdir -p /data \
    && chown incident-bot:incident-bot /data

# SQLite works out of the box; point DATABASE_URL at PostgreSQL for anything shared.
ENV DATABASE_URL=sqlite:////data/incident-bot.db
VOLUME /data

USER incident-bot
EXPOSE 3000

# urlopen raises on connection errors and non-2xx answers, which makes the check fail.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4)"]

CMD ["incident-bot", "serve", "--port", "3000"]
