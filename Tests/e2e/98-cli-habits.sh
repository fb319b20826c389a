#!/usr/bin/env bash
# A docker user's muscle memory and scripts, with `docker` replaced by
# `shoal`: the commands as swarm tutorials and shell scripts type them
# (aliases, -q loops, --filter, --no-trunc, table and Go-template formats,
# inspect templates, --format json read by python), each output checked.
source "$(dirname "$0")/lib.sh"

LAB_UP_FLAGS="--metrics-addr 127.0.0.1:9323" lab_swarm 3
join_workers 2 3
export SHOAL_HOST=lab-1
shoal() { "$SHOAL" "$@"; }
export -f shoal
eventually 10 bash -c '[ "$(shoal node ls | grep -c " Ready ")" = 3 ]' || { fail "3 nodes Ready"; exit 1; }
lab2_address=$("$SHOAL" lab ls | awk '$1 == "lab-2" { print $2 }')

# Nodes.
check "node list is node ls" bash -c '[ "$(shoal node list | grep -c " Ready ")" = 3 ] && shoal node list | head -1 | grep -q "^ID  *HOSTNAME  *STATUS"'
check "node ls -q prints the 3 ids" bash -c '[ "$(shoal node ls -q | grep -cE "^[0-9a-z]{25}$")" = 3 ]'
check "node ls --filter role=manager --format {{.Hostname}}" bash -c '[ "$(shoal node ls --filter role=manager --format "{{.Hostname}}")" = lab-1 ]'
check "node ls -f role=worker -q counts the workers" bash -c '[ "$(shoal node ls -f role=worker -q | wc -l)" = 2 ]'
check "two values of one filter: either" \
    bash -c '[ "$(shoal node ls -f name=lab-2 -f name=lab-3 --format "{{.Hostname}}" | sort | paste -sd,)" = lab-2,lab-3 ]'
check "two filters: both" bash -c '[ -z "$(shoal node ls -f role=worker -f name=lab-1 -q)" ]'
check_fails "an unknown filter is docker's line" "^shoal: invalid filter 'foo'" shoal node ls -f foo=bar
check "node ls as a table template" bash -c '
    out=$(shoal node ls --format "table {{.Hostname}}\t{{.ManagerStatus}}") &&
    head -1 <<<"$out" | grep -Eq "^HOSTNAME +MANAGER STATUS$" && grep -Eq "^lab-1 +Leader$" <<<"$out" && [ "$(wc -l <<<"$out")" = 4 ]'
check "{{if .Self}} picks this node" bash -c '[ "$(shoal node ls --format "{{if .Self}}{{.Hostname}}{{end}}" | grep .)" = lab-1 ]'
check "node ls --format json: an object per line, docker's keys" bash -c '
    shoal node ls --format json | python3 -c "
import json, sys
nodes = [json.loads(line) for line in sys.stdin]
assert len(nodes) == 3 and all(n[\"Status\"] == \"Ready\" and len(n[\"ID\"]) == 25 for n in nodes), nodes
assert sorted(n[\"Hostname\"] for n in nodes if n[\"ManagerStatus\"] == \"\") == [\"lab-2\", \"lab-3\"], nodes"'
check "node inspect --format over docker's Node object" \
    bash -c '[ "$(shoal node inspect --format "{{.Description.Hostname}} {{.Status.State}} {{.Spec.Role}} {{.Spec.Availability}}" self)" = "lab-1 ready manager active" ]'
check "node inspect -f ManagerStatus" bash -c '[ "$(shoal node inspect -f "{{.ManagerStatus.Leader}} {{.ManagerStatus.Reachability}}" self)" = "true reachable" ]'
check "node inspect -f {{.Status.Addr}} of a worker" bash -c '[ "$(shoal node inspect -f "{{.Status.Addr}}" lab-2)" = "$1" ]' _ "$lab2_address"
check_fails "a missing key is docker's line" \
    '^shoal: Template parsing error: template: :1:2: executing "" at <\.Foo>: map has no entry for key "Foo"$' shoal node inspect -f '{{.Foo}}' self

# Services.
shoal service create --name web --replicas 3 -- sleep 1000 >/dev/null || fail "service create web"
shoal service create --name api --mode global -- sleep 1000 >/dev/null || fail "service create api"
check "service list shows web 3/3" bash -c 'shoal service list | grep -Eq "^[0-9a-z]{12} +web +replicated +3/3 +sleep 1000"'
check "service ls --filter name=web -q" bash -c '[ "$(shoal service ls --filter name=web -q | grep -cE "^[0-9a-z]{25}$")" = 1 ]'
check "service ls --format {{.Name}}: {{.Replicas}}" bash -c '[ "$(shoal service ls --format "{{.Name}}: {{.Replicas}}" | sort | paste -sd,)" = "api: 3/3,web: 3/3" ]'
check "service ls -f mode=global" bash -c '[ "$(shoal service ls -f mode=global --format "{{.Name}}")" = api ]'
check "service ls as a table: docker's header and columns" bash -c '
    out=$(shoal service ls --format "table {{.Name}}\t{{.Mode}}\t{{.Replicas}}") &&
    head -1 <<<"$out" | grep -Eq "^NAME +MODE +REPLICAS$" && grep -Eq "^web +replicated +3/3$" <<<"$out"'
check "service ps -q web: 3 short ids" bash -c '[ "$(shoal service ps -q web | grep -cE "^[0-9a-z]{12}$")" = 3 ]'
check "for t in \$(shoal service ps -q web): inspect each" bash -c '
    for t in $(shoal service ps -q web); do shoal inspect --format "{{.Status.State}} {{.DesiredState}}" "$t"; done |
        sort | uniq -c | grep -Eq "^ +3 running running$"'
check "service ps --no-trunc -q: whole ids" bash -c '[ "$(shoal service ps --no-trunc -q web | grep -cE "^[0-9a-z]{25}$")" = 3 ]'
check "service ps --filter desired-state=running --format {{.Name}} {{.Node}}" bash -c '
    [ "$(shoal service ps --filter desired-state=running --format "{{.Name}} {{.Node}}" web | grep -cE "^web\.[123] lab-[123]$")" = 3 ]'
check "a format's \\t is a tab" bash -c 'shoal service ps --format "{{.Name}}\t{{.Node}}" web | head -1 | grep -qP "^web\.\d\tlab-\d$"'
check "service ps as a table" bash -c '
    out=$(shoal service ps --format "table {{.Name}}\t{{.DesiredState}}\t{{.CurrentState}}" web) &&
    head -1 <<<"$out" | grep -Eq "^NAME +DESIRED STATE +CURRENT STATE$" && [ "$(grep -cE "^web\.[123] +Running +Running " <<<"$out")" = 3 ]'
node=$(shoal service ps --format '{{.Node}}' web | head -1)
check "service ps -f node=NODE" bash -c '[ "$(shoal service ps -f node="$1" --format "{{.Node}}" web | sort -u)" = "$1" ]' _ "$node"
check "node ps NODE lists both services' tasks there" bash -c '
    out=$(shoal node ps --format "{{.Name}}" "$1") && grep -q "^web\." <<<"$out" && grep -q "^api\." <<<"$out"' _ "$node"
check "service ps --format json: docker's keys, one object per line" bash -c '
    shoal service ps --format json web | python3 -c "
import json, sys
tasks = [json.loads(line) for line in sys.stdin]
assert len(tasks) == 3, tasks
for t in tasks:
    assert {\"ID\", \"Name\", \"Node\", \"DesiredState\", \"CurrentState\", \"Error\", \"Command\", \"Ports\"} <= set(t), t
    assert t[\"DesiredState\"] == \"Running\" and t[\"CurrentState\"].startswith(\"Running\") and t[\"Command\"] == \"sleep 1000\", t"'
check "service inspect --format Spec.Name and Replicas" \
    bash -c '[ "$(shoal service inspect --format "{{.Spec.Name}} {{.Spec.Mode.Replicated.Replicas}}" web)" = "web 3" ]'
check "service inspect -f ContainerSpec's Command and Args as JSON" \
    bash -c '[ "$(shoal service inspect -f "{{json .Spec.TaskTemplate.ContainerSpec.Command}} {{json .Spec.TaskTemplate.ContainerSpec.Args}}" web)" = "[\"sleep\"] [\"1000\"]" ]'
check "a global service's Mode" bash -c '[ "$(shoal service inspect -f "{{json .Spec.Mode}}" api)" = "{\"Global\":{}}" ]'
check "service inspect -f {{.Version.Index}} is a number" bash -c 'shoal service inspect -f "{{.Version.Index}}" web | grep -Eq "^[0-9]+$"'

# Completion: the script `shoal completion bash` prints, loaded in bash; names are asked of the daemon.
mkdir -p "$E2E_WORK/bin" && ln -sf "$SHOAL" "$E2E_WORK/bin/shoal"
# completions LINE — what bash offers at the end of LINE (the script's own function, as <TAB> calls it).
completions() {
    PATH="$E2E_WORK/bin:$PATH"
    source <(shoal completion bash)
    COMP_LINE=$1 COMP_POINT=${#1}
    read -ra COMP_WORDS <<<"$1"
    [[ $1 == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )) COMPREPLY=()
    _shoal shoal "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    printf "%s\n" "${COMPREPLY[@]}"
}
export -f completions
check "completion bash: shoal service scale w<TAB> is web" bash -c '[ "$(completions "shoal service scale w")" = web ]'
check "completion after -H: node ps l<TAB> lists the nodes" bash -c '
    [ "$(SHOAL_HOST= completions "shoal -H lab-1 node ps l" | paste -sd,)" = lab-1,lab-2,lab-3 ]'
check "completion of subcommands and of exec's tasks" bash -c '
    [ "$(completions "shoal serv")" = service ] && completions "shoal exec we" | grep -qx "web\.1"'
check "completion zsh and fish" bash -c '
    shoal completion zsh | head -1 | grep -qx "#compdef shoal" && shoal completion fish | grep -q "^complete -c .shoal. "'

# /metrics (docker's --metrics-addr), read by the Prometheus client library's parser: figures as the cluster has them.
# metrics NODE — NODE's samples, one per line: NAME{LABELS} VALUE.
prometheus_samples=$(cd "$(dirname "$0")" && pwd)/prometheus-samples.py
export prometheus_samples
metrics() { "$SHOAL" lab exec "$1" -- curl -sf --max-time 5 http://127.0.0.1:9323/metrics | "$prometheus_samples"; }
export -f metrics
lab1_metrics=$(metrics lab-1) lab2_metrics=$(metrics lab-2)
check "/metrics of each node parses" test -n "$lab1_metrics" -a -n "$lab2_metrics"
check "the leader says it manages and leads; the worker says it does not" bash -c '
    grep -qx "swarm_node_manager{} 1" <<<"$1" && grep -qx "swarm_manager_leader{} 1" <<<"$1" &&
    grep -qx "swarm_node_manager{} 0" <<<"$2" && ! grep -q "^swarm_manager_leader" <<<"$2"' _ "$lab1_metrics" "$lab2_metrics"
running=$(( $(running_tasks service ps web | wc -l) + $(running_tasks service ps api | wc -l) ))
check "tasks running: as service ps counts them" bash -c '[ "$1" = 6 ] && grep -qx "swarm_manager_tasks{state=\"running\"} $1" <<<"$2"' _ "$running" "$lab1_metrics"
check "nodes Ready: 3" bash -c '
    [ "$(awk -F"[{} ]" "/^swarm_manager_nodes\{.*state=\"ready\"/ { n += \$NF } END { print n }" <<<"$1")" = 3 ]' _ "$lab1_metrics"
check "the store holds 2 services and 3 nodes" bash -c '
    grep -qx "swarm_store_objects{kind=\"service\"} 2" <<<"$1" && grep -qx "swarm_store_objects{kind=\"node\"} 3" <<<"$1"' _ "$lab1_metrics"
check "raft: a term, indexes, proposals and fsync latencies" bash -c '
    value() { awk -v name="$1" "\$1 == name { print \$2 }" <<<"$2"; }
    [ "$(value "swarm_raft_term{}" "$1")" -ge 1 ] && [ "$(value "swarm_raft_applied_index{}" "$1")" -gt 10 ] &&
    [ "$(value "swarm_raft_commit_index{}" "$1")" -ge "$(value "swarm_raft_applied_index{}" "$1")" ] &&
    [ "$(value "swarm_raft_proposals_total{}" "$1")" -gt 0 ] && [ "$(value "swarm_raft_fsync_duration_seconds_count{}" "$1")" -gt 0 ] &&
    grep -q "^swarm_raft_fsync_duration_seconds_bucket{le=\"+Inf\"} " <<<"$1"' _ "$lab1_metrics"

shoal service scale web=2 >/dev/null || fail "service scale web=2"
check "after scale web=2, two desired running" \
    eventually 10 bash -c '[ "$(shoal service ps -f desired-state=running -q web | wc -l)" = 2 ]'
check "and one desired shutdown" bash -c '[ "$(shoal service ps -f desired-state=shutdown -q web | wc -l)" = 1 ]'

# Networks.
shoal network create --label tier=db backend >/dev/null || fail "network create backend"
check "network list shows ingress and backend" bash -c '
    out=$(shoal network list) && grep -Eq "^[0-9a-z]{12} +ingress +overlay +swarm$" <<<"$out" && grep -Eq "^[0-9a-z]{12} +backend +overlay +swarm$" <<<"$out"'
check "network ls -f label=tier=db" bash -c '[ "$(shoal network ls -f label=tier=db --format "{{.Name}}")" = backend ]'
check "network ls -f name=back -q, and --no-trunc" bash -c '
    shoal network ls -f name=back -q | grep -Eqx "[0-9a-z]{12}" && shoal network ls -f name=back -q --no-trunc | grep -Eqx "[0-9a-z]{25}"'
check "network ls --format with driver and scope filters" bash -c '
    [ "$(shoal network ls -f driver=overlay -f scope=swarm --format "{{.Name}} {{.Driver}} {{.Scope}}" | sort | paste -sd,)" = "backend overlay swarm,ingress overlay swarm" ] &&
    [ "$(shoal network ls -f name=backend --format "{{.Labels}}")" = tier=db ]'
check "network inspect -f ranges over the IPAM config" \
    bash -c 'shoal network inspect -f "{{range .IPAM.Config}}{{.Subnet}} via {{.Gateway}}{{end}}" backend | grep -Eq "^10\.[0-9.]+/24 via 10\.[0-9.]+$"'
shoal service create --detach --name front --network backend -- sleep 1000 >/dev/null || fail "service create front"
check "service inspect --format '{{json .Endpoint.VirtualIPs}}'" bash -c '
    eventually() { for _ in $(seq 100); do "$@" && return 0; sleep 0.1; done; return 1; }
    eventually bash -c "shoal service inspect --format \"{{json .Endpoint.VirtualIPs}}\" front | python3 -c \"
import json, sys; vips = json.load(sys.stdin); assert len(vips) == 1 and vips[0][\\\"Addr\\\"].startswith(\\\"10.\\\"), vips\""'

# docker inspect of anything.
check "a query of front's task is counted in /metrics of its node, with front's backend" bash -c '
    node=$(shoal service ps --format "{{.Node}} {{.CurrentState}}" front | awk "\$2 == \"Running\" { print \$1; exit }")
    [ "$("$SHOAL" -H "$node" dig --network backend +short front | wc -l)" = 1 ] || exit 1
    samples=$(metrics "$node")
    [ "$(awk "/^swarm_dns_queries_total\{result=\"noerror\"\}/ { print \$2 }" <<<"$samples")" -ge 1 ] &&
        grep -qx "swarm_lb_backends{service=\"front\"} 1" <<<"$samples"'

check "inspect NAME finds a service" bash -c '[ "$(shoal inspect web | python3 -c "import json, sys; print(json.load(sys.stdin)[0][\"Spec\"][\"Name\"])")" = web ]'
check "inspect -f finds a node by hostname" bash -c '[ "$(shoal inspect -f "{{.Description.Hostname}}" lab-2)" = lab-2 ]'
check "inspect -f finds a network" bash -c '[ "$(shoal inspect -f "{{.Name}} {{.Scope}}" backend)" = "backend swarm" ]'
check "inspect -f finds a service by id prefix" bash -c '
    id=$(shoal service ls -f name=web -q) && [ "$(shoal inspect -f "{{.Spec.Name}}" "${id:0:8}")" = web ]'
check "inspect of several kinds at once: one JSON array" \
    bash -c '[ "$(shoal inspect web lab-1 backend | python3 -c "import json, sys; print(len(json.load(sys.stdin)))")" = 3 ]'
check_fails "inspect --type network of a service" "no such network: web" shoal inspect --type network web
check_fails "inspect of nothing is docker's line" "^shoal: no such object: nothing-here" shoal inspect nothing-here

# Templates that do not work: docker's lines.
check_fails "a template that does not parse" '^shoal: template parsing error: template: :1: unexpected "\}" in operand$' \
    shoal service ls --format '{{.Name}'
check_fails "a field ls has not" '^shoal: template parsing error: template: :1:2: executing "" at <\.Nope>: map has no entry for key "Nope"$' \
    shoal service ls --format '{{.Nope}}'

# Removal, docker's aliases.
check "service remove echoes the names" bash -c '[ "$(shoal service remove api front | paste -sd,)" = api,front ]'
check "network remove, once front's tasks stopped" bash -c '
    for _ in $(seq 50); do shoal network remove backend 2>/dev/null | grep -qx backend && exit 0; sleep 0.2; done; exit 1'
check "service rm web leaves no service" bash -c 'shoal service rm web >/dev/null && [ -z "$(shoal service ls -q)" ]'
