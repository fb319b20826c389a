#define _GNU_SOURCE
#include "CShoalSystem.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>

/// docker's default seccomp profile (moby/profiles seccomp/default_linux.go),
/// as a table: a syscall is allowed always, or when the task holds one
/// capability. clone, clone3, socket and personality have rules of their own
/// (see `shoal_seccomp_filter`). Names an architecture lacks are left out of
/// its table; syscalls newer than the build's headers have the same number on
/// every architecture (the unified table from 424 up). lookup_dcookie, gone
/// from kernels and newer headers, is left out.

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#else
#error "shoal's seccomp profile knows x86_64 and aarch64"
#endif

struct syscall_rule {
    const char *name;
    int number;
    /// The capability that allows it, or -1: always allowed.
    int capability;
};

#define ALLOW(name) {#name, __NR_##name, -1}
#define ALLOW_NUMBERED(name, number) {#name, number, -1}
#define WITH(cap, name) {#name, __NR_##name, CAP_##cap}
#define WITH_NUMBERED(cap, name, number) {#name, number, CAP_##cap}

static const struct syscall_rule rules[] = {
    ALLOW(accept), ALLOW(accept4), ALLOW(adjtimex), ALLOW(bind), ALLOW(brk), ALLOW(capget), ALLOW(capset),
    ALLOW(chdir), ALLOW(clock_adjtime), ALLOW(clock_getres), ALLOW(clock_gettime), ALLOW(clock_nanosleep),
    ALLOW(close), ALLOW(connect), ALLOW(copy_file_range), ALLOW(dup), ALLOW(dup3), ALLOW(epoll_create1),
    ALLOW(epoll_ctl), ALLOW(epoll_pwait), ALLOW(eventfd2), ALLOW(execve), ALLOW(execveat), ALLOW(exit),
    ALLOW(exit_group), ALLOW(faccessat), ALLOW(fadvise64), ALLOW(fallocate), ALLOW(fanotify_mark), ALLOW(fchdir),
    ALLOW(fchmod), ALLOW(fchmodat), ALLOW(fchown), ALLOW(fchownat), ALLOW(fcntl), ALLOW(fdatasync),
    ALLOW(fgetxattr), ALLOW(flistxattr), ALLOW(flock), ALLOW(fremovexattr), ALLOW(fsetxattr), ALLOW(fstat),
    ALLOW(fstatfs), ALLOW(fsync), ALLOW(ftruncate), ALLOW(futex), ALLOW(getcpu), ALLOW(getcwd), ALLOW(getdents64),
    ALLOW(getegid), ALLOW(geteuid), ALLOW(getgid), ALLOW(getgroups), ALLOW(getitimer), ALLOW(getpeername),
    ALLOW(getpgid), ALLOW(getpid), ALLOW(getppid), ALLOW(getpriority), ALLOW(getrandom), ALLOW(getresgid),
    ALLOW(getresuid), ALLOW(getrlimit), ALLOW(get_robust_list), ALLOW(getrusage), ALLOW(getsid), ALLOW(getsockname),
    ALLOW(getsockopt), ALLOW(gettid), ALLOW(gettimeofday), ALLOW(getuid), ALLOW(getxattr), ALLOW(inotify_add_watch),
    ALLOW(inotify_init1), ALLOW(inotify_rm_watch), ALLOW(io_cancel), ALLOW(ioctl), ALLOW(io_destroy),
    ALLOW(io_getevents), ALLOW(io_pgetevents), ALLOW(ioprio_get), ALLOW(ioprio_set), ALLOW(io_setup),
    ALLOW(io_submit), ALLOW(kill), ALLOW(lgetxattr), ALLOW(linkat), ALLOW(listen), ALLOW(listxattr),
    ALLOW(llistxattr), ALLOW(lremovexattr), ALLOW(lseek), ALLOW(lsetxattr), ALLOW(madvise), ALLOW(membarrier),
    ALLOW(memfd_create), ALLOW(mincore), ALLOW(mkdirat), ALLOW(mknodat), ALLOW(mlock), ALLOW(mlock2),
    ALLOW(mlockall), ALLOW(mmap), ALLOW(mprotect), ALLOW(mq_getsetattr), ALLOW(mq_notify), ALLOW(mq_open),
    ALLOW(mq_timedreceive), ALLOW(mq_timedsend), ALLOW(mq_unlink), ALLOW(mremap), ALLOW(msgctl), ALLOW(msgget),
    ALLOW(msgrcv), ALLOW(msgsnd), ALLOW(msync), ALLOW(munlock), ALLOW(munlockall), ALLOW(munmap),
    ALLOW(name_to_handle_at), ALLOW(nanosleep), ALLOW(newfstatat), ALLOW(openat), ALLOW(pipe2), ALLOW(pkey_alloc),
    ALLOW(pkey_free), ALLOW(pkey_mprotect), ALLOW(ppoll), ALLOW(prctl), ALLOW(pread64), ALLOW(preadv),
    ALLOW(preadv2), ALLOW(prlimit64), ALLOW(pselect6), ALLOW(pwrite64), ALLOW(pwritev), ALLOW(pwritev2),
    ALLOW(read), ALLOW(readahead), ALLOW(readlinkat), ALLOW(readv), ALLOW(recvfrom), ALLOW(recvmmsg),
    ALLOW(recvmsg), ALLOW(remap_file_pages), ALLOW(removexattr), ALLOW(renameat2), ALLOW(restart_syscall),
    ALLOW(rseq), ALLOW(rt_sigaction), ALLOW(rt_sigpending), ALLOW(rt_sigprocmask), ALLOW(rt_sigqueueinfo),
    ALLOW(rt_sigreturn), ALLOW(rt_sigsuspend), ALLOW(rt_sigtimedwait), ALLOW(rt_tgsigqueueinfo),
    ALLOW(sched_getaffinity), ALLOW(sched_getattr), ALLOW(sched_getparam), ALLOW(sched_get_priority_max),
    ALLOW(sched_get_priority_min), ALLOW(sched_getscheduler), ALLOW(sched_rr_get_interval),
    ALLOW(sched_setaffinity), ALLOW(sched_setattr), ALLOW(sched_setparam), ALLOW(sched_setscheduler),
    ALLOW(sched_yield), ALLOW(seccomp), ALLOW(semctl), ALLOW(semget), ALLOW(semop), ALLOW(semtimedop),
    ALLOW(sendfile), ALLOW(sendmmsg), ALLOW(sendmsg), ALLOW(sendto), ALLOW(setfsgid), ALLOW(setfsuid),
    ALLOW(setgid), ALLOW(setgroups), ALLOW(setitimer), ALLOW(setpgid), ALLOW(setpriority), ALLOW(setregid),
    ALLOW(setresgid), ALLOW(setresuid), ALLOW(setreuid), ALLOW(setrlimit), ALLOW(set_robust_list), ALLOW(setsid),
    ALLOW(setsockopt), ALLOW(set_tid_address), ALLOW(setuid), ALLOW(setxattr), ALLOW(shmat), ALLOW(shmctl),
    ALLOW(shmdt), ALLOW(shmget), ALLOW(shutdown), ALLOW(sigaltstack), ALLOW(signalfd4), ALLOW(socketpair),
    ALLOW(splice), ALLOW(statfs), ALLOW(statx), ALLOW(symlinkat), ALLOW(sync), ALLOW(sync_file_range),
    ALLOW(syncfs), ALLOW(sysinfo), ALLOW(tee), ALLOW(tgkill), ALLOW(timer_create), ALLOW(timer_delete),
    ALLOW(timer_getoverrun), ALLOW(timer_gettime), ALLOW(timer_settime), ALLOW(timerfd_create),
    ALLOW(timerfd_gettime), ALLOW(timerfd_settime), ALLOW(times), ALLOW(tkill), ALLOW(truncate), ALLOW(umask),
    ALLOW(uname), ALLOW(unlinkat), ALLOW(utimensat), ALLOW(vmsplice), ALLOW(wait4), ALLOW(waitid), ALLOW(write),
    ALLOW(writev),
    // docker allows these from kernel 4.8 on, which every kernel shoal runs on is.
    ALLOW(process_vm_readv), ALLOW(process_vm_writev), ALLOW(ptrace),
    ALLOW_NUMBERED(pidfd_send_signal, 424), ALLOW_NUMBERED(pidfd_open, 434), ALLOW_NUMBERED(close_range, 436),
    ALLOW_NUMBERED(openat2, 437), ALLOW_NUMBERED(faccessat2, 439), ALLOW_NUMBERED(epoll_pwait2, 441),
    ALLOW_NUMBERED(landlock_create_ruleset, 444), ALLOW_NUMBERED(landlock_add_rule, 445),
    ALLOW_NUMBERED(landlock_restrict_self, 446), ALLOW_NUMBERED(memfd_secret, 447),
    ALLOW_NUMBERED(process_mrelease, 448), ALLOW_NUMBERED(futex_waitv, 449), ALLOW_NUMBERED(cachestat, 451),
    ALLOW_NUMBERED(fchmodat2, 452), ALLOW_NUMBERED(map_shadow_stack, 453), ALLOW_NUMBERED(futex_wake, 454),
    ALLOW_NUMBERED(futex_wait, 455), ALLOW_NUMBERED(futex_requeue, 456), ALLOW_NUMBERED(statmount, 457),
    ALLOW_NUMBERED(listmount, 458), ALLOW_NUMBERED(mseal, 462), ALLOW_NUMBERED(setxattrat, 463),
    ALLOW_NUMBERED(getxattrat, 464), ALLOW_NUMBERED(listxattrat, 465), ALLOW_NUMBERED(removexattrat, 466),
#if defined(__x86_64__)
    // The x86_64 names the newer architectures replaced with the *at and *2 forms.
    ALLOW(access), ALLOW(alarm), ALLOW(arch_prctl), ALLOW(chmod), ALLOW(chown), ALLOW(creat), ALLOW(dup2),
    ALLOW(epoll_create), ALLOW(epoll_ctl_old), ALLOW(epoll_wait), ALLOW(epoll_wait_old), ALLOW(eventfd),
    ALLOW(fork), ALLOW(futimesat), ALLOW(getdents), ALLOW(getpgrp), ALLOW(get_thread_area), ALLOW(inotify_init),
    ALLOW(lchown), ALLOW(link), ALLOW(lstat), ALLOW(mkdir), ALLOW(mknod), ALLOW(modify_ldt), ALLOW(open),
    ALLOW(pause), ALLOW(pipe), ALLOW(poll), ALLOW(readlink), ALLOW(rename), ALLOW(renameat), ALLOW(rmdir),
    ALLOW(select), ALLOW(set_thread_area), ALLOW(signalfd), ALLOW(stat), ALLOW(symlink), ALLOW(time),
    ALLOW(unlink), ALLOW(utime), ALLOW(utimes), ALLOW(vfork), ALLOW_NUMBERED(uretprobe, 335),
    WITH(SYS_RAWIO, iopl), WITH(SYS_RAWIO, ioperm),
#endif
    WITH(DAC_READ_SEARCH, open_by_handle_at),
    WITH(SYS_ADMIN, bpf), WITH(SYS_ADMIN, fanotify_init), WITH(SYS_ADMIN, mount),
    WITH(SYS_ADMIN, perf_event_open), WITH(SYS_ADMIN, quotactl), WITH(SYS_ADMIN, setdomainname),
    WITH(SYS_ADMIN, sethostname), WITH(SYS_ADMIN, setns), WITH(SYS_ADMIN, syslog), WITH(SYS_ADMIN, umount2),
    WITH(SYS_ADMIN, unshare), WITH_NUMBERED(SYS_ADMIN, open_tree, 428), WITH_NUMBERED(SYS_ADMIN, move_mount, 429),
    WITH_NUMBERED(SYS_ADMIN, fsopen, 430), WITH_NUMBERED(SYS_ADMIN, fsconfig, 431),
    WITH_NUMBERED(SYS_ADMIN, fsmount, 432), WITH_NUMBERED(SYS_ADMIN, fspick, 433),
    WITH_NUMBERED(SYS_ADMIN, mount_setattr, 442), WITH_NUMBERED(SYS_ADMIN, quotactl_fd, 443),
    WITH_NUMBERED(SYS_ADMIN, lsm_get_self_attr, 459), WITH_NUMBERED(SYS_ADMIN, lsm_set_self_attr, 460),
    WITH_NUMBERED(SYS_ADMIN, lsm_list_modules, 461),
    WITH(SYS_BOOT, reboot), WITH(SYS_CHROOT, chroot), WITH(SYS_MODULE, delete_module),
    WITH(SYS_MODULE, init_module), WITH(SYS_MODULE, finit_module), WITH(SYS_PACCT, acct),
    WITH(SYS_PTRACE, kcmp), WITH_NUMBERED(SYS_PTRACE, pidfd_getfd, 438),
    WITH_NUMBERED(SYS_PTRACE, process_madvise, 440),
    WITH(SYS_TIME, settimeofday), WITH(SYS_TIME, clock_settime), WITH(SYS_TTY_CONFIG, vhangup),
    WITH(SYS_NICE, get_mempolicy), WITH(SYS_NICE, mbind), WITH(SYS_NICE, set_mempolicy),
    WITH_NUMBERED(SYS_NICE, set_mempolicy_home_node, 450), WITH(SYSLOG, syslog), WITH(BPF, bpf),
    WITH(PERFMON, perf_event_open),
};

/// Syscalls with rules of their own, and some the profile leaves out, by name (for tests and messages).
static const struct syscall_rule others[] = {
    ALLOW(clone), ALLOW_NUMBERED(clone3, 435), ALLOW(socket), ALLOW(personality), ALLOW(keyctl), ALLOW(add_key),
    ALLOW(request_key), ALLOW(pivot_root), ALLOW_NUMBERED(io_uring_setup, 425),
};

static const unsigned long long namespace_flags =
    CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP;
/// The personality values docker allows: PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32, and the query.
static const unsigned int allowed_personalities[] = {0x0, 0x0008, 0x20000, 0x20008, 0xffffffff};

#define RET_ERRNO(number) (SECCOMP_RET_ERRNO | ((number) & SECCOMP_RET_DATA))
#define ARGUMENT_LOW_WORD(index) ((unsigned)offsetof(struct seccomp_data, args[index]))  // little-endian

int shoal_syscall_number(const char *name) {
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (strcmp(rules[i].name, name) == 0) return rules[i].number;
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        if (strcmp(others[i].name, name) == 0) return others[i].number;
    return -1;
}

unsigned int shoal_seccomp_native_arch(void) { return NATIVE_ARCH; }

struct program {
    struct shoal_bpf_instruction *instructions;
    int count, capacity;
};

static void emit(struct program *p, unsigned short code, unsigned char jt, unsigned char jf, unsigned int k) {
    if (p->count < p->capacity) p->instructions[p->count] = (struct shoal_bpf_instruction){code, jt, jf, k};
    p->count++;  // counted past the capacity too, so the caller learns the size it needs
}

static void emit_return(struct program *p, unsigned int action) { emit(p, BPF_RET | BPF_K, 0, 0, action); }

static int holds(unsigned long long capabilities, int capability) {
    return capability >= 0 && capability < 64 && (capabilities >> capability) & 1;
}

static int compare_numbers(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int shoal_seccomp_filter(unsigned long long capabilities, struct shoal_bpf_instruction *program, int capacity) {
    enum { rule_count = sizeof rules / sizeof rules[0] };
    int allowed[rule_count + 2];
    int count = 0;
    int admin = holds(capabilities, CAP_SYS_ADMIN);
    for (int i = 0; i < rule_count; i++)
        if (rules[i].capability < 0 || holds(capabilities, rules[i].capability)) allowed[count++] = rules[i].number;
    if (admin) {
        allowed[count++] = __NR_clone;
        allowed[count++] = 435;  // clone3
    }
    qsort(allowed, (size_t)count, sizeof allowed[0], compare_numbers);

    struct program p = {program, 0, capacity};
    const unsigned int deny = RET_ERRNO(EPERM);
    // Another architecture's calling convention (x86's int 0x80, x32) numbers syscalls otherwise: denied.
    emit(&p, BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, arch));
    emit(&p, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, NATIVE_ARCH);
    emit_return(&p, deny);
    emit(&p, BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, nr));
#if defined(__x86_64__)
    emit(&p, BPF_JMP | BPF_JGE | BPF_K, 0, 1, __X32_SYSCALL_BIT);
    emit_return(&p, deny);
#endif
    if (!admin) {
        // clone without a new namespace; clone3 (whose flags a filter cannot read) says ENOSYS, so libcs fall back to clone.
        emit(&p, BPF_JMP | BPF_JEQ | BPF_K, 0, 4, __NR_clone);
        emit(&p, BPF_LD | BPF_W | BPF_ABS, 0, 0, ARGUMENT_LOW_WORD(0));
        emit(&p, BPF_JMP | BPF_JSET | BPF_K, 0, 1, (unsigned int)namespace_flags);
        emit_return(&p, deny);
        emit_return(&p, SECCOMP_RET_ALLOW);
        emit(&p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 435);
        emit_return(&p, RET_ERRNO(ENOSYS));
    }
    // socket: every family but AF_ALG (38) and AF_VSOCK (40). The kernel reads an int: the low word.
    emit(&p, BPF_JMP | BPF_JEQ | BPF_K, 0, 6, __NR_socket);
    emit(&p, BPF_LD | BPF_W | BPF_ABS, 0, 0, ARGUMENT_LOW_WORD(0));
    emit(&p, BPF_JMP | BPF_JGE | BPF_K, 0, 3, AF_ALG);
    emit(&p, BPF_JMP | BPF_JEQ | BPF_K, 2, 0, AF_ALG + 1);
    emit(&p, BPF_JMP | BPF_JGT | BPF_K, 1, 0, AF_VSOCK);
    emit_return(&p, deny);
    emit_return(&p, SECCOMP_RET_ALLOW);
    // personality: only the values docker allows.
    enum { personalities = sizeof allowed_personalities / sizeof allowed_personalities[0] };
    emit(&p, BPF_JMP | BPF_JEQ | BPF_K, 0, personalities + 3, __NR_personality);
    emit(&p, BPF_LD | BPF_W | BPF_ABS, 0, 0, ARGUMENT_LOW_WORD(0));
    for (int i = 0; i < personalities; i++)
        emit(&p, BPF_JMP | BPF_JEQ | BPF_K, (unsigned char)(personalities - i), 0, allowed_personalities[i]);
    emit_return(&p, deny);
    emit_return(&p, SECCOMP_RET_ALLOW);
    // The allow-list, as runs of consecutive numbers, each with its own return: jumps reach 255 instructions at most.
    for (int i = 0; i < count;) {
        int last = i;
        while (last + 1 < count && allowed[last + 1] <= allowed[last] + 1) last++;
        if (allowed[last] == allowed[i]) {
            emit(&p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, (unsigned int)allowed[i]);
        } else {
            emit(&p, BPF_JMP | BPF_JGE | BPF_K, 0, 2, (unsigned int)allowed[i]);
            emit(&p, BPF_JMP | BPF_JGT | BPF_K, 1, 0, (unsigned int)allowed[last]);
        }
        emit_return(&p, SECCOMP_RET_ALLOW);
        i = last + 1;
    }
    emit_return(&p, deny);
    return p.count <= capacity ? p.count : -p.count;
}
