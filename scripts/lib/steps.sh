# Step runner and tool-cache helpers for scripts/setup.sh (sourced, not run).
# shellcheck shell=bash

setup_started=$EPOCHREALTIME
current_step=""
step_note=""

elapsed_since() { # start (EPOCHREALTIME) -> "1.23s" / "2m05s"
  local ms=$((${EPOCHREALTIME/./} / 1000 - ${1/./} / 1000))
  if ((ms < 60000)); then printf '%d.%02ds' $((ms / 1000)) $((ms % 1000 / 10)); else printf '%dm%02ds' $((ms / 60000)) $((ms % 60000 / 1000)); fi
}

# step "description" function args... : one line per step: "setup: <description> ... <note> (<elapsed>)"
step() {
  local name=$1 started=$EPOCHREALTIME
  shift
  current_step=$name
  step_note=""
  printf 'setup: %s ... ' "$name"
  "$@"
  printf '%s (%s)\n' "${step_note:-done}" "$(elapsed_since "$started")"
}

say_present() { step_note="present${1:+ ($1)}"; }
say_using() { step_note="using $1"; }

fail() {
  printf 'FAILED\n' >&2
  printf 'setup: step "%s" failed: %s\n' "$current_step" "$1" >&2
  exit 1
}

fail_with_log() { # message logfile
  printf 'FAILED\n' >&2
  printf 'setup: step "%s" failed: %s\n--- last lines of %s ---\n' "$current_step" "$1" "$2" >&2
  tail -n 25 "$2" >&2 || true
  exit 1
}

need_root() {
  [ "$(id -u)" = 0 ] || fail "'$1' needs root; run setup as root or install it yourself"
}

# start_setup_logs base-dir [keep]: this run's own log folder, base-dir/<UTC time>-<pid>, with base-dir/latest
# pointing at it; only the newest `keep` runs (default 20) are kept. Sets $logs. A later run never
# overwrites an earlier run's logs, so a failure that a second run does not repeat can still be read.
start_setup_logs() {
  local base=$1 keep=${2:-20} name old
  name="$(date -u +%Y%m%dT%H%M%SZ)-$$"
  logs="$base/$name"
  mkdir -p "$logs"
  ln -sfn "$name" "$base/latest"
  # Run folders sort by time; the oldest beyond `keep` go.
  while IFS= read -r old; do
    rm -rf "${base:?}/$old"
  done < <(find "$base" -mindepth 1 -maxdepth 1 -type d -name '[0-9]*T*Z-*' -printf '%f\n' | sort | head -n "-$keep")
}

log_file() { # label -> this run's log file for it
  echo "$logs/$(printf '%s' "$1" | tr -c 'A-Za-z0-9_.-' '_' | cut -c1-60)${2:-}.log"
}

# run_logged "label" log command... : runs quietly into log and returns its exit status. Commands that take
# long print a progress line every 30 s (with the number of log lines, e.g. packages Go compiled).
run_logged() {
  local label=$1 log=$2
  shift 2
  "$@" >"$log" 2>&1 &
  local pid=$! started=$EPOCHREALTIME ticks=0 status=0
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    ticks=$((ticks + 1))
    if ((ticks % 30 == 0)); then
      printf '\nsetup:   ... %s still running (%s, %s log lines)' "$label" "$(elapsed_since "$started")" "$(wc -l <"$log")"
    fi
  done
  ((ticks < 30)) || printf '\nsetup:   ... '
  wait "$pid" || status=$?
  return "$status"
}

# run "label" command... : runs quietly into a log; on failure names the command and shows the log's tail.
run() {
  local label=$1 log
  shift
  log=$(log_file "$label")
  run_logged "$label" "$log" "$@" || fail_with_log "command failed: $label" "$log"
}

# go_download_failure log: the first line of a Go log that says fetching a module failed for a reason that
# may pass (the network, the proxy's 5xx or 429); nothing when there is none. A 403/404 from the proxy or a
# checksum mismatch is final and not listed: retrying would only fail again.
go_download_failure() {
  grep -m1 -E '(dial tcp|i/o timeout|TLS handshake timeout|connection reset by peer|connection refused|unexpected EOF|no such host|Client\.Timeout exceeded|request canceled|stream error|(reading|Get) "?https?://[^ ]*"?:? (429|5[0-9][0-9]))' "$1" || true
}

# run_go "label" command... : as run, for a command that downloads Go modules (go build, go mod download,
# a prepare.sh): when it fails because a download failed, it says so and runs once more, into a log of its
# own; any other failure, or a second one, fails the step.
run_go() {
  local label=$1 log cause
  shift
  log=$(log_file "$label")
  run_logged "$label" "$log" "$@" && return 0
  cause=$(go_download_failure "$log")
  [ -n "$cause" ] || fail_with_log "command failed: $label" "$log"
  printf '\nsetup:   ... %s: a Go module download failed (%s); retrying once, log %s\nsetup:   ... ' \
    "$label" "$(echo "$cause" | cut -c1-160)" "$(log_file "$label" .retry)"
  log=$(log_file "$label" .retry)
  run_logged "$label (retry)" "$log" "$@" || fail_with_log "command failed twice: $label" "$log"
}

ensure_npm_dependencies() {
  local stamp="$root/node_modules/.package-lock.json"
  if [ -f "$stamp" ] && [ "$stamp" -nt "$root/package-lock.json" ] && [ "$stamp" -nt "$root/package.json" ]; then
    say_present
    return
  fi
  run "npm ci" bash -c "cd '$root' && npm ci --no-audit --no-fund"
}

check_go() {
  local v
  command -v go >/dev/null || fail "go is not on PATH (Go >= 1.26 is needed to build the tools)"
  v=$(go env GOVERSION)
  [[ $v =~ ^go1\.([0-9]+) ]] && ((BASH_REMATCH[1] >= 26)) || fail "Go >= 1.26 is needed, found $v"
  step_note=$v
}

# Hash of the Go sources that build a tool: a changed go.mod, go.sum or source rebuilds it.
source_hash() {
  (cd "$root/toolchain/$1" && find . -type f ! -name schema.json -print0 | sort -z | xargs -0 sha256sum) |
    sha256sum | cut -c1-12
}

# A tool already on PATH (outside our tool cache) whose version fits, or nothing.
fitting_tool_on_path() { # binary
  local found
  found=$(PATH=$(echo "$PATH" | tr ':' '\n' | grep -vxF "$SWIFTDEPLOY_TOOLS/bin" | paste -sd:) command -v "$1" || true)
  [ -n "$found" ] || return 0
  case $1 in
  opa) [[ $("$found" version 2>/dev/null | head -1) == "Version: ${OPA_VERSION#v}" ]] && echo "$found" ;;
  pulumi) [[ $("$found" version 2>/dev/null) == "$PULUMI_VERSION" ]] && echo "$found" ;;
  pulumi-language-nodejs) [ -n "$(fitting_tool_on_path pulumi)" ] && echo "$found" ;;
  esac
  return 0
}

# ensure_tool dir version binary build-command: the binary lives in the tool cache under
# <dir>/<version>-<source hash>/ and is linked into $SWIFTDEPLOY_TOOLS/bin.
ensure_tool() {
  local dir=$1 version=$2 binary=$3 build=$4 external key out
  external=$(fitting_tool_on_path "$binary")
  if [ -n "$external" ]; then
    ln -sfn "$external" "$SWIFTDEPLOY_TOOLS/bin/$binary"
    say_using "$external"
    return
  fi
  key="$version-$(source_hash "$dir")"
  out="$SWIFTDEPLOY_TOOLS/$dir/$key"
  if [ -x "$out/$binary" ]; then
    say_present "$key"
  else
    build_into "$dir" "$out" "$build"
  fi
  ln -sfn "$out/$binary" "$SWIFTDEPLOY_TOOLS/bin/$binary"
}

build_into() { # toolchain-dir final-out-dir build-command
  local tmp="$2.partial"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  run_go "build $1" bash -c "cd '$root/toolchain/$1' && out='$tmp' && $3"
  rm -rf "$2"
  mv "$tmp" "$2"
}

# The dynamic-provider plugin ships in @pulumi/pulumi; the CLI looks for it (and the language host) on
# PATH and next to its own binary.
link_dynamic_provider_plugin() {
  local plugin="$root/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs" pulumi_dir
  [ -f "$plugin" ] || fail "$plugin is missing (npm dependencies not installed?)"
  # The script resolves @pulumi/pulumi from the working directory, so one copy serves every checkout.
  pulumi_dir=$(dirname "$(readlink -f "$SWIFTDEPLOY_TOOLS/bin/pulumi")")
  if [[ $pulumi_dir == "$SWIFTDEPLOY_TOOLS"/* ]]; then
    # Our own CLI finds both next to its binary; a second copy on PATH would only earn a warning per run.
    install -m 0755 "$plugin" "$pulumi_dir/pulumi-resource-pulumi-nodejs"
    ln -sfn "$(readlink -f "$SWIFTDEPLOY_TOOLS/bin/pulumi-language-nodejs")" "$pulumi_dir/pulumi-language-nodejs"
    rm -f "$SWIFTDEPLOY_TOOLS/bin/pulumi-resource-pulumi-nodejs" "$SWIFTDEPLOY_TOOLS/bin/pulumi-language-nodejs"
  else
    install -m 0755 "$plugin" "$SWIFTDEPLOY_TOOLS/bin/pulumi-resource-pulumi-nodejs"
  fi
}

# ensure_plugin name version build-command: a resource plugin in Pulumi's plugin cache. An installed plugin
# that we did not build (the official one) wins; ours is reinstalled when its sources change.
ensure_plugin() {
  local name=$1 version=$2 build=$3 plugin_dir key out stamp
  plugin_dir="${PULUMI_HOME:-$HOME/.pulumi}/plugins/resource-$name-v$version"
  stamp="$plugin_dir/.swiftdeploy-build"
  if [ -x "$plugin_dir/pulumi-resource-$name" ] && [ ! -f "$stamp" ]; then
    say_using "installed plugin $plugin_dir"
    return
  fi
  key="$version-$(source_hash "$name")"
  out="$SWIFTDEPLOY_TOOLS/$name/$key"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$out" ] && [ -x "$out/pulumi-resource-$name" ]; then
    say_present "$key"
    return
  fi
  [ -x "$out/pulumi-resource-$name" ] || build_into "$name" "$out" "$build"
  run "pulumi plugin install resource $name $version" \
    pulumi plugin install resource "$name" "$version" --file "$out/pulumi-resource-$name" --reinstall
  echo "$out" >"$stamp"
}
