# Guest scenario of `make vm-test` (issue 14, "Done when" 5): inside a VM whose kernel has ip_vs, a
# 3-node lab with `--lb auto` picks IPVS and passes seed 002's steps there: a published port answers on
# every node and reaches all 3 tasks, a VIP reached from a task balances over all 3; a killed task gets
# no request a second later, scale 3→1 leaves one backend, service rm leaves neither port nor IPVS service.
#   sh mesh-ipvs.sh [LB]   LB: the lab's --lb (default auto; nftables runs the same checks on nftables)
. /tests/vm/lib.sh
lb=${1:-auto}
lab_data=/var/lib/shoal-lab/lab/nodes

echo "== lab of 3 nodes with --lb $lb"
shoal lab up --nodes 3 --lb "$lb" --dns-upstream 127.0.0.1:5353 > /dev/null || { echo "  FAIL lab up"; exit 1; }
shoal -H lab-1 init > /dev/null || { echo "  FAIL init"; exit 1; }
token=$(shoal -H lab-1 join-token -q worker)
for n in 2 3; do shoal -H "lab-$n" join --token "$token" 172.31.240.1 > /dev/null || echo "  FAIL lab-$n join"; done
expected=ipvs
[ "$lb" = nftables ] && expected=nftables
check "every daemon balances with $expected" sh -c "
    for n in 1 2 3; do shoal -H lab-\$n info | grep -q '^Load Balancer: *$expected\$' || exit 1; done"
check "and says why in its log" grep -q "load balancing with" $lab_data/lab-1/data/daemon.log
grep "load balancing with" $lab_data/lab-1/data/daemon.log | tail -n 1
nodes_ready() { [ "$(shoal -H lab-1 node ls | grep -c ' Ready ')" = 3 ]; }
check "3 nodes ready" eventually 60 nodes_ready

shoal -H lab-1 network create -d overlay front > /dev/null
shoal -H lab-1 service create --detach --name web --replicas 3 --publish 8080:80 --network front \
    --constraint node.role==worker -- shoal whoami --port 80 > /dev/null
shoal -H lab-1 service create --detach --name client --network front --constraint node.hostname==lab-2 \
    -- sleep 3600 > /dev/null
services_run() { shoal -H lab-1 service ls | grep -q " 3/3 " && shoal -H lab-1 service ls | grep -q " 1/1 "; }
check "web and client run" eventually 240 services_run
shoal -H lab-1 service ps web

echo "== step 1: the routing mesh and the VIP"
# distinct_via NODE N ADDRESS PORT — how many whoami hostnames N requests from lab node NODE reach.
distinct_via() { shoal lab exec "$1" -- sh -c '. /tests/vm/lib.sh; http_hostnames "$@"' _ "$2" "$3" "$4" | sort -u | grep -c .; }
answers_everywhere() {
    for n in 1 2 3; do [ "$(distinct_via lab-1 1 "172.31.240.$n" "$1")" = 1 ] || return 1; done
}
check "port 8080 answers on every node, the manager with no task included" eventually 30 answers_everywhere 8080
reaches() { [ "$(distinct_via "$1" "$2" "$3" 8080)" = "$4" ]; }
check "30 requests through a worker reach all 3 tasks" reaches lab-1 30 172.31.240.2 3
check "and through the manager too" reaches lab-3 30 172.31.240.1 3
# sandboxes_balance N — each node's ingress sandbox holds an IPVS service for 8080/tcp (fwmark 8080,
# 00001F90 as /proc shows it) with N destinations.
sandboxes_balance() {
    for n in 1 2 3; do
        held=$(nsenter --net="$lab_data/lab-$n/data/networks/ingress_sbox.netns" cat /proc/net/ip_vs |
            awk '$1 == "FWM" { on = ($2 == "00001F90") } on && $1 == "->" && $2 != "RemoteAddress:Port"' | grep -c .)
        [ "$held" = "$1" ] || { echo "lab-$n holds $held destinations"; return 1; }
    done
}
[ "$expected" = ipvs ] && check "each node's ingress sandbox balances 8080 with IPVS over 3 destinations" sandboxes_balance 3

# The first of web's VIPs is on front, its first network (ingress comes after).
vip=$(shoal -H lab-1 service inspect -f '{{range .Endpoint.VirtualIPs}}{{.Addr}} {{end}}' web | awk '{ split($1, a, "/"); print a[1] }')
echo "web's VIP on front: $vip"
vip_reaches() { [ "$(shoal -H lab-2 exec client.1 -- sh -c '. /tests/vm/lib.sh; http_hostnames 30 "$1" 80' _ "$vip" | sort -u | grep -c .)" = 3 ]; }
check "from a task on front, 30 requests to web's VIP reach all 3" vip_reaches
vip_in_ipvs() { shoal -H lab-2 exec client.1 -- cat /proc/net/ip_vs | grep -q '^FWM'; }
[ "$expected" = ipvs ] && check "the task's namespace balances the VIP with IPVS" vip_in_ipvs

echo "== step 3: backends follow the store"
victim=$(shoal -H lab-1 service ps web | awk '/ Running +Running / { for (i = 3; i <= NF; i++) if ($i ~ /^lab-[0-9]+$/) { print $2, $i, $1; exit } }')
set -- $victim
victim_slot=$1 victim_node=$2 victim_host=$3
echo "killing $victim_slot ($victim_host) on $victim_node"
shoal -H "$victim_node" exec "$victim_slot" -- kill -9 2 || true
sleep 1
not_reached() { ! shoal lab exec lab-1 -- sh -c '. /tests/vm/lib.sh; http_hostnames 20 172.31.240.2 8080' | grep -qx "$1"; }
check "a killed task gets no request a second later" not_reached "$victim_host"
check "its replacement runs and is reached" eventually 60 reaches lab-1 30 172.31.240.3 3
shoal -H lab-1 service scale web=1 --detach > /dev/null
sleep 1
check "scale to 1: one task answers a second later" reaches lab-1 12 172.31.240.1 1
[ "$expected" = ipvs ] && check "and each ingress sandbox's IPVS holds that one destination" eventually 2 sandboxes_balance 1

shoal -H lab-1 service rm web > /dev/null
port_gone() { for n in 1 2 3; do [ "$(distinct_via lab-1 1 "172.31.240.$n" 8080)" = 0 ] || return 1; done; }
check "service rm: the port answers on no node" eventually 10 port_gone
no_service_left() {
    for n in 1 2 3; do
        sandbox=$lab_data/lab-$n/data/networks/ingress_sbox.netns
        [ -e "$sandbox" ] || continue
        nsenter --net="$sandbox" cat /proc/net/ip_vs | grep -q '^FWM' && return 1
    done
    return 0
}
[ "$expected" = ipvs ] && check "and no ingress sandbox holds an IPVS service" eventually 5 no_service_left

shoal lab down > /dev/null 2>&1
finish
