#ifndef SHOAL_CSYSTEM_H
#define SHOAL_CSYSTEM_H

/// What Swift's Glibc module lacks: namespace syscalls, unmounting and a way to
/// open a socket inside another network namespace without moving a thread
/// that Swift's runtime might reuse.

#include <sys/types.h>

static const int SHOAL_CLONE_NEWNET = 0x40000000;
static const int SHOAL_CLONE_NEWUTS = 0x04000000;

static const int SHOAL_MNT_DETACH = 2;

int shoal_setns(int fd, int nstype);
int shoal_umount2(const char *target, int flags);

/// 1 when `path` is a pinned namespace (a file on nsfs), else 0.
int shoal_is_namespace_file(const char *path);

typedef void (*shoal_namespace_body)(void *context);

/// Runs `body(context)` on a short-lived thread of its own that first joins
/// the namespace `nsfd` (of type `nstype`), and waits for it. Sockets the
/// body creates stay in that namespace for their whole life and may be used
/// from any thread afterwards. Returns 0, or -errno when the thread could not
/// be started or could not join the namespace (then the body does not run).
int shoal_run_in_namespace(int nsfd, int nstype, shoal_namespace_body body, void *context);

/// Creates a new namespace of type `nstype` (network or UTS) on a short-lived
/// thread and keeps it alive by bind-mounting it onto `target`, which must be
/// an existing file. For a UTS namespace, `hostname` (if not NULL) is set.
/// Returns 0 or -errno.
int shoal_create_namespace(int nstype, const char *target, const char *hostname);

/// One instruction of a classic BPF program, laid out as the kernel's `struct sock_filter`.
struct shoal_bpf_instruction {
    unsigned short code;
    unsigned char jt, jf;
    unsigned int k;
};

/// More instructions than docker's profile compiles to on any architecture shoal knows.
enum { SHOAL_SECCOMP_MAX_INSTRUCTIONS = 1024 };

/// Compiles docker's default seccomp profile, for a task holding
/// `capabilities` (bit N: capability N), into a filter for this machine's
/// architecture: other architectures' syscalls and everything off the
/// allow-list fail with EPERM (clone3 without CAP_SYS_ADMIN with ENOSYS, as
/// docker's). Writes at most `capacity` instructions; returns how many there
/// are, or minus the number needed when `capacity` is too small. Pure.
int shoal_seccomp_filter(unsigned long long capabilities, struct shoal_bpf_instruction *program, int capacity);
/// The syscall's number on this architecture, or -1 when the profile does not know it here.
int shoal_syscall_number(const char *name);
/// The AUDIT_ARCH value a filter accepts on this machine.
unsigned int shoal_seccomp_native_arch(void);

/// How a task's processes are confined (task-init's command, and what `shoal exec` runs).
struct shoal_confinement {
    /// The capabilities kept (bit N: capability N): the bounding, permitted
    /// and effective sets; the others dropped; inheritable and ambient empty.
    unsigned long long capabilities;
    /// 1: docker's default seccomp profile; 0: unconfined.
    int seccomp;
    /// 1: become `uid`:`gid` (with no supplementary groups) before the capabilities are set.
    int switch_user;
    unsigned int uid, gid;
};

/// A `--mount`: a bind of `source` (recursive), or a tmpfs of `tmpfs_size` bytes (0: the kernel's default).
struct shoal_mount {
    int tmpfs;
    const char *source;
    const char *target;
    int read_only;
    unsigned long long tmpfs_size;
};

/// The task's extra mounts, made by task-init in its mount namespace before its command starts.
struct shoal_task_mounts {
    /// Bind-mounted read-only over /etc/resolv.conf and /etc/hostname (NULL: left alone).
    const char *resolv_conf;
    const char *hostname_file;
    /// Each hidden: an empty read-only tmpfs over a directory, /dev/null over
    /// a file (one that is not there is skipped).
    const char *const *covers;
    int cover_count;
    /// 1: the node's whole file tree read-only (recursively), a writable tmpfs on /tmp.
    int read_only_root;
    /// The service's `--mount`s, in order; each target must exist.
    const struct shoal_mount *mounts;
    int mount_count;
};

/// `shoal task-init`: the start of every task. Enters new network, mount,
/// UTS, IPC and PID namespaces, writes one byte to `ready_fd` and waits for
/// one on `go_fd` (the agent wires the network namespace meanwhile), sets the
/// hostname, makes `mounts`, then runs `program` with `argv` in `workdir`
/// (NULL: unchanged), confined as `confinement` says, as the child of
/// a minimal init that is PID 1 of the new PID namespace: it forwards
/// signals and reaps orphans, and when it exits the kernel ends every
/// process left in the namespace. This process dies with the thread that
/// spawned it (the agent's spawner) and exits with the command's status,
/// 128+N when a signal N ended it. Written in C because signal handlers and
/// code between fork and exec must be async-signal-safe. Returns only on
/// failure, with a message in `error`.
int shoal_task_init(const char *hostname, const char *program, const char *workdir, char *const argv[], char *const envp[],
                    int ready_fd, int go_fd, const struct shoal_task_mounts *mounts,
                    const struct shoal_confinement *confinement, char *error, int error_size);

/// What `shoal_task_exec` returns when it could not run the command.
static const int SHOAL_TASK_EXEC_FAILED = -1;
/// …because the task's process is gone (or its pid is another process's now).
static const int SHOAL_TASK_EXEC_STOPPED = -2;

/// `shoal task-exec`: enters the namespaces of task-init process `pid`
/// (IPC, UTS, network, the PID namespace of its children, mount), after
/// checking that its network namespace's inode is still `net_inode`, then
/// runs `argv` (looked up in the task's PATH, with this process's
/// environment) in `workdir` (NULL: "/") as a child in a session of its own.
/// With `tty` the command gets a new pty, relayed to this process's stdio
/// (the caller's terminal raw meanwhile, when `attach_stdin`); without it,
/// the command shares this process's stdio (stdin /dev/null unless
/// `attach_stdin`), confined as the task (`confinement`). Must run while the process has one thread. Returns the
/// command's exit code (128+N when signal N ended it), or one of the
/// negative codes above, with a message in `error` for FAILED.
int shoal_task_exec(int pid, unsigned long long net_inode, const char *workdir, int tty, int attach_stdin,
                    char *const argv[], const struct shoal_confinement *confinement, char *error, int error_size);

/// pidfd_open(2) and pidfd_send_signal(2), which Glibc does not wrap yet.
int shoal_pidfd_open(int pid);
int shoal_pidfd_send_signal(int pidfd, int signal);

/// pipe2(2), which Glibc hides without _GNU_SOURCE: `flags` as O_CLOEXEC, O_NONBLOCK.
int shoal_pipe2(int fds[2], int flags);

#endif
