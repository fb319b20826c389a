# Guest scenario of `make vm-test`: mesh-ipvs.sh (IPVS, which this machine's kernel lacks), then the task
# sandbox's e2e scenarios on the VM's cgroup v2 (issue 15: this machine has v1 controllers, so both versions
# are tested). One boot for all; the exit status says whether every part passed.
. /tests/vm/lib.sh

sh /tests/vm/mesh-ipvs.sh || failures=$((failures + 1))

echo "== the task sandbox on cgroup v2"
# shoal takes v1 when the host mounts a v1 memory controller: here only the unified hierarchy may be mounted.
unified_only() {
    awk '$(NF - 2) == "cgroup" { exit 1 } $(NF - 2) == "cgroup2" && $5 == "/sys/fs/cgroup" { found = 1 } END { exit !found }' \
        /proc/self/mountinfo
}
check "the guest mounts only the unified hierarchy, at /sys/fs/cgroup" unified_only
offers_task_controllers() { for controller in memory cpu pids; do grep -qw "$controller" /sys/fs/cgroup/cgroup.controllers || return 1; done; }
check "which offers the memory, cpu and pids controllers" offers_task_controllers
sh /tests/vm/e2e.sh 92-sandbox 93-limits || failures=$((failures + 1))
finish
