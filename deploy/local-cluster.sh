#!/usr/bin/env bash
# Starts N Starling nodes (default 3) on 127.0.0.1 as one cluster, each node's output prefixed with
# its name; Ctrl-C (or any exit) stops them all.
#
#   deploy/local-cluster.sh [N]
#
# Node k (1..N) listens for MQTT on 1883+k-1, for Hazelcast on 5701+k-1, for node-to-node
# forwarding on 5801+k-1 and serves /metrics and /health/* on 8080+k-1. Other first ports:
# MQTT_PORT=2883 CLUSTER_PORT=6701 LINK_PORT=6801 METRICS_PORT=9080.
# JAVA_OPTS (default -Xmx256m) goes to every node's JVM; other STARLING_* variables apply to all.
set -euo pipefail

n="${1:-3}"
if ! [[ "$n" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 [number of nodes, default 3]" >&2
  exit 2
fi
mqtt_port="${MQTT_PORT:-1883}"
cluster_port="${CLUSTER_PORT:-5701}"
link_port="${LINK_PORT:-5801}"
metrics_port="${METRICS_PORT:-8080}"
java_opts="${JAVA_OPTS:--Xmx256m}"
# Not the default name: a node started alone elsewhere on this machine must not merge with these.
cluster_name="${STARLING_CLUSTER_NAME:-starling-local}"

cd "$(dirname "$0")/.."
jar=broker-node/target/starling-broker.jar
if [ ! -f "$jar" ]; then
  echo "building $jar ..."
  mvn -B -q -DskipTests package
fi

pids=()
stop_all() {
  trap - INT TERM EXIT
  if [ ${#pids[@]} -gt 0 ]; then
    echo "stopping ${#pids[@]} nodes ..."
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for k in $(seq 1 "$n"); do
  members=()
  for j in $(seq 1 "$n"); do
    [ "$j" -eq "$k" ] || members+=("127.0.0.1:$((cluster_port + j - 1))")
  done
  # shellcheck disable=SC2086 # JAVA_OPTS is a list of options
  STARLING_LISTENER_PORT=$((mqtt_port + k - 1)) \
  STARLING_CLUSTER_PORT=$((cluster_port + k - 1)) \
  STARLING_CLUSTER_LINK_PORT=$((link_port + k - 1)) \
  STARLING_METRICS_PORT=$((metrics_port + k - 1)) \
  STARLING_CLUSTER_MEMBERS="$(IFS=,; echo "${members[*]}")" \
  STARLING_CLUSTER_NAME="$cluster_name" \
    java $java_opts -jar "$jar" > >(sed -u "s/^/node$k: /") 2>&1 &
  pids+=($!)
done

for k in $(seq 1 "$n"); do
  echo "node$k: pid ${pids[$((k - 1))]}, MQTT 127.0.0.1:$((mqtt_port + k - 1)), metrics http://127.0.0.1:$((metrics_port + k - 1))/metrics"
done
echo "Ctrl-C stops all nodes; kill one pid to watch the others drop it"
# Until every node has exited (a node killed on purpose leaves the others running).
wait "${pids[@]}" || true
