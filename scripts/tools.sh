#!/usr/bin/env bash
# Build the real-engine toolchain from Go modules into a cache outside the checkout, and print the
# bin directory of this version set. A second run with the cache in place takes milliseconds.
#
#   scripts/tools.sh            build what is missing, print BIN
#   scripts/tools.sh --check    print BIN if everything is built, else exit 1 (builds nothing)
#
# Nothing of another project's source is kept here: every module comes from the Go module proxy at
# build time, through a small wrapper module per tool (several carry `replace` directives, which
# `go install M@V` refuses).
#
# The cache ($GITOPS_TOOLS_CACHE, default ~/.cache/gitops-tools) holds each tool once per version
# (builds/NAME-VERSION, with src/ and logs/ of its build: output, time, peak memory), so a new
# version of one tool rebuilds only that tool. A version set (sets/HASH) links them into bin/ and
# has the engine's plugin cache in pulumi-home/ (use it as PULUMI_HOME); provider binaries stay off
# PATH, where the engine would take them as ambient plugins.
set -euo pipefail

# The versions. The module proxy here serves only some versions; each line says why this one.
PULUMI=v3.276.0                # newest 3.27x CLI served (pkg/v3); newer than the Python SDK, as supported
PULUMI_PYTHON_HOST=v3.68.0     # newest sdk/v3 that still contains the Python language host: its own
                               # module since v3.80 (sdk/python/cmd/pulumi-language-python/v3) is not served
KUBERNETES_PROVIDER=4.25.0     # the only provider/v4 build served: the v4.25.0 tag's commit (below)
KUBERNETES_PROVIDER_MODULE=v4.0.0-20260115033456-f47bc2d6f199
KUBERNETES=v1.36.3
ETCD=v3.6.16
KWOK=v0.8.0
HELM=v3.22.0
KUSTOMIZE=v5.8.1               # Argo CD's repo-server runs it for Kustomize applications
ARGOCD=v3.2.11                 # not the chart's v3.4.4: every v3.3+ requires its nested module
                               # github.com/argoproj/argo-cd/gitops-engine at a pseudo-version the proxy
                               # does not serve. v3.2.x still uses github.com/argoproj/gitops-engine, which
                               # is served; v3.2.12 does not compile (controller/cache/info.go calls
                               # settings.ValidateExternalURL, which that release lacks): v3.2.11
GO_VERSION_LINE="go 1.26.0"

CACHE=${GITOPS_TOOLS_CACHE:-$HOME/.cache/gitops-tools}
# NAME KEY BUILD-FUNCTION FILES...: what each build leaves in its directory (bin/* go on PATH).
UNITS=(
    "pulumi $PULUMI build_pulumi bin/pulumi"
    "pulumi-language-python $PULUMI_PYTHON_HOST+exec-$PULUMI build_python_host bin/pulumi-language-python bin/pulumi-language-python-exec"
    "pulumi-resource-kubernetes $KUBERNETES_PROVIDER_MODULE build_kubernetes_provider pulumi-resource-kubernetes"
    "etcd $ETCD build_etcd bin/etcd"
    "kubernetes $KUBERNETES build_kubernetes bin/kube-apiserver bin/kube-controller-manager bin/kube-scheduler"
    "kwok $KWOK build_kwok bin/kwok stages"
    "helm $HELM-k8s-${KUBERNETES%.*} build_helm bin/helm"
    "kustomize $KUSTOMIZE build_kustomize bin/kustomize"
    "argocd $ARGOCD build_argocd bin/argocd bin/argocd-application-controller bin/argocd-repo-server"
)
SET="$CACHE/sets/$(printf '%s\n' "${UNITS[@]}" | sha256sum | cut -c1-16)"
export BIN="$SET/bin"

build_dir() { echo "$CACHE/builds/$1-$2"; }

built() { # NAME KEY FILES...
    local dir file
    dir=$(build_dir "$1" "$2")
    shift 2
    for file in "$@"; do [ -e "$dir/$file" ] || return 1; done
}

all_built() {
    local unit
    for unit in "${UNITS[@]}"; do
        # shellcheck disable=SC2086 # a unit is a word list
        set -- $unit
        built "$1" "$2" "${@:4}" || return 1
    done
    [ -f "$SET/pulumi-home/.plugins-installed" ] && [ -x "$BIN/pulumi" ]
}

if [ "${1:-}" = --check ]; then
    all_built && echo "$BIN" && exit 0
    exit 1
fi
all_built && echo "$BIN" && exit 0

command -v go >/dev/null || { echo "tools.sh: go is not on PATH; the toolchain is built with Go 1.26+" >&2; exit 1; }
mkdir -p "$CACHE/builds"
exec 9>"$CACHE/.lock"
flock 9 # one build at a time per cache (CI and a test run may start together)

export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0

# Run one build step of the unit being built (OUT) with its output, wall time and peak memory in
# OUT/logs/NAME.log.
step() {
    local name=$1
    shift
    local started=$SECONDS log="$OUT/logs/$name"
    mkdir -p "$OUT/logs"
    if ! /usr/bin/time -f "peak memory %M KiB" -o "$log.time" bash -c '"$@"' _ "$@" >"$log.log" 2>&1; then
        echo "tools.sh: building $name failed; the end of $log.log:" >&2
        tail -n 30 "$log.log" >&2
        exit 1
    fi
    echo "tools.sh: $name built in $((SECONDS - started)) s, $(cat "$log.time")" >&2
}

# A wrapper module in OUT/src/NAME that requires module@version (plus any further "path version"
# pairs) and repeats the module's non-local replaces.
wrapper() {
    local name=$1 module=$2 version=$3
    shift 3
    local dir="$OUT/src/$name" gomod
    rm -rf "$dir" && mkdir -p "$dir"
    gomod=$(go mod download -json "$module@$version" | jq -r .GoMod)
    {
        printf 'module local.invalid/%s\n\n%s\n\nrequire %s %s\n' "$name" "$GO_VERSION_LINE" "$module" "$version"
        while [ $# -gt 0 ]; do printf 'require %s %s\n' "$1" "$2" && shift 2; done
        go mod edit -json "$gomod" |
            jq -r '(.Replace // [])[] | select(.New.Version) | "replace \(.Old.Path) => \(.New.Path) \(.New.Version)"'
    } >"$dir/go.mod"
    echo "$dir"
}

# go build PACKAGE... (each at VERSION) into OUT/bin, from the wrapper module in DIR, with LDFLAGS.
build_in() {
    local dir=$1 version=$2 ldflags=$3
    shift 3
    (cd "$dir" && go get "${@/%/@$version}" && go build -trimpath -ldflags "-s -w $ldflags" -o "$OUT/bin/" "$@")
}
export -f build_in

build_pulumi() {
    local dir
    dir=$(wrapper pulumi github.com/pulumi/pulumi/pkg/v3 "$PULUMI" github.com/pulumi/pulumi/sdk/v3 "$PULUMI")
    step pulumi build_in "$dir" "$PULUMI" "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI" \
        github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
}

build_python_host() {
    local dir sdk
    dir=$(wrapper pulumi-language-python github.com/pulumi/pulumi/sdk/v3 "$PULUMI_PYTHON_HOST")
    step pulumi-language-python build_in "$dir" "$PULUMI_PYTHON_HOST" "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_PYTHON_HOST" \
        github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python
    # The host runs this script beside it with the program's Python; take the CLI release's copy.
    sdk=$(go mod download -json "github.com/pulumi/pulumi/sdk/v3@$PULUMI" | jq -r .Dir)
    install -m 0755 "$sdk/python/cmd/pulumi-language-python-exec" "$OUT/bin/pulumi-language-python-exec"
}

build_kubernetes_provider() {
    local dir cmd=cmd/pulumi-resource-kubernetes module=github.com/pulumi/pulumi-kubernetes/provider/v4 src
    dir=$(wrapper pulumi-resource-kubernetes "$module" "$KUBERNETES_PROVIDER_MODULE")
    src=$(go mod download -json "$module@$KUBERNETES_PROVIDER_MODULE" | jq -r .Dir)/$cmd
    # main.go embeds two files the provider's release build generates from committed ones
    # (its generate.go): the schema with its version set, and the compacted terraform mapping.
    mkdir -p "$dir/$cmd"
    cp "$src/main.go" "$dir/$cmd/"
    jq -c --arg v "$KUBERNETES_PROVIDER" '.version = $v' "$src/schema.json" >"$dir/$cmd/schema-embed.json"
    jq -c . "$src/terraform-mapping.json" >"$dir/$cmd/terraform-mapping-embed.json"
    chmod -R u+w "$dir"
    step pulumi-resource-kubernetes bash -c "cd '$dir' && go mod tidy && go build -trimpath \
        -ldflags '-s -w -X $module/pkg/version.Version=$KUBERNETES_PROVIDER' -o '$OUT/' ./$cmd"
}

build_kubernetes() {
    local dir gomod minor=${KUBERNETES#v1.} ldflags="" pkg
    minor=${minor%%.*}
    gomod=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES" | jq -r .GoMod)
    dir=$(wrapper kubernetes k8s.io/kubernetes "$KUBERNETES")
    # k8s.io/kubernetes replaces its staging modules with ./staging/...: use each at v0.<minor>.<patch>.
    go mod edit -json "$gomod" |
        jq -r --arg v "v0.${KUBERNETES#v1.}" '.Replace[] | select(.New.Path | startswith("./staging/")) | "replace \(.Old.Path) => \(.Old.Path) \($v)"' \
            >>"$dir/go.mod"
    # Stamped as the release build does: /version answers with it, and clients check it.
    for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        ldflags+=" -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitVersion=$KUBERNETES -X $pkg.gitTreeState=clean"
        ldflags+=" -X $pkg.buildDate=1970-01-01T00:00:00Z"
    done
    step kubernetes build_in "$dir" "$KUBERNETES" "$ldflags" k8s.io/kubernetes/cmd/kube-apiserver \
        k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler
}

build_etcd() {
    local dir sibling args=()
    # etcd's server module replaces its sibling modules with local paths: require them at its version.
    for sibling in api/v3 client/pkg/v3 client/v3 pkg/v3; do args+=("go.etcd.io/etcd/$sibling" "$ETCD"); done
    dir=$(wrapper etcd go.etcd.io/etcd/server/v3 "$ETCD" "${args[@]}")
    step etcd bash -c "cd '$dir' && go get go.etcd.io/etcd/server/v3@$ETCD && go build -trimpath -ldflags '-s -w' -o '$OUT/bin/etcd' go.etcd.io/etcd/server/v3"
}

build_kwok() {
    local dir
    dir=$(wrapper kwok sigs.k8s.io/kwok "$KWOK")
    step kwok build_in "$dir" "$KWOK" "" sigs.k8s.io/kwok/cmd/kwok
    # kwok's stage files (what it does to fake Nodes and Pods) are in its module, not its binary.
    cp -r "$(go mod download -json "sigs.k8s.io/kwok@$KWOK" | jq -r .Dir)/kustomize/stage" "$OUT/stages"
    chmod -R u+w "$OUT/stages"
}

build_helm() {
    local dir minor=${KUBERNETES#v1.} pkg=helm.sh/helm/v3
    minor=${minor%%.*}
    dir=$(wrapper helm "$pkg" "$HELM")
    # Unstamped, `helm template` assumes Kubernetes 1.20.
    step helm build_in "$dir" "$HELM" "-X $pkg/internal/version.version=$HELM -X $pkg/pkg/chartutil.k8sVersionMajor=1 \
        -X $pkg/pkg/chartutil.k8sVersionMinor=$minor" "$pkg/cmd/helm"
}

build_kustomize() {
    local dir
    dir=$(wrapper kustomize sigs.k8s.io/kustomize/kustomize/v5 "$KUSTOMIZE")
    # `kustomize version` (which Argo CD reads) finds its version in the build info of the wrapper.
    step kustomize build_in "$dir" "$KUSTOMIZE" "" sigs.k8s.io/kustomize/kustomize/v5
}

build_argocd() {
    local dir pkg=github.com/argoproj/argo-cd/v3
    dir=$(wrapper argocd "$pkg" "$ARGOCD")
    # One binary serves every component, chosen by the name it runs under (cmd/main.go).
    step argocd bash -c "cd '$dir' && go get $pkg/cmd@$ARGOCD && go build -trimpath \
        -ldflags '-s -w -X $pkg/common.version=${ARGOCD#v} -X $pkg/common.gitTreeState=clean' -o '$OUT/bin/argocd' $pkg/cmd"
    ln -s argocd "$OUT/bin/argocd-application-controller"
    ln -s argocd "$OUT/bin/argocd-repo-server"
}

# Build a unit into its directory unless it is there (an interrupted build leaves only OUT.partial).
provide() {
    local name=$1 key=$2 build=$3 dir
    shift 3
    dir=$(build_dir "$name" "$key")
    built "$name" "$key" "$@" && return 0
    rm -rf "$dir" "$dir.partial"
    mkdir -p "$dir.partial/bin"
    OUT="$dir.partial" "$build"
    mv "$dir.partial" "$dir"
}

started=$SECONDS
rm -rf "$SET" && mkdir -p "$BIN" "$SET/pulumi-home"
for unit in "${UNITS[@]}"; do
    # shellcheck disable=SC2086 # a unit is a word list
    set -- $unit
    provide "$@"
    for file in "${@:4}"; do
        case $file in bin/*) ln -s "$(build_dir "$1" "$2")/$file" "$BIN/" ;; esac
    done
done
ln -s "$(build_dir kwok "$KWOK")/stages" "$SET/kwok-stages"
PULUMI_HOME="$SET/pulumi-home" PULUMI_SKIP_UPDATE_CHECK=true "$BIN/pulumi" plugin install resource kubernetes \
    "$KUBERNETES_PROVIDER" --file "$(build_dir pulumi-resource-kubernetes "$KUBERNETES_PROVIDER_MODULE")/pulumi-resource-kubernetes" \
    --non-interactive >"$SET/plugins.log" 2>&1
touch "$SET/pulumi-home/.plugins-installed"
echo "tools.sh: toolchain ready in $((SECONDS - started)) s" >&2
echo "$BIN"
