#!/usr/bin/env bash
# strata's pull-request job (docs/environments.md#the-ci-recipe): validate
# the project, check the changed models against PostgreSQL, write the plan
# as a pull-request comment (plan.md), build what changed and what depends
# on it in environment pr_<id> (reading everything else from production),
# keep the tests' junit.xml, and drop the environment.
#
#   PR_ID=42 scripts/ci-pull-request.sh
#
# Settings (environment variables):
#   PR_ID        the pull request's number or id (required): the environment is pr_<PR_ID>
#   STRATA       the strata binary (default: bin/strata)
#   PROJECT_DIR  the project's folder (default: .)
#   STRATA_TARGET the target whose production the job compares with and defers to
#   OUT_DIR      where plan.md and junit.xml go (default: the current folder)
#   KEEP_ENV=1   keep the environment after the job (to look at it); drop it later
#                with: strata env drop pr_<PR_ID>
#
# Exit: 0 all passed; otherwise the first failing step's exit code
# (1 a model or test failed, 2 the project or the command line is wrong).
set -uo pipefail

: "${PR_ID:?set PR_ID to the number of the pull request}"
STRATA=${STRATA:-bin/strata}
PROJECT_DIR=${PROJECT_DIR:-.}
OUT_DIR=${OUT_DIR:-.}
env_name="pr_$(printf '%s' "$PR_ID" | tr -c 'a-z0-9_' '_' | tr -s '_')"
strata() { "$STRATA" --project-dir "$PROJECT_DIR" "$@"; }

step() { printf '\n== %s\n' "$*"; }

step "validate"
strata validate || exit $?

step "check the changed models against PostgreSQL (rolled back)"
strata check --no-color -s state:modified+ || exit $?

step "plan -> $OUT_DIR/plan.md"
strata plan --env "$env_name" --output markdown > "$OUT_DIR/plan.md" || exit $?
cat "$OUT_DIR/plan.md"

step "build what changed in environment $env_name"
# A build that runs nothing writes no junit.xml: an earlier one is not this job's.
rm -f "$PROJECT_DIR/target/junit.xml"
strata build --no-color --env "$env_name" -s state:modified+
status=$?

step "junit -> $OUT_DIR/junit.xml"
if [ -f "$PROJECT_DIR/target/junit.xml" ]; then
	cp "$PROJECT_DIR/target/junit.xml" "$OUT_DIR/junit.xml"
else
	echo "no target/junit.xml: the build ran no tests"
fi

if [ "${KEEP_ENV:-}" = 1 ]; then
	step "keeping environment $env_name (KEEP_ENV=1)"
else
	step "drop environment $env_name"
	strata env drop "$env_name" || { [ "$status" -ne 0 ] || status=$?; }
fi
exit "$status"
