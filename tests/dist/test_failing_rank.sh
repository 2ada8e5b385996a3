#!/usr/bin/env bash
# A rank that fails must end the whole job, non-zero, with the rank named: not hang with the
# other ranks waiting for it in a collective (distributed::abort_job, docs/distributed.md).
# Usage: test_failing_rank.sh <mpirun and its flags...> -- <test_dist_equivalence>
set -uo pipefail
launcher=()
while [ "$1" != "--" ]; do launcher+=("$1"); shift; done
shift
program=$1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# 120 s is far more than the job needs; a hang would be killed here (exit 124).
timeout -k 10 120 "${launcher[@]}" "$program" --fail-rank 1 >"$out" 2>&1
rc=$?
cat "$out"
fail() { echo "test_failing_rank: FAILED: $*"; exit 1; }
[ $rc -ne 124 ] && [ $rc -ne 137 ] || fail "the job hung (killed by timeout)"
[ $rc -ne 0 ] || fail "the job exited 0"
grep -q "dlcraft: rank 1 of 2: row 17 of batch 3" "$out" || fail "no message naming rank 1"
if grep -q "finished all steps" "$out"; then fail "a rank went on after the failure"; fi
echo "test_failing_rank: passed (exit code $rc, rank 1 named)"
