#!/usr/bin/env bash
# Checks the Rego policies as CI does: formatted, compiled strictly, tested, and every line of the policy
# (non-test) files covered by the tests. Exits non-zero naming the step that failed.
#
#   bash scripts/policy-check.sh [POLICY_DIR]        (default: policies)
#
# The opa binary is $OPA if set, else `opa` on PATH, else the one scripts/setup.sh links into
# $SWIFTDEPLOY_TOOLS/bin (what `source scripts/env` would put on PATH).
set -euo pipefail

cd "$(dirname "$0")/.."
policy_dir="${1:-policies}"
cached_opa="${SWIFTDEPLOY_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/swiftdeploy/tools}/bin/opa"

find_opa() {
  if [[ -n "${OPA:-}" ]]; then
    echo "$OPA"
  elif command -v opa >/dev/null 2>&1; then
    command -v opa
  else
    echo "$cached_opa"
  fi
}

fail() {
  echo "policy-check: FAILED at step '$1': $2" >&2
  exit 1
}

# Reads `opa test --coverage` JSON on stdin; prints the coverage of the non-test files and, below 100%,
# the uncovered lines, then exits 1.
assert_full_coverage() {
  node -e '
    const report = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const files = Object.entries(report.files ?? {}).filter(([name]) => !name.endsWith("_test.rego"));
    if (files.length === 0) { console.error("no policy files in the coverage report"); process.exit(1); }
    let covered = 0, uncovered = 0;
    const gaps = new Set();
    for (const [name, file] of files) {
      covered += file.covered_lines ?? 0;
      uncovered += file.not_covered_lines ?? 0;
      for (const r of file.not_covered ?? []) gaps.add(`${name}:${r.start.row}-${r.end.row}`);
    }
    const percent = (100 * covered) / (covered + uncovered);
    const names = files.map(([name]) => name.split("/").pop()).join(", ");
    console.log(`policy coverage: ${percent.toFixed(2)}% (${covered} of ${covered + uncovered} lines in ${names})`);
    if (uncovered > 0) { console.error(`not covered: ${[...gaps].join(" ")}`); process.exit(1); }
  '
}

opa_bin="$(find_opa)"
[[ -x "$opa_bin" ]] || fail "find opa" "no executable opa at '$opa_bin' (set OPA, put opa on PATH, or run npm run setup)"
echo "policy-check: $("$opa_bin" version | head -n 1) at $opa_bin, policies in $policy_dir"

echo "policy-check: opa fmt"
"$opa_bin" fmt --list --fail "$policy_dir" \
  || fail "opa fmt" "the files listed above are not formatted (run: opa fmt -w $policy_dir)"

echo "policy-check: opa check --strict"
"$opa_bin" check --strict "$policy_dir" || fail "opa check --strict" "see the errors above"

echo "policy-check: opa test"
"$opa_bin" test "$policy_dir" -v || fail "opa test" "see the failing tests above"

echo "policy-check: opa test --coverage"
coverage_json="$("$opa_bin" test --coverage "$policy_dir")" || fail "opa test --coverage" "opa test failed"
assert_full_coverage <<<"$coverage_json" || fail "coverage" "policy files are not 100% covered by their tests"

echo "policy-check: OK"
