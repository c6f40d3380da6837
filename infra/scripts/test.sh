#!/usr/bin/env bash
# `make test`: bring the local stack up, build, check formatting, validate docs/asyncapi.yaml, run every test assembly with
# the stack's environment, tear the stack down, and print "N passed, N failed" as the last line
# (preceded by the failed tests' names and first message lines, since CI keeps only the tail).
# Exit status: non-zero when the build/format check fails, any test fails, or no test ran.
# Teardown: a stack this run started runs on its own data (.local/data-test and its own
# PostgreSQL directory) and is stopped and deleted at the end (also on failure or Ctrl-C), so
# make run never inherits test topics. A stack that was already fully up beforehand (make run,
# other engineers) is used as it is and left running. MESSAGING_TEST_KEEP_STACK=1 never stops it.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

CONFIGURATION="${CONFIGURATION:-Release}"
SLN="$ROOT/Messaging.sln"
TEST_LOG="$LOG_DIR/test.log"
STACK="$ROOT/infra/scripts/stack.sh"
passed=0 failed=0 total_ran=0 stack_started=0

finish() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ "${MESSAGING_TEST_KEEP_STACK:-}" == 1 ]]; then
    say "test: MESSAGING_TEST_KEEP_STACK=1, leaving the stack up"
  elif ((stack_started)); then
    # The stack this run started holds only test data: delete it with the stack.
    "$STACK" purge || say "test: warning: stack.sh purge failed"
  else
    say "test: the stack was already up before this run; leaving it up (make infra-down stops it)"
  fi
  # CI keeps only the tail of the output: name the failed tests and their first message
  # lines here, after the teardown's lines, so a failure on a fresh machine can be read there.
  ((failed > 0)) && failed_tests
  printf '%s passed, %s failed\n' "$passed" "$failed"
  exit "$rc"
}

# "  Failed <test> [time]" then "  Error Message:" and its lines up to "  Stack Trace:" (console
# logger, normal verbosity): at most 5 tests, 4 message lines each, 240 characters a line.
failed_tests() {
  [[ -f "$TEST_LOG" ]] || return 0
  awk '
    /^[[:space:]]*Failed [^:!].* \[[^]]*\][[:space:]]*$/ { if (n >= 5) { more++; msg = 0; next } n++; sub(/^[[:space:]]*/, ""); print "test: " $0; msg = 0; lines = 0; next }
    /^[[:space:]]*Error Message:/ { msg = (n <= 5 && !more); next }
    /^[[:space:]]*Stack Trace:/ { msg = 0; next }
    msg && lines < 4 { sub(/^[[:space:]]*/, ""); print "test:   " substr($0, 1, 240); lines++ }
    END { if (more) print "test: ... and " more " more failed test(s)" }
  ' "$TEST_LOG"
}
trap finish EXIT
trap 'exit 130' INT TERM

mkdir -p "$LOG_DIR"
"$STACK" status >/dev/null 2>&1 || stack_started=1
if ((stack_started)); then
  # A stack of our own runs on its own data (Kafka, ZooKeeper, S3 under .local/data-test,
  # PostgreSQL in its own directory), never on make run's: test topics never reach make run.
  export MESSAGING_DATA_DIR="$LOCAL/data-test"
  export PG_DATA_DIR="${PG_DATA_DIR_TEST:-/tmp/messaging-pg-test-$(printf '%s' "$ROOT" | sha256sum | cut -c1-8)}"
fi
"$STACK" up
eval "$("$STACK" env)"

# No MSBuild node reuse: CI machines should not keep build nodes alive after the run.
dotnet build "$SLN" -c "$CONFIGURATION" -nodeReuse:false
dotnet format "$SLN" --verify-no-changes --no-restore
# The checked contract: docs/asyncapi.yaml must be a valid AsyncAPI document.
"$ROOT/infra/scripts/validate-contract.sh"

set +e
dotnet test "$SLN" -c "$CONFIGURATION" --no-build --logger "console;verbosity=normal" \
  ${DOTNET_TEST_ARGS:-} 2>&1 | tee "$TEST_LOG"
test_rc=${PIPESTATUS[0]}
set -e

# Totals over all assemblies. With the normal-verbosity console logger each assembly prints
#   Total tests: N / Passed: N / Failed: N / Skipped: N / Total time: ...
# The one-line form "Failed!  - Failed: 1, Passed: 2, Skipped: 0, Total: 3" (minimal
# verbosity) is used only when no such block exists, so nothing is counted twice.
read -r passed failed < <(awk '
  function num(line, key,   s) { if (match(line, key ":[[:space:]]*[0-9]+")) { s = substr(line, RSTART, RLENGTH); gsub(/[^0-9]/, "", s); return s + 0 } return 0 }
  /^[[:space:]]*Total tests:[[:space:]]*[0-9]+/ { inblock = 1; blocks++; next }
  inblock && /^[[:space:]]*Passed:[[:space:]]*[0-9]+[[:space:]]*$/ { bp += num($0, "Passed") }
  inblock && /^[[:space:]]*Failed:[[:space:]]*[0-9]+[[:space:]]*$/ { bf += num($0, "Failed") }
  inblock && /Total time:/ { inblock = 0 }
  /(Passed|Failed)![[:space:]]+-[[:space:]]+Failed:.*Passed:.*Total:/ { lp += num($0, "Passed"); lf += num($0, "Failed") }
  END { if (blocks) print bp + 0, bf + 0; else print lp + 0, lf + 0 }
' "$TEST_LOG")
total_ran=$((passed + failed))

if ((test_rc != 0)); then
  say "test: dotnet test exited with $test_rc (full output: $TEST_LOG)"
  exit "$test_rc"
fi
if ((failed > 0)); then
  say "test: $failed test(s) failed (full output: $TEST_LOG)"
  exit 1
fi
if ((total_ran == 0)); then
  say "test: no tests ran (full output: $TEST_LOG)"
  exit 1
fi
