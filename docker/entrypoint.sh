#!/bin/sh
# The container's entry point: set git up, clone the docs repo on the first start, then run the bot.
#
#   DOCS_REPO_URL         clone this into DOCS_REPO_PATH (default /data/docs) when that folder is empty
#   GIT_SSH_KEY_FILE      a mounted private key for SSH remotes (e.g. /run/secrets/docs_deploy_key)
#   GIT_TOKEN_FILE        a mounted file holding an HTTPS token (e.g. /run/secrets/docs_token)
#   GIT_TOKEN_USERNAME    the user name that goes with the token (default x-access-token, as GitHub wants)
#   PORT                  the port `serve` listens on (default 3000)
set -eu

mkdir -p "${HOME:-/data/home}"

# Commits are the bot's; the identity is also set per commit (GIT_AUTHOR_NAME, GIT_AUTHOR_EMAIL).
git config --global user.name "${GIT_AUTHOR_NAME:-incident-bot}"
git config --global user.email "${GIT_AUTHOR_EMAIL:-incident-bot@users.noreply.github.com}"
git config --global init.defaultBranch main

if [ -n "${GIT_SSH_KEY_FILE:-}" ]; then
    [ -r "$GIT_SSH_KEY_FILE" ] || { echo "incident-bot: GIT_SSH_KEY_FILE ($GIT_SSH_KEY_FILE) cannot be read" >&2; exit 2; }
    # A known_hosts of its own, kept in /data; the first connection to a host records its key.
    GIT_SSH_COMMAND="ssh -i $GIT_SSH_KEY_FILE -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=${HOME:-/data/home}/known_hosts"
    export GIT_SSH_COMMAND
fi

if [ -n "${GIT_TOKEN_FILE:-}" ]; then
    [ -r "$GIT_TOKEN_FILE" ] || { echo "incident-bot: GIT_TOKEN_FILE ($GIT_TOKEN_FILE) cannot be read" >&2; exit 2; }
    # The token is read from the secret file each time git asks; it is never written anywhere else.
    git config --global credential.helper \
        "!f() { test \"\$1\" = get || exit 0; echo username=${GIT_TOKEN_USERNAME:-x-access-token}; printf 'password=%s\\n' \"\$(cat \"$GIT_TOKEN_FILE\")\"; }; f"
fi

docs="${DOCS_REPO_PATH:-/data/docs}"
if [ -n "${DOCS_REPO_URL:-}" ] && { [ ! -e "$docs" ] || [ -z "$(ls -A "$docs" 2>/dev/null)" ]; }; then
    echo "incident-bot: cloning DOCS_REPO_URL into $docs" >&2
    git clone --quiet "$DOCS_REPO_URL" "$docs" || { echo "incident-bot: could not clone DOCS_REPO_URL" >&2; exit 2; }
fi
if [ -d "$docs" ]; then
    export DOCS_REPO_PATH="$docs"
else
    unset DOCS_REPO_PATH  # no docs repo: RCAs are not committed (incident-bot doctor says so)
fi

if [ "${1:-serve}" = "serve" ]; then
    [ "$#" -gt 0 ] && shift
    exec incident-bot serve --port "${PORT:-3000}" "$@"
fi
exec incident-bot "$@"
