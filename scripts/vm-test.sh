#!/usr/bin/env bash
# make vm-test: boots Debian's kernel (linux-image-amd64, which has ip_vs; this machine's has not) under
# qemu-system-x86_64 with software emulation, from an initramfs holding busybox-static, the static shoal
# binary, the kernel modules a lab needs (loaded by insmod in dependency order) and the Tests directory,
# and runs one guest scenario there as the VM's init. The VM's console is the test log; the exit status
# is the scenario's.
#
#   scripts/vm-test.sh [SCENARIO [ARG…]]  SCENARIO: a guest script, default Tests/vm/suite.sh; it runs
#                                         under this machine's sh inside the VM, with the repository's Tests at /tests
#   scripts/vm-test.sh --fetch-kernel     only downloads and unpacks the kernel (what `make deps` does)
# Environment:
#   SHOAL        the static binary (default bin/shoal)
#   VM_CACHE     where the kernel package is downloaded and unpacked (default /var/cache/shoal-vm)
#   VM_LOG       the test log (default .build/vm-test.log)
#   VM_BINARIES  more host programs to copy in with their shared libraries, e.g. "curl"; the guest always
#                gets what the sandbox scenarios of Tests/e2e run beyond busybox (this machine's sh, bash,
#                GNU grep, date, head and tail, python3 with the modules they import), ahead of busybox's in PATH
#   VM_MEMORY    MiB of guest memory (default 1536), VM_CPUS (default 2), VM_TIMEOUT seconds (default 540)
# Any further arguments go to the scenario.
set -euo pipefail
cd "$(dirname "$0")/.."

scenario=${1:-Tests/vm/suite.sh}
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
# /mnt, /media and /srv as on a Debian host: the sandbox scenarios mount tasks' volumes there.
mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,run,var/lib,lib/modules,root,usr/bin,usr/sbin,mnt,media,srv}
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

# copy_in FILE — FILE at the same path in the guest, with the shared libraries ldd names (and the loader).
copy_in() {
    local library
    mkdir -p "$root$(dirname "$1")" && cp -L "$1" "$root$1"
    for library in $(ldd "$1" 2>/dev/null | grep -o '/[^ ]*'); do
        mkdir -p "$root$(dirname "$library")" && cp -L "$library" "$root$library"
    done
}
# What Tests/e2e's sandbox scenarios run that busybox lacks or does otherwise (date +%N, head -c 64M, grep -P,
# a tail that holds its input), then VM_BINARIES; this machine's sh too, as busybox's runs its own applets
# ahead of PATH. Debian's python3 (not a version manager's shim earlier in PATH) with only the standard
# modules the scenarios' imports load: the whole library would triple the initramfs.
python=/usr/bin/python3
[ -x "$python" ] || die "$python not found: run 'make deps' (it installs python3)"
for program in sh bash grep date head tail ${VM_BINARIES:-}; do
    path=$(command -v "$program") || die "VM_BINARIES: no program $program on this machine"
    copy_in "$path"
done
copy_in "$python"
"$python" -c '
import importlib.util, sys
import json, ctypes, platform, os, time  # what Tests/e2e/92-sandbox.sh and 93-limits.sh import
for module in list(sys.modules.values()):
    source = getattr(module, "__file__", None)
    if not source:
        continue
    print(source)
    if source.endswith(".py"):
        print(importlib.util.cache_from_source(source))
' | sort -u | while read -r file; do
    if [ -f "$file" ]; then copy_in "$file"; fi
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
# The programs copied in come before busybox's applets.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
if [ ! -e /.stage2 ]; then
    mount -t proc proc /proc
    mkdir -p /newroot && mount -t tmpfs -o mode=0755 root /newroot
    for entry in /*; do  # all but the kernel's file systems: /lib64 too, where copied programs' loader is
        case $entry in /proc | /sys | /dev | /newroot) ;; *) cp -a "$entry" /newroot/ ;; esac
    done
    mkdir -p /newroot/proc /newroot/sys /newroot/dev /newroot/tmp /newroot/run
    touch /newroot/.stage2
    umount /proc
    exec switch_root /newroot /init
fi
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
# What udev makes on a host: bash's process substitution opens /dev/fd/N.
ln -s /proc/self/fd /dev/fd && ln -s fd/0 /dev/stdin && ln -s fd/1 /dev/stdout && ln -s fd/2 /dev/stderr
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
