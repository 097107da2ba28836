#!/usr/bin/env bash
# A local Kubernetes control plane from the toolchain (scripts/tools.sh): etcd, kube-apiserver
# (client certificates, RBAC, an audit log), kube-controller-manager, kube-scheduler and kwok with
# fake Nodes (three, or $GITOPS_CLUSTER_NODES: Argo CD's HA redis wants one Node per replica), so
# Pods become Ready without kubelets. Loopback only, on ports chosen free at start.
#
#   scripts/cluster.sh up DIR     start it in DIR (created), print DIR/kubeconfig when it is ready
#   scripts/cluster.sh down DIR   stop every process it started, by process id
#
# DIR also holds the certificates, each process's log (logs/), its process id and name (pids) and
# the API server's audit log (audit.log, one JSON line per request).
set -euo pipefail

usage() { echo "usage: scripts/cluster.sh up|down DIR" >&2; exit 64; }
[ $# -eq 2 ] || usage
command=$1
DIR=$2

down() {
    local pid pids
    [ -f "$DIR/pids" ] || return 0
    mapfile -t pids < <(tac "$DIR/pids" | cut -d" " -f1)
    # Last started first: kwok and the controllers before the API server, etcd last.
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for _ in $(seq 20); do
        local alive=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ "$alive" = 0 ] && break
        sleep 0.1
    done
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    rm -f "$DIR/pids"
}

case $command in
down) down; exit 0 ;;
up) ;;
*) usage ;;
esac

BIN=${GITOPS_TOOLS_BIN:-$("$(dirname "$0")/tools.sh" --check)} || {
    echo "cluster.sh: the toolchain is not built: run scripts/tools.sh" >&2
    exit 1
}
STAGES="$(dirname "$BIN")/kwok-stages"
mkdir -p "$DIR/logs" "$DIR/pki"
DIR=$(cd "$DIR" && pwd)
[ -f "$DIR/pids" ] && { echo "cluster.sh: $DIR already runs a control plane (cluster.sh down $DIR)" >&2; exit 1; }
on_exit() {
    local status=$?
    [ "$status" -eq 0 ] || { echo "cluster.sh: start failed; logs in $DIR/logs" >&2; down; }
}
trap on_exit EXIT

read -r ETCD_PORT PEER_PORT API_PORT < <(python3 -c '
import socket
sockets = [socket.socket() for _ in range(3)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in sockets))')

pki() {
    local p=$DIR/pki
    [ -f "$p/admin.crt" ] && return 0
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=gitops-local-ca \
        -keyout "$p/ca.key" -out "$p/ca.crt" 2>/dev/null
    issue() { # NAME SUBJECT [SUBJECT-ALT-NAMES]
        openssl req -newkey rsa:2048 -nodes -subj "$2" -keyout "$p/$1.key" -out "$p/$1.csr" 2>/dev/null
        openssl x509 -req -in "$p/$1.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial -days 3650 \
            ${3:+-extfile <(printf 'subjectAltName=%s' "$3")} -out "$p/$1.crt" 2>/dev/null
    }
    issue apiserver /CN=kube-apiserver \
        "IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"
    issue admin "/O=system:masters/CN=admin"
    openssl genrsa -out "$p/sa.key" 2048 2>/dev/null
    openssl rsa -in "$p/sa.key" -pubout -out "$p/sa.pub" 2>/dev/null
}

kubeconfig() { # PATH SERVER
    cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: $2
    certificate-authority: $DIR/pki/ca.crt
users:
- name: admin
  user:
    client-certificate: $DIR/pki/admin.crt
    client-key: $DIR/pki/admin.key
contexts:
- name: local
  context: {cluster: local, user: admin}
current-context: local
EOF
}

start() { # NAME COMMAND...
    local name=$1
    shift
    "$@" >"$DIR/logs/$name.log" 2>&1 &
    echo "$! $name" >>"$DIR/pids"
}

api() { # curl against the API server as admin
    curl --silent --show-error --fail --cacert "$DIR/pki/ca.crt" --cert "$DIR/pki/admin.crt" \
        --key "$DIR/pki/admin.key" "$@"
}

wait_for() { # WHAT SECONDS COMMAND...
    local what=$1 seconds=$2
    shift 2
    for _ in $(seq $((seconds * 10))); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "cluster.sh: $what not ready after $seconds s" >&2
    return 1
}

pki
SERVER=https://127.0.0.1:$API_PORT
kubeconfig "$DIR/kubeconfig" "$SERVER"
printf '%s\n' '{"apiVersion":"audit.k8s.io/v1","kind":"Policy","rules":[{"level":"Metadata"}]}' >"$DIR/audit-policy.json"
: >"$DIR/pids"

start etcd "$BIN/etcd" --data-dir "$DIR/etcd" --unsafe-no-fsync --log-level warn \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$PEER_PORT" \
    --initial-cluster "default=http://127.0.0.1:$PEER_PORT"
wait_for etcd 30 curl --silent --fail "http://127.0.0.1:$ETCD_PORT/health"

start kube-apiserver "$BIN/kube-apiserver" --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" --cert-dir "$DIR/pki" \
    --tls-cert-file "$DIR/pki/apiserver.crt" --tls-private-key-file "$DIR/pki/apiserver.key" \
    --client-ca-file "$DIR/pki/ca.crt" --authorization-mode RBAC --allow-privileged \
    --service-cluster-ip-range 10.0.0.0/24 --service-account-issuer https://kubernetes.default.svc \
    --service-account-key-file "$DIR/pki/sa.pub" --service-account-signing-key-file "$DIR/pki/sa.key" \
    --audit-policy-file "$DIR/audit-policy.json" --audit-log-path "$DIR/audit.log" --audit-log-format json
wait_for kube-apiserver 60 api "$SERVER/readyz"

start kube-controller-manager "$BIN/kube-controller-manager" --kubeconfig "$DIR/kubeconfig" \
    --leader-elect=false --bind-address 127.0.0.1 --secure-port 0 --use-service-account-credentials=false \
    --service-account-private-key-file "$DIR/pki/sa.key" --root-ca-file "$DIR/pki/ca.crt"
start kube-scheduler "$BIN/kube-scheduler" --kubeconfig "$DIR/kubeconfig" --leader-elect=false \
    --bind-address 127.0.0.1 --secure-port 0

# kwok plays the kubelet of every Node labelled type=kwok: the Node turns Ready, Pods bound to it
# run and turn Ready, and deleted Pods go away. It serves nothing (no --server-address: no kubelet
# logs or exec here): kwok exits when its server cannot bind, and a port chosen free above can be
# taken by a connection before kwok binds it, which left every Pod unready once the leases lapsed.
# A Pod labelled e2e.gitops/never-ready=true runs but never turns Ready, like a workload whose
# readiness probe never passes: that stage has a weight, so kwok picks it over pod-ready (weight 0).
cat "$STAGES/node/fast/node-initialize.yaml" <(echo ---) \
    "$STAGES/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml" <(echo ---) \
    "$STAGES/pod/fast/pod-ready.yaml" <(echo ---) "$STAGES/pod/fast/pod-complete.yaml" <(echo ---) \
    "$STAGES/pod/fast/pod-delete.yaml" <(echo ---) - >"$DIR/kwok-stages.yaml" <<'STAGE'
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-never-ready
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.labels["e2e.gitops/never-ready"]'
      operator: 'In'
      values: ['true']
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values: ['Pending']
  weight: 1
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - {lastTransitionTime: {{ $now | Quote }}, status: "True", type: Initialized}
      - {lastTransitionTime: {{ $now | Quote }}, status: "False", type: Ready, reason: ContainersNotReady}
      - {lastTransitionTime: {{ $now | Quote }}, status: "False", type: ContainersReady, reason: ContainersNotReady}
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: false
        started: true
        restartCount: 0
        state:
          running:
            startedAt: {{ $now | Quote }}
      {{ end }}
      {{ with NodeIPsWith .spec.nodeName }}
      hostIP: {{ index . 0 | Quote }}
      {{ end }}
      {{ with PodIPsWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) }}
      podIP: {{ index . 0 | Quote }}
      {{ end }}
      phase: Running
      startTime: {{ $now | Quote }}
STAGE
start kwok "$BIN/kwok" --kubeconfig "$DIR/kubeconfig" --config "$DIR/kwok-stages.yaml" \
    --manage-all-nodes=false --manage-nodes-with-label-selector type=kwok \
    --node-ip 10.0.1.1 --cidr 10.0.2.0/24 --node-lease-duration-seconds 40
NODES=${GITOPS_CLUSTER_NODES:-3}
node_ready() { # NAME
    api "$SERVER/api/v1/nodes/$1" | jq -e '.status.conditions[]? | select(.type == "Ready" and .status == "True")'
}
for i in $(seq 0 $((NODES - 1))); do
    api -X POST -H 'Content-Type: application/json' "$SERVER/api/v1/nodes" -d "$(jq -cn --arg name "kwok-node-$i" '{
        apiVersion: "v1", kind: "Node",
        metadata: {name: $name, annotations: {"kwok.x-k8s.io/node": "fake"}, labels: {
            type: "kwok", "kubernetes.io/hostname": $name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}}}')" \
        >/dev/null
done
for i in $(seq 0 $((NODES - 1))); do wait_for "Node kwok-node-$i" 30 node_ready "kwok-node-$i"; done
# The controller-manager's first work: the default ServiceAccount, without which no Pod is admitted.
wait_for kube-controller-manager 30 api "$SERVER/api/v1/namespaces/default/serviceaccounts/default"
echo "$DIR/kubeconfig"
