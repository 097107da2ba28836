#!/usr/bin/env bash
# Build the real-engine toolchain from Go modules, once per version set, into a cache outside the
# checkout, and print its bin directory. A second run with the cache in place takes seconds.
#
#   scripts/tools.sh            build what is missing, print BIN
#   scripts/tools.sh --check    print BIN if everything is built, else exit 1 (builds nothing)
#
# Nothing of another project's source is kept here: every module comes from the Go module proxy at
# build time, through a small wrapper module per tool (several carry `replace` directives, which
# `go install M@V` refuses). Beside BIN: `pulumi-home/` holds the engine's plugin cache (use it as
# PULUMI_HOME), `plugins/` the provider binaries installed there (kept off PATH, where the engine
# would take them as ambient plugins), and `logs/` each build's output, time and peak memory.
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
GO_VERSION_LINE="go 1.26.0"

VERSIONS="pulumi=$PULUMI python-host=$PULUMI_PYTHON_HOST kubernetes-provider=$KUBERNETES_PROVIDER_MODULE"
VERSIONS+=" kubernetes=$KUBERNETES etcd=$ETCD kwok=$KWOK helm=$HELM recipe=1"
export ROOT="${GITOPS_TOOLS_CACHE:-$HOME/.cache/gitops-tools}/$(printf %s "$VERSIONS" | sha256sum | cut -c1-16)"
export BIN="$ROOT/bin"
PLUGINS="$ROOT/plugins"
TOOLS=(pulumi pulumi-language-python pulumi-language-python-exec
       etcd kube-apiserver kube-controller-manager kube-scheduler kwok helm)

all_built() {
    local tool
    for tool in "${TOOLS[@]}"; do [ -x "$BIN/$tool" ] || return 1; done
    [ -f "$ROOT/pulumi-home/.plugins-installed" ]
}

if [ "${1:-}" = --check ]; then
    all_built && echo "$BIN" && exit 0
    exit 1
fi
all_built && echo "$BIN" && exit 0

command -v go >/dev/null || { echo "tools.sh: go is not on PATH; the toolchain is built with Go 1.26+" >&2; exit 1; }
mkdir -p "$BIN" "$PLUGINS" "$ROOT/src" "$ROOT/logs"
exec 9>"$ROOT/.lock"
flock 9 # one build at a time per cache (CI and a test run may start together)

export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0

# Run one build step with its output, wall time and peak memory in logs/NAME.log.
step() {
    local name=$1
    shift
    local started=$SECONDS
    if ! /usr/bin/time -f "peak memory %M KiB" -o "$ROOT/logs/$name.time" bash -c '"$@"' _ "$@" >"$ROOT/logs/$name.log" 2>&1; then
        echo "tools.sh: building $name failed; the end of $ROOT/logs/$name.log:" >&2
        tail -n 30 "$ROOT/logs/$name.log" >&2
        exit 1
    fi
    echo "tools.sh: $name built in $((SECONDS - started)) s, $(cat "$ROOT/logs/$name.time")" >&2
}

# A wrapper module in src/NAME that requires module@version (plus any further "path version" pairs)
# and repeats the module's non-local replaces.
wrapper() {
    local name=$1 module=$2 version=$3
    shift 3
    local dir="$ROOT/src/$name" gomod
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

# go build PACKAGE... (each at VERSION) into BIN, from the wrapper module in DIR, with LDFLAGS.
build_in() {
    local dir=$1 version=$2 ldflags=$3
    shift 3
    (cd "$dir" && go get "${@/%/@$version}" && go build -trimpath -ldflags "-s -w $ldflags" -o "$BIN/" "$@")
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
    install -m 0755 "$sdk/python/cmd/pulumi-language-python-exec" "$BIN/pulumi-language-python-exec"
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
        -ldflags '-s -w -X $module/pkg/version.Version=$KUBERNETES_PROVIDER' -o '$PLUGINS/' ./$cmd"
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
    step etcd bash -c "cd '$dir' && go get go.etcd.io/etcd/server/v3@$ETCD && go build -trimpath -ldflags '-s -w' -o '$BIN/etcd' go.etcd.io/etcd/server/v3"
}

build_kwok() {
    local dir
    dir=$(wrapper kwok sigs.k8s.io/kwok "$KWOK")
    step kwok build_in "$dir" "$KWOK" "" sigs.k8s.io/kwok/cmd/kwok
    # kwok's stage files (what it does to fake Nodes and Pods) are in its module, not its binary.
    rm -rf "$ROOT/kwok-stages" && cp -r "$(go mod download -json "sigs.k8s.io/kwok@$KWOK" | jq -r .Dir)/kustomize/stage" "$ROOT/kwok-stages"
    chmod -R u+w "$ROOT/kwok-stages"
}

build_helm() {
    local dir minor=${KUBERNETES#v1.} pkg=helm.sh/helm/v3
    minor=${minor%%.*}
    dir=$(wrapper helm "$pkg" "$HELM")
    # Unstamped, `helm template` assumes Kubernetes 1.20.
    step helm build_in "$dir" "$HELM" "-X $pkg/internal/version.version=$HELM -X $pkg/pkg/chartutil.k8sVersionMajor=1 \
        -X $pkg/pkg/chartutil.k8sVersionMinor=$minor" "$pkg/cmd/helm"
}

install_plugins() {
    export PULUMI_HOME="$ROOT/pulumi-home" PULUMI_SKIP_UPDATE_CHECK=true
    "$BIN/pulumi" plugin install resource kubernetes "$KUBERNETES_PROVIDER" \
        --file "$PLUGINS/pulumi-resource-kubernetes" --non-interactive >"$ROOT/logs/plugins.log" 2>&1
    touch "$PULUMI_HOME/.plugins-installed"
}

started=$SECONDS
[ -x "$BIN/pulumi" ] || build_pulumi
[ -x "$BIN/pulumi-language-python" ] && [ -x "$BIN/pulumi-language-python-exec" ] || build_python_host
[ -x "$PLUGINS/pulumi-resource-kubernetes" ] || build_kubernetes_provider
[ -x "$BIN/etcd" ] || build_etcd
[ -x "$BIN/kube-apiserver" ] && [ -x "$BIN/kube-controller-manager" ] && [ -x "$BIN/kube-scheduler" ] || build_kubernetes
[ -x "$BIN/kwok" ] || build_kwok
[ -x "$BIN/helm" ] || build_helm
[ -f "$ROOT/pulumi-home/.plugins-installed" ] || install_plugins
echo "tools.sh: toolchain ready in $((SECONDS - started)) s" >&2
echo "$BIN"
