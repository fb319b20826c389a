# Guest scenario running scenarios of Tests/e2e inside the VM (e.g. 92-sandbox on the VM's cgroup v2):
#   VM_BINARIES="bash …" scripts/vm-test.sh Tests/vm/e2e.sh NAME…
# The e2e scenarios are bash scripts: VM_BINARIES must bring bash and whatever else NAME runs.
command -v bash > /dev/null || { echo "e2e in the VM needs bash: give VM_BINARIES=bash (and the programs the scenario runs)"; exit 1; }
SHOAL=/bin/shoal bash /tests/e2e/run.sh "$@"
