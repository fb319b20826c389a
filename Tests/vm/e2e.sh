# Guest scenario running scenarios of Tests/e2e inside the VM (e.g. 92-sandbox on the VM's cgroup v2):
#   scripts/vm-test.sh Tests/vm/e2e.sh NAME…
# The guest has bash and what the sandbox scenarios run; another scenario may need more: VM_BINARIES="curl …".
SHOAL=/bin/shoal bash /tests/e2e/run.sh "$@"
