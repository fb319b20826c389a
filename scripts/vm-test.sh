#!/usr/bin/env bash
# make vm-test: boots Debian's kernel (linux-image-amd64, which has ip_vs; this machine's has not) under
# qemu-system-x86_64 with software emulation, from an initramfs holding busybox-static, the static shoal
# binary, the kernel modules a lab needs (loaded by insmod in dependency order) and the Tests directory,
# and runs one guest scenario there as the VM's init. The VM's console is the test log; the exit status
# is the scenario's.
#
#   scripts/vm-test.sh [SCENARIO [ARG…]]  SCENARIO: a guest script, default Tests/vm/mesh-ipvs.sh; it runs
#                                         under busybox sh inside the VM, with the repository's Tests at /tests
#   scripts/vm-test.sh --fetch-kernel     only downloads and unpacks the kernel (what `make deps` does)
# Environment:
#   SHOAL        the static binary (default bin/shoal)
#   VM_CACHE     where the kernel package is downloaded and unpacked (default /var/cache/shoal-vm)
#   VM_LOG       the test log (default .build/vm-test.log)
#   VM_BINARIES  more host programs to copy in with their shared libraries, e.g. "bash curl" (a scenario
#                of Tests/e2e needs bash: `VM_BINARIES="bash …" scripts/vm-test.sh Tests/vm/e2e.sh 92-sandbox`)
#   VM_MEMORY    MiB of guest memory (default 1536), VM_CPUS (default 2), VM_TIMEOUT seconds (default 540)
# Any further arguments go to the scenario.
set -euo pipefail
cd "$(dirname "$0")/.."

scenario=${1:-Tests/vm/mesh-ipvs.sh}
[ $# -gt 0 ] && shift
SHOAL=${SHOAL:-bin/shoal}
VM_CACHE=${VM_CACHE:-/var/cache/shoal-vm}
VM_LOG=${VM_LOG:-$PWD/.build/vm-test.log}
VM_MEMORY=${VM_MEMORY:-1536}
VM_CPUS=${VM_CPUS:-2}
VM_TIMEOUT=${VM_TIMEOUT:-540}

die() { echo "vm-test: $*" >&2; exit 1; }

# The kernel: Debian's linux-image-amd64, downloaded and unpacked here only (never installed into /boot).
fetch_kernel() {
    mkdir -p "$VM_CACHE"
    image=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
    [ -n "$image" ] || die "apt knows no linux-image-amd64: run 'apt-get update' and retry"
    deb=$(ls "$VM_CACHE"/"${image}"_*.deb 2>/dev/null | head -n 1 || true)
    if [ -z "$deb" ]; then
        echo "vm-test: downloading $image"
        (cd "$VM_CACHE" && apt-get download -q "$image" >/dev/null 2>&1) || die "cannot download $image: check apt's sources"
        deb=$(ls "$VM_CACHE"/"${image}"_*.deb | head -n 1)
    fi
    kernel_tree="$VM_CACHE/${image}"
    if [ ! -d "$kernel_tree/lib/modules" ]; then
        rm -rf "$kernel_tree.tmp" && dpkg-deb -x "$deb" "$kernel_tree.tmp" && mv "$kernel_tree.tmp" "$kernel_tree"
    fi
}
fetch_kernel
[ "$scenario" = --fetch-kernel ] && exit 0
vmlinuz=$(ls "$kernel_tree"/boot/vmlinuz-* | head -n 1)
modules=$(ls -d "$kernel_tree"/lib/modules/* | head -n 1)

command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found: run 'make deps' (it installs qemu-system-x86)"
busybox=$(command -v busybox) || die "busybox not found: run 'make deps' (it installs busybox-static)"
file -L "$busybox" | grep -q "statically linked" || die "$busybox is not statically linked: install busybox-static"
[ -x "$SHOAL" ] || die "$SHOAL not found: run 'make bin/shoal' first"
file -L "$SHOAL" | grep -q "statically linked" || die "$SHOAL is not statically linked: build it with 'make bin/shoal'"
[ -f "$scenario" ] || die "no scenario $scenario"
mkdir -p "$(dirname "$VM_LOG")"

work=$(mktemp -d /tmp/shoal-vm.XXXXXX)
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,run,var/lib,lib/modules,root,usr/bin,usr/sbin}
cp "$busybox" "$root/bin/busybox"
cp "$SHOAL" "$root/bin/shoal"
cp -r Tests "$root/tests"
cp "$scenario" "$root/scenario.sh"
printf '%s\n' "$@" > "$root/scenario.args"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
printf '127.0.0.1 localhost\n' > "$root/etc/hosts"
echo vm > "$root/etc/hostname"  # tasks get theirs bind-mounted over it
# No network leaves the VM (-nic none): the resolver is a loopback address that answers nothing.
printf 'nameserver 127.0.0.1\n' > "$root/etc/resolv.conf"

# More programs, with the shared libraries ldd names (and the loader) at the same paths.
for program in ${VM_BINARIES:-}; do
    path=$(command -v "$program") || die "VM_BINARIES: no program $program on this machine"
    mkdir -p "$root$(dirname "$path")" && cp -L "$path" "$root$path"
    for library in $(ldd "$path" 2>/dev/null | grep -o '/[^ ]*'); do
        mkdir -p "$root$(dirname "$library")" && cp -L "$library" "$root$library"
    done
done

# The modules a lab needs (veth, bridge, VXLAN, nftables with NAT, IPVS), each after what it depends on
# (Debian ships no modules.dep: each module's depends= says it). crc32c_generic: libcrc32c's crc32c.
wanted="crc32c_generic veth bridge br_netfilter vxlan ip_vs ip_vs_rr nf_tables nft_chain_nat nft_nat nft_masq
        nft_numgen nft_fib_ipv4 nft_ct nft_reject_ipv4"
declare -A placed=()
order=()
module_file() { find "$modules" -name "$1.ko" -o -name "$1.ko.xz" | head -n 1; }
place() {
    local name=$1 file dependency
    [ -n "${placed[$name]:-}" ] && return
    placed[$name]=1
    file=$(module_file "$name")
    [ -n "$file" ] || die "the kernel package has no module $name"
    for dependency in $("$busybox" strings "$file" | sed -n 's/^depends=//p' | tr , ' '); do place "$dependency"; done
    case $file in
        *.xz) xz -dc "$file" > "$root/lib/modules/$name.ko" ;;
        *) cp "$file" "$root/lib/modules/$name.ko" ;;
    esac
    order+=("$name")
}
for name in $wanted; do place "$name"; done
printf '%s\n' "${order[@]}" > "$root/lib/modules/order"

cat > "$root/init" <<'EOF'
#!/bin/busybox sh
# Stage 1 copies the initramfs onto a tmpfs and switches to it (pivot_root, which tasks' sandboxes
# use, does not work on the initramfs itself); stage 2 sets the machine up and runs the scenario.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root
if [ ! -e /.stage2 ]; then
    mount -t proc proc /proc
    mkdir -p /newroot && mount -t tmpfs -o mode=0755 root /newroot
    cp -a /bin /etc /lib /root /sbin /tests /usr /var /init /scenario.sh /scenario.args /newroot/
    mkdir -p /newroot/proc /newroot/sys /newroot/dev /newroot/tmp /newroot/run
    touch /newroot/.stage2
    umount /proc
    exec switch_root /newroot /init
fi
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm && mount -t devpts devpts /dev/pts && mount -t tmpfs shm /dev/shm
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null || true
mount --make-rshared / 2>/dev/null || true
hostname vm
echo "vm: kernel $(uname -r), $(nproc) cpus, $(awk '/MemTotal/ { print $2 / 1024 " MiB" }' /proc/meminfo)"
for module in $(cat /lib/modules/order); do
    insmod "/lib/modules/$module.ko" || echo "vm: insmod $module failed"
done
echo "vm: modules loaded: $(cat /lib/modules/order | tr '\n' ' ')"
ip link set lo up
cd /root
sh /scenario.sh $(cat /scenario.args)
echo "vm-test: scenario exit $?"
sync
poweroff -f
EOF
chmod +x "$root/init"
(cd "$root" && find . | "$busybox" cpio -o -H newc 2>/dev/null | gzip -1) > "$work/initramfs.gz"

echo "vm-test: booting $(basename "$vmlinuz") with $(basename "$scenario") ($(du -h "$work/initramfs.gz" | cut -f1) initramfs); log: $VM_LOG"
started=$(date +%s)
set +e
timeout --foreground -k 5 "$VM_TIMEOUT" qemu-system-x86_64 -nographic -accel tcg -cpu max -m "$VM_MEMORY" -smp "$VM_CPUS" \
    -nic none -no-reboot -kernel "$vmlinuz" -initrd "$work/initramfs.gz" \
    -append "console=ttyS0 panic=-1 quiet" </dev/null 2>&1 | sed -u 's/\r$//' | tee "$VM_LOG"
qemu=${PIPESTATUS[0]}
set -e
elapsed=$(( $(date +%s) - started ))
[ "$qemu" -eq 124 ] && die "the VM did not finish within ${VM_TIMEOUT}s (log: $VM_LOG)"
result=$(sed -n 's/^vm-test: scenario exit \([0-9]*\)$/\1/p' "$VM_LOG" | tail -n 1)
[ -n "$result" ] || die "the scenario did not finish (qemu exit $qemu after ${elapsed}s; log: $VM_LOG)"
echo "vm-test: $(basename "$scenario") exit $result after ${elapsed}s"
exit "$result"
