#!/usr/bin/env bash
# strata's deploy job (docs/environments.md#the-ci-recipe): build production
# from main. What it builds is recorded in the target (schema strata_meta),
# which pull-request jobs compare with (state:modified) and read from (defer).
#
#   scripts/ci-deploy.sh
#
# Settings (environment variables):
#   STRATA        the strata binary (default: bin/strata)
#   PROJECT_DIR   the project's folder (default: .)
#   STRATA_TARGET the production target
#   BUILD_ARGS    more arguments for strata build (e.g. "-s state:modified+" to
#                 build only what changed since the last deploy)
set -euo pipefail

STRATA=${STRATA:-bin/strata}
PROJECT_DIR=${PROJECT_DIR:-.}
strata() { "$STRATA" --project-dir "$PROJECT_DIR" "$@"; }

strata validate
# shellcheck disable=SC2086 # BUILD_ARGS is split on purpose
strata build --no-color ${BUILD_ARGS:-}
