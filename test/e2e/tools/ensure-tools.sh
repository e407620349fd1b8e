#!/usr/bin/env bash
# Provides the test-only binaries the e2e suite needs -- etcd, kube-apiserver,
# kubectl and helm -- at pinned versions, and prints where they are.
#
# STDOUT contract (others parse it; keep it exactly this):
#   ETCD=/abs/path/etcd
#   KUBE_APISERVER=/abs/path/kube-apiserver
#   KUBECTL=/abs/path/kubectl
#   HELM=/abs/path/helm
# Everything else (progress, errors) goes to stderr.
# `npm run test:e2e` runs this once, then sets PRACTICE_GATE_TOOLS_NOTED=1 for the test files
# that run it again: the notes about which kubectl is used are then said once per run.
#
# Resolution order, per binary:
#   1. TEST_ASSET_ETCD / TEST_ASSET_KUBE_APISERVER / TEST_ASSET_KUBECTL / TEST_ASSET_HELM
#   2. $KUBEBUILDER_ASSETS/{etcd,kube-apiserver,kubectl}   (envtest convention; not helm)
#   3. kubectl only: a plain (non-dispatcher) kubectl on PATH whose minor is within
#      one of the API server's
#   4. the cache: ${PRACTICE_GATE_CACHE:-$HOME/.cache/practice-gate}/e2e/<k8s>/bin,
#      built once from the Go module proxy (see README.md next to this file).
set -euo pipefail

K8S_VERSION=v1.33.13   # k8s.io/kubernetes; staging modules are v0.33.13
HELM_VERSION=v3.19.5   # helm.sh/helm/v3; its Kubernetes default is set to 1.33 below

K8S_MINOR=${K8S_VERSION#v1.}
K8S_MINOR=${K8S_MINOR%%.*}
STAGING_VERSION=v0.${K8S_VERSION#v1.}

# All stdout from here on goes to stderr; the result is printed on fd 3.
exec 3>&1 1>&2

log() { printf 'ensure-tools: %s\n' "$*" >&2; }
die() { printf 'ensure-tools: error: %s\n' "$*" >&2; exit 1; }

abspath() {
  case $1 in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s/%s\n' "$PWD" "$1" ;;
  esac
}

# An explicitly given asset must exist and be executable.
given_asset() { # name path
  local p
  p=$(abspath "$2")
  [[ -f $p && -x $p ]] || die "$1: '$2' is not an executable file"
  printf '%s\n' "$p"
}

# --- explicit assets -------------------------------------------------------------
ETCD= KUBE_APISERVER= KUBECTL= HELM=
if [[ -n ${KUBEBUILDER_ASSETS:-} ]]; then
  [[ -d $KUBEBUILDER_ASSETS ]] || die "KUBEBUILDER_ASSETS='$KUBEBUILDER_ASSETS' is not a directory"
  ETCD=$(given_asset "KUBEBUILDER_ASSETS/etcd" "$KUBEBUILDER_ASSETS/etcd")
  KUBE_APISERVER=$(given_asset "KUBEBUILDER_ASSETS/kube-apiserver" "$KUBEBUILDER_ASSETS/kube-apiserver")
  KUBECTL=$(given_asset "KUBEBUILDER_ASSETS/kubectl" "$KUBEBUILDER_ASSETS/kubectl")
fi
[[ -z ${TEST_ASSET_ETCD:-} ]] || ETCD=$(given_asset TEST_ASSET_ETCD "$TEST_ASSET_ETCD")
[[ -z ${TEST_ASSET_KUBE_APISERVER:-} ]] || KUBE_APISERVER=$(given_asset TEST_ASSET_KUBE_APISERVER "$TEST_ASSET_KUBE_APISERVER")
[[ -z ${TEST_ASSET_KUBECTL:-} ]] || KUBECTL=$(given_asset TEST_ASSET_KUBECTL "$TEST_ASSET_KUBECTL")
[[ -z ${TEST_ASSET_HELM:-} ]] || HELM=$(given_asset TEST_ASSET_HELM "$TEST_ASSET_HELM")

# --- a machine kubectl, if it is a real one close enough to the API server --------
# A gcloud-SDK kubectl is a dispatcher that picks one of several bundled versions
# (its client version reads "v1.32.4-dispatcher"); we do not use that.
if [[ -z $KUBECTL ]] && command -v kubectl >/dev/null 2>&1; then
  sys_kubectl=$(command -v kubectl)
  sys_ver=$(timeout 20 "$sys_kubectl" version --client 2>/dev/null | sed -n 's/^Client Version: //p' || true)
  if [[ $sys_ver =~ ^v1\.([0-9]+)\.[0-9]+$ ]] && (( ${BASH_REMATCH[1]} >= K8S_MINOR - 1 && ${BASH_REMATCH[1]} <= K8S_MINOR + 1 )); then
    [[ -n ${PRACTICE_GATE_TOOLS_NOTED:-} ]] || log "using kubectl $sys_ver from PATH ($sys_kubectl)"
    KUBECTL=$(abspath "$sys_kubectl")
  elif [[ -z ${PRACTICE_GATE_TOOLS_NOTED:-} ]]; then
    log "not using $sys_kubectl (client version '${sys_ver:-unknown}' is not a plain v1.$((K8S_MINOR - 1))-v1.$((K8S_MINOR + 1)) kubectl); using the pinned one"
  fi
fi

# --- the cache -------------------------------------------------------------------
CACHE_ROOT=${PRACTICE_GATE_CACHE:-${HOME:?HOME is not set}/.cache/practice-gate}/e2e/$K8S_VERSION
BIN=$CACHE_ROOT/bin
SRC=$CACHE_ROOT/src   # throwaway wrapper module for the Kubernetes binaries

# Does the cached binary run and report the pinned version?
cached_ok() { # name
  local f=$BIN/$1 out
  [[ -x $f ]] || return 1
  case $1 in
    etcd) out=$("$f" --version 2>&1) || return 1; [[ $out == *"etcd Version: 3.5."* ]] ;;
    kube-apiserver) out=$("$f" --version 2>&1) || return 1; [[ $out == "Kubernetes $K8S_VERSION" ]] ;;
    kubectl) out=$("$f" version --client 2>&1) || return 1; [[ $out == *"Client Version: $K8S_VERSION"* ]] ;;
    helm) out=$("$f" version --short 2>&1) || return 1; [[ $out == "$HELM_VERSION"* ]] ;;
  esac
}

missing() {
  local need=()
  [[ -n $ETCD ]] || cached_ok etcd || need+=(etcd)
  [[ -n $KUBE_APISERVER ]] || cached_ok kube-apiserver || need+=(kube-apiserver)
  [[ -n $KUBECTL ]] || cached_ok kubectl || need+=(kubectl)
  [[ -n $HELM ]] || cached_ok helm || need+=(helm)
  printf '%s\n' "${need[@]}"
}

need=$(missing)
if [[ -n $need ]]; then
  if ! command -v go >/dev/null 2>&1; then
    if [[ -x /usr/local/go/bin/go ]]; then
      PATH=/usr/local/go/bin:$PATH
    else
      die "Go is not installed and these test binaries are not available: $(echo $need).
  Install Go (>= 1.24) so they can be built into $BIN, or point at existing ones with
  KUBEBUILDER_ASSETS (a folder with etcd, kube-apiserver, kubectl) and/or
  TEST_ASSET_ETCD, TEST_ASSET_KUBE_APISERVER, TEST_ASSET_KUBECTL, TEST_ASSET_HELM."
    fi
  fi

  mkdir -p "$BIN"
  exec 9>"$CACHE_ROOT/.lock"
  if command -v flock >/dev/null 2>&1; then
    if ! flock -n 9; then
      log "another ensure-tools.sh is building into $CACHE_ROOT; waiting for it..."
      flock 9
    fi
  else
    log "warning: flock not found; not guarding against concurrent builds"
  fi
  need=$(missing) # the other run may have built them meanwhile
fi

TMP=
cleanup() { [[ -z $TMP ]] || rm -rf "$TMP"; }
trap cleanup EXIT

needs() { grep -qx "$1" <<<"$need"; }

if [[ -n $need ]]; then
  export GOWORK=off CGO_ENABLED=0
  rm -rf "$CACHE_ROOT"/.tmp.* # left by a killed run; we hold the lock
  TMP=$(mktemp -d "$CACHE_ROOT/.tmp.XXXXXX") # same filesystem as $BIN: mv is atomic
  log "using $(go version)"
fi

# --- etcd, kube-apiserver, kubectl: one wrapper module around k8s.io/kubernetes ---
if needs etcd || needs kube-apiserver || needs kubectl; then
  started=$SECONDS
  log "fetching k8s.io/kubernetes@$K8S_VERSION go.mod..."
  k8s_mod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
  [[ -f $k8s_mod ]] || die "could not download k8s.io/kubernetes@$K8S_VERSION from the Go module proxy"

  go_line=$(grep -m1 '^go ' "$k8s_mod")
  # godebug may be one line or a block.
  godebug=$(awk '/^godebug \(/{b=1} b{print; if(/^\)/) b=0; next} /^godebug /{print}' "$k8s_mod")
  # Staging modules are required at v0.0.0 and replaced by local folders, which a
  # module download does not contain: point them at their published releases.
  staging=$(awk '/^require[[:space:]]*\(/{r=1; next} r&&/^\)/{r=0} r&&$1~/^k8s\.io\//&&$2=="v0.0.0"{print $1} /^require k8s\.io\/.* v0\.0\.0$/{print $2}' "$k8s_mod" | sort -u)
  [[ -n $staging ]] || die "found no v0.0.0 k8s.io staging requirements in $k8s_mod"
  etcd_version=$(awk '$1=="go.etcd.io/etcd/server/v3"{print $2; exit}' "$k8s_mod")
  [[ $etcd_version == v3.5.* ]] || die "k8s.io/kubernetes@$K8S_VERSION does not require go.etcd.io/etcd/server/v3 v3.5.x (found '${etcd_version}')"

  base=$(
    echo "// Generated by test/e2e/tools/ensure-tools.sh: builds test binaries; do not edit."
    echo "module practice-gate.invalid/e2e-tools"
    echo
    echo "$go_line"
    echo
    [[ -z $godebug ]] || { echo "$godebug"; echo; }
    echo "require ("
    echo "	k8s.io/kubernetes $K8S_VERSION"
    echo "	go.etcd.io/etcd/server/v3 $etcd_version"
    echo ")"
    echo
    echo "replace ("
    while read -r m; do echo "	$m => $m $STAGING_VERSION"; done <<<"$staging"
    echo ")"
  )
  mkdir -p "$SRC/cmd/etcd"
  if [[ ! -f $SRC/go.mod || ! -f $SRC/go.sum || "$(cat "$SRC/go.mod.base" 2>/dev/null)" != "$base" ]]; then
    log "preparing wrapper module in $SRC (etcd $etcd_version, $(wc -l <<<"$staging") staging modules at $STAGING_VERSION)..."
    rm -f "$SRC/go.mod" "$SRC/go.sum" "$SRC/go.mod.base"
    printf '%s\n' "$base" >"$SRC/go.mod"
    cat >"$SRC/cmd/etcd/main.go" <<'EOF'
// Command etcd is etcd's own server main, built from the version Kubernetes pins.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
    log "downloading Kubernetes and etcd dependencies (first time: a few minutes)..."
    (cd "$SRC" && go get "k8s.io/kubernetes/cmd/kube-apiserver@$K8S_VERSION" \
      "k8s.io/kubernetes/cmd/kubectl@$K8S_VERSION" \
      "go.etcd.io/etcd/server/v3/etcdmain@$etcd_version")
    printf '%s\n' "$base" >"$SRC/go.mod.base"
  fi

  ver=${K8S_VERSION#v}
  ldflags="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=${ver%%.*} -X $p.gitMinor=$K8S_MINOR -X $p.gitTreeState=clean"
  done

  build_k8s() { # name package
    local t=$SECONDS
    log "building $1 (first time takes several minutes)..."
    (cd "$SRC" && go build -trimpath -ldflags "$ldflags" -o "$TMP/$1" "$2")
    mv -f "$TMP/$1" "$BIN/$1"
    cached_ok "$1" || die "built $BIN/$1 but it does not run or report the expected version"
    log "built $1 in $((SECONDS - t))s"
  }
  if needs etcd; then build_k8s etcd ./cmd/etcd; fi
  if needs kube-apiserver; then build_k8s kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver; fi
  if needs kubectl; then build_k8s kubectl k8s.io/kubernetes/cmd/kubectl; fi
  log "Kubernetes binaries ready in $((SECONDS - started))s"
fi

# --- helm: plain go install, with the Kubernetes version it assumes set to ours ---
if needs helm; then
  t=$SECONDS
  log "building helm $HELM_VERSION (first time takes a few minutes)..."
  hl="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  for p in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
    hl+=" -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$K8S_MINOR"
  done
  (cd "$TMP" && GOBIN="$TMP" go install -trimpath -ldflags "$hl" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION")
  mv -f "$TMP/helm" "$BIN/helm"
  cached_ok helm || die "built $BIN/helm but it does not run or report $HELM_VERSION"
  log "built helm in $((SECONDS - t))s"
fi

ETCD=${ETCD:-$BIN/etcd}
KUBE_APISERVER=${KUBE_APISERVER:-$BIN/kube-apiserver}
KUBECTL=${KUBECTL:-$BIN/kubectl}
HELM=${HELM:-$BIN/helm}
printf 'ETCD=%s\nKUBE_APISERVER=%s\nKUBECTL=%s\nHELM=%s\n' "$ETCD" "$KUBE_APISERVER" "$KUBECTL" "$HELM" >&3
