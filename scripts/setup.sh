#!/usr/bin/env bash
# Brings this machine to the point where `pulumi up` of the SwiftDeploy stack works for real, using only
# package registries: npm dependencies, a Docker engine, the local base image, and the Go-built tools
# (OPA, Pulumi CLI, Node.js language host, Docker and Command resource plugins).
#
# Idempotent: every step first checks whether its result is already present at the pinned version and
# says "present" (or "using <path>" for a fitting tool already on PATH). One line per step with its
# elapsed time; the first failure stops setup, naming the step, the command and its log.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/toolchain/versions.env"
source "$root/scripts/lib/steps.sh"
source "$root/scripts/env"

# Each run logs into a folder of its own (.swiftdeploy/setup-logs/latest is the newest).
start_setup_logs "$root/.swiftdeploy/setup-logs"
mkdir -p "$SWIFTDEPLOY_TOOLS/bin"

# ---- npm dependencies ---------------------------------------------------------------------------------
step "npm dependencies" ensure_npm_dependencies

# ---- Debian packages and the Docker engine -------------------------------------------------------------
missing_debs() {
  local pkgs=()
  docker_engine_answers || command -v dockerd >/dev/null || pkgs+=(docker.io)
  command -v debootstrap >/dev/null || docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 || pkgs+=(debootstrap)
  command -v tmux >/dev/null || pkgs+=(tmux)
  echo "${pkgs[*]}"
}
# Whether the engine answers: asked once per run when it does (two steps need to know), with
# `docker version` (~15 ms; `docker info` makes the engine gather far more, ~40 ms).
engine_answered=""
docker_engine_answers() {
  [ -n "$engine_answered" ] || { timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1 && engine_answered=yes; }
}

install_debs() {
  local pkgs
  docker_engine_answers || true # asked here, not in missing_debs' subshell, so the answer is kept
  pkgs=$(missing_debs)
  if [ -z "$pkgs" ]; then say_present; return; fi
  need_root "apt-get install $pkgs"
  run "apt-get update" apt-get update -q
  run "apt-get install $pkgs" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $pkgs
}
step "Debian packages (docker.io, debootstrap, tmux)" install_debs

start_dockerd() {
  if docker_engine_answers; then say_present; return; fi
  need_root "dockerd"
  # Started detached so it outlives this script (CI and fresh machines have no init system running it).
  nohup dockerd >"$logs/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 1 60); do docker_engine_answers && return 0; sleep 0.5; done
  fail_with_log "dockerd did not answer within 30 s" "$logs/dockerd.log"
}
step "Docker engine answers" start_dockerd

build_base_image() {
  if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then say_present; return; fi
  local mirror dir
  mirror=$(debian_mirror)
  dir=$(mktemp -d "${TMPDIR:-/tmp}/swiftdeploy-rootfs.XXXXXX")
  # A RETURN trap stays set for every later function return: it removes itself once it has run.
  trap 'rm -rf "$dir"; trap - RETURN' RETURN
  run "debootstrap --variant=minbase bookworm $mirror" debootstrap --variant=minbase bookworm "$dir" "$mirror"
  run "docker import $BASE_IMAGE" bash -c "tar -C '$dir' -c . | docker import - '$BASE_IMAGE'"
}
# The Debian mirror this machine's apt uses; containers reach the same one during docker build.
debian_mirror() {
  local m
  m=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -1)
  [ -n "$m" ] || m=$(grep -hsE '^deb ' /etc/apt/sources.list | awk '{print $2}' | head -1)
  echo "${m:-http://deb.debian.org/debian}"
}
step "base image $BASE_IMAGE" build_base_image

# ---- Go-built tools ------------------------------------------------------------------------------------
step "Go toolchain (>= 1.26, for building tools)" check_go
step "opa $OPA_VERSION" ensure_tool opa "$OPA_VERSION" opa \
  "CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o \$out/opa github.com/open-policy-agent/opa"
step "pulumi $PULUMI_VERSION" ensure_tool pulumi "$PULUMI_VERSION" pulumi \
  "go build -trimpath -ldflags '-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION' -o \$out/pulumi github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
step "pulumi-language-nodejs (sdk $PULUMI_NODEJS_SDK_VERSION)" ensure_tool language-nodejs "$PULUMI_NODEJS_SDK_VERSION" \
  pulumi-language-nodejs \
  "bash ./prepare.sh && go build -trimpath -ldflags '-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_NODEJS_SDK_VERSION' -o \$out/pulumi-language-nodejs github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs"
step "pulumi-resource-pulumi-nodejs (from node_modules)" link_dynamic_provider_plugin
step "Docker provider plugin docker $DOCKER_PLUGIN_VERSION" ensure_plugin docker "$DOCKER_PLUGIN_VERSION" \
  "bash ./prepare.sh && go run -tags no_compose ./cmd/tfgen schema --out ../.build/docker-schema && cp ../.build/docker-schema/schema.json ./cmd/pulumi-resource-docker/schema.json && go build -tags no_compose -trimpath -ldflags '-s -w' -o \$out/pulumi-resource-docker ./cmd/pulumi-resource-docker"
step "Command provider plugin command $COMMAND_PLUGIN_VERSION" ensure_plugin command "$COMMAND_PLUGIN_VERSION" \
  "go build -trimpath -ldflags '-s -w' -o \$out/pulumi-resource-command ."

# ---- Prometheus (tests only) ---------------------------------------------------------------------------
# The canary gate's per-set numbers are checked against a real Prometheus scraping the same admin ports
# (test/integration/prometheus.test.ts). Debian's package would start a service; only its binary is taken.
ensure_prometheus() {
  local dir="$SWIFTDEPLOY_TOOLS/prometheus/$PROMETHEUS_DEB_VERSION" tmp
  if [ -x "$dir/prometheus" ]; then
    ln -sf "$dir/prometheus" "$SWIFTDEPLOY_TOOLS/bin/prometheus"
    say_present
    return
  fi
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/swiftdeploy-prometheus.XXXXXX")
  trap 'rm -rf "$tmp"; trap - RETURN' RETURN
  if ! (cd "$tmp" && apt-get download -q "prometheus=$PROMETHEUS_DEB_VERSION") >>"$logs/prometheus.log" 2>&1; then
    need_root "apt-get update"
    run "apt-get update" apt-get update -q
    run "apt-get download prometheus=$PROMETHEUS_DEB_VERSION" bash -c "cd '$tmp' && apt-get download -q 'prometheus=$PROMETHEUS_DEB_VERSION'"
  fi
  run "dpkg-deb -x prometheus" bash -c "dpkg-deb -x '$tmp'/prometheus_*.deb '$tmp/root'"
  mkdir -p "$dir"
  cp "$tmp/root/usr/bin/prometheus" "$dir/prometheus.tmp"
  mv "$dir/prometheus.tmp" "$dir/prometheus"
  ln -sf "$dir/prometheus" "$SWIFTDEPLOY_TOOLS/bin/prometheus"
}
step "prometheus $PROMETHEUS_DEB_VERSION (Debian's binary)" ensure_prometheus

# ---- the local backend and the dev stack ---------------------------------------------------------------
ensure_dev_stack() {
  mkdir -p "$SWIFTDEPLOY_STATE"
  if [ -f "$SWIFTDEPLOY_STATE/.pulumi/stacks/swiftdeploy/dev.json" ]; then say_present; return; fi
  run "pulumi stack init dev" bash -c "cd '$root' && pulumi stack init dev --non-interactive"
}
step "local state backend and stack dev" ensure_dev_stack

echo "setup: done in $(elapsed_since "$setup_started")"
