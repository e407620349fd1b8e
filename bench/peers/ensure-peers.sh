#!/usr/bin/env bash
# Provides the tools admins would pick instead of practice-gate -- kube-score and Polaris --
# at pinned versions, built from the Go module proxy into a cache outside the repository,
# and prints where they are. Only the benchmarks in bench/ use them.
#
# STDOUT contract (bench/lib/peers.ts parses it; keep it exactly this):
#   KUBE_SCORE=/abs/path/kube-score
#   POLARIS=/abs/path/polaris
# A peer that cannot be had is left out of stdout (its reason goes to stderr), so the
# benchmarks report it as missing instead of failing: they measure, they never gate.
# Everything else (progress, errors) goes to stderr.
#
# Resolution order, per peer:
#   1. PEER_KUBE_SCORE / PEER_POLARIS: an existing binary
#   2. the cache: ${PRACTICE_GATE_CACHE:-$HOME/.cache/practice-gate}/peers/<name>-<version>/<name>,
#      built once with `go install` (GOWORK=off, CGO_ENABLED=0)
#   3. Polaris only, when the module proxy refuses it (it serves no Polaris version; see
#      docs/performance.md): ../shared/peers/build-polaris.sh beside the repository (CI puts a
#      copy of shared/ there; from a git worktree, beside its main checkout too; PEERS_SHARED_DIR
#      names another shared/), which builds Polaris 10.2.2 from its source archive into the
#      same cache and prints the binary's path.
# KUBE_SCORE_VERSION and POLARIS_VERSION pick other releases.
set -euo pipefail

KUBE_SCORE_VERSION=${KUBE_SCORE_VERSION:-v1.20.0}
# Polaris' go.mod says `module github.com/fairwindsops/polaris` without a /vN suffix, so its
# v9/v10 tags are not valid module versions: Go can only fetch a tagged commit as a
# pseudo-version. POLARIS_VERSION takes either form.
POLARIS_VERSION=${POLARIS_VERSION:-v10.2.2}

exec 3>&1 1>&2

log() { printf 'ensure-peers: %s\n' "$*" >&2; }
die() { printf 'ensure-peers: error: %s\n' "$*" >&2; exit 1; }

abspath() {
  case $1 in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s/%s\n' "$PWD" "$1" ;;
  esac
}

given() { # name path
  local p
  p=$(abspath "$2")
  [[ -f $p && -x $p ]] || die "$1: '$2' is not an executable file"
  printf '%s\n' "$p"
}

CACHE_ROOT=${PRACTICE_GATE_CACHE:-${HOME:?HOME is not set}/.cache/practice-gate}/peers
KS_DIR=$CACHE_ROOT/kube-score-$KUBE_SCORE_VERSION
PO_DIR=$CACHE_ROOT/polaris-$POLARIS_VERSION

KUBE_SCORE= POLARIS=
[[ -z ${PEER_KUBE_SCORE:-} ]] || KUBE_SCORE=$(given PEER_KUBE_SCORE "$PEER_KUBE_SCORE")
[[ -z ${PEER_POLARIS:-} ]] || POLARIS=$(given PEER_POLARIS "$PEER_POLARIS")

ks_ok() { [[ -x $KS_DIR/kube-score ]] && "$KS_DIR/kube-score" version 2>&1 | grep -q "version: $KUBE_SCORE_VERSION"; }
po_ok() { [[ -x $PO_DIR/polaris ]] && "$PO_DIR/polaris" version >/dev/null 2>&1; }

if { [[ -z $KUBE_SCORE ]] && ! ks_ok; } || { [[ -z $POLARIS ]] && ! po_ok; }; then
  if ! command -v go >/dev/null 2>&1; then
    [[ -x /usr/local/go/bin/go ]] || die "Go is not installed: install Go (>= 1.24) to build the peers, or set PEER_KUBE_SCORE / PEER_POLARIS"
    PATH=/usr/local/go/bin:$PATH
  fi
  mkdir -p "$CACHE_ROOT"
  exec 9>"$CACHE_ROOT/.lock"
  if command -v flock >/dev/null 2>&1; then
    if ! flock -n 9; then
      log "another ensure-peers.sh is building into $CACHE_ROOT; waiting for it..."
      flock 9
    fi
  else
    log "warning: flock not found; not guarding against concurrent builds"
  fi
  export GOWORK=off CGO_ENABLED=0
  rm -rf "$CACHE_ROOT"/.tmp.* # left by a killed run; we hold the lock
  log "using $(go version)"
fi

# Where shared/ may be: PEERS_SHARED_DIR, ../shared beside this repository, and for a git
# worktree ../shared beside its main checkout (the worktree itself may live elsewhere).
shared_candidates() {
  local repo common
  repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  [[ -z ${PEERS_SHARED_DIR:-} ]] || printf '%s\n' "$(abspath "$PEERS_SHARED_DIR")/peers/build-polaris.sh"
  printf '%s\n' "$(dirname "$repo")/shared/peers/build-polaris.sh"
  if common=$(git -C "$repo" rev-parse --path-format=absolute --git-common-dir 2>/dev/null) && [[ $(dirname "$common") != "$repo" ]]; then
    printf '%s\n' "$(dirname "$(dirname "$common")")/shared/peers/build-polaris.sh"
  fi
}
shared_build_polaris() {
  local c
  while read -r c; do
    if [[ -f $c ]]; then printf '%s\n' "$c"; return 0; fi
  done < <(shared_candidates)
  return 1
}

TMP=
cleanup() { [[ -z $TMP ]] || rm -rf "$TMP"; }
trap cleanup EXIT

# go install into a temporary GOBIN on the cache's filesystem, then an atomic mv.
build() { # name dir package@version ldflags
  local t=$SECONDS
  TMP=$(mktemp -d "$CACHE_ROOT/.tmp.XXXXXX")
  log "building $1 from $3 (first time: a few minutes on 2 cores)..."
  if ! (cd "$TMP" && GOBIN="$TMP/bin" go install -trimpath -ldflags "$4" "$3" 2>"$TMP/build.log"); then
    sed 's/^/ensure-peers:   /' "$TMP/build.log" | tail -5 >&2
    rm -rf "$TMP"; TMP=
    return 1
  fi
  mkdir -p "$2"
  mv -f "$TMP/bin/$1" "$2/$1"
  rm -rf "$TMP"; TMP=
  log "built $1 in $((SECONDS - t))s"
}

if [[ -z $KUBE_SCORE ]]; then
  if ks_ok || build kube-score "$KS_DIR" "github.com/zegl/kube-score/cmd/kube-score@$KUBE_SCORE_VERSION" "-s -w -X main.version=$KUBE_SCORE_VERSION"; then
    ks_ok || die "built $KS_DIR/kube-score but it does not report $KUBE_SCORE_VERSION"
    KUBE_SCORE=$KS_DIR/kube-score
  else
    log "kube-score $KUBE_SCORE_VERSION could not be built (see above); the benchmarks will leave it out"
  fi
fi

if [[ -z $POLARIS ]]; then
  if po_ok || build polaris "$PO_DIR" "github.com/fairwindsops/polaris@$POLARIS_VERSION" "-s -w -X main.Version=$POLARIS_VERSION"; then
    po_ok || die "built $PO_DIR/polaris but it does not run"
    POLARIS=$PO_DIR/polaris
  elif [[ ${POLARIS_VERSION#v} != 10.2.2 ]]; then
    log "Polaris $POLARIS_VERSION could not be fetched or built (see above), and shared/peers/ only holds 10.2.2;"
    log "  the benchmarks will leave it out. To include it, build it elsewhere and set PEER_POLARIS=/path/to/polaris."
  elif script=$(shared_build_polaris); then
    log "the module proxy refused Polaris; building it with $script"
    if POLARIS=$(bash "$script" | tail -n 1) && [[ -x $POLARIS ]]; then
      log "Polaris from $script: $POLARIS"
    else
      POLARIS=
      log "error: $script failed (see above); the benchmarks will leave Polaris out"
    fi
  else
    log "error: Polaris $POLARIS_VERSION cannot be had: the Go module proxy refused it (see above) and"
    log "  build-polaris.sh is not in any shared/peers/ looked at:"
    shared_candidates | sed 's/^/ensure-peers:     /' >&2
    log "  Put the shared/ folder beside the repository (../shared), set PEERS_SHARED_DIR=/path/to/shared,"
    log "  or set PEER_POLARIS=/path/to/polaris. The benchmarks will leave Polaris out."
  fi
fi

[[ -z $KUBE_SCORE ]] || printf 'KUBE_SCORE=%s\n' "$KUBE_SCORE" >&3
[[ -z $POLARIS ]] || printf 'POLARIS=%s\n' "$POLARIS" >&3
