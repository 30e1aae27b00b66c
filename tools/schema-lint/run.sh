#!/usr/bin/env bash
# Lints the GraphQL schema (graph/schema/*.graphqls) with graphql-schema-linter, pinned
# by package-lock.json, under the rules of .graphql-schema-linterrc and rules/.
# Exits non-zero on any finding.
#
# Rules left out on purpose (the schema is public: no rule renames what clients use):
# - type-fields-sorted-alphabetically, input-object-fields-sorted-alphabetically,
#   enum-values-sorted-alphabetically, interface-fields-sorted-alphabetically: the
#   order is meaningful (wizard steps, tiers cheapest first, an event's fields).
# - relay-page-info-spec: PageInfo has endCursor and hasNextPage only (forward
#   pagination); adding hasPreviousPage/startCursor would promise what no list does.
# - descriptions-are-capitalized: some descriptions start with a wire value
#   ("openai, anthropic, …", "todo, in_progress or done.").
# Ours (rules/inkgraph.js): type-names-are-pascal-case (every kind of type),
# input-types-end-with-input, directives-have-descriptions.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
exec node_modules/.bin/graphql-schema-linter --config-directory . --format compact
