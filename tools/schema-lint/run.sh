#!/usr/bin/env bash
# Lints the GraphQL schema (graph/schema/*.graphqls) with graphql-schema-linter, pinned
# by package-lock.json, under the rules of .graphql-schema-linterrc and rules/.
# Exits non-zero on any finding.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
exec node_modules/.bin/graphql-schema-linter --config-directory . --format compact
