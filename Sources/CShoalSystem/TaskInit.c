#define _GNU_SOURCE
#include "CShoalSystem.h"
#include "ProcessControl.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile pid_t forward_to = 0;

static void forward_signal(int number) {
    if (forward_to > 0) kill(forward_to, number);
}

static const int forwarded_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

void shoal_forward_signals_to(pid_t pid) {
    forward_to = pid;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = forward_signal;
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < sizeof forwarded_signals / sizeof forwarded_signals[0]; i++)
        sigaction(forwarded_signals[i], &action, NULL);
}

void shoal_default_signals(void) {
    for (size_t i = 0; i < sizeof forwarded_signals / sizeof forwarded_signals[0]; i++)
        signal(forwarded_signals[i], SIG_DFL);
}

/// Holds the forwarded signals back until a handler can pass them on: the
/// init of a PID namespace drops a signal it has no handler for, so one
/// forwarded before its handler existed would be lost, and the task would
/// outlive a stop. Blocked signals are kept pending instead.
static void block_forwarded(sigset_t *previous) {
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof forwarded_signals / sizeof forwarded_signals[0]; i++)
        sigaddset(&set, forwarded_signals[i]);
    sigprocmask(SIG_BLOCK, &set, previous);
}

int shoal_exit_code(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 1;
}

/// Waits for `child`, reaping any other child (orphans re-parented to PID 1) on the way.
int shoal_wait_for(pid_t child) {
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid == child) return shoal_exit_code(status);
        if (pid < 0 && errno != EINTR) return 1;
    }
}

static int fail(char *error, int size, const char *what) {
    snprintf(error, (size_t)size, "%s: %s", what, strerror(errno));
    return -1;
}

/// The daemon's sockets are not all close-on-exec (NIO's accepted ones are
/// not): a task must not keep a client's connection open, so everything
/// above the handshake pipes is closed first.
void shoal_close_inherited(int lowest) {
    if (syscall(SYS_close_range, (unsigned)lowest, ~0U, 0) == 0) return;
    for (int fd = lowest; fd < 65536; fd++) close(fd);
}

/// Where a bind takes its source from: `path` as it is now, whatever is mounted over it later.
struct bind_source {
    int fd;
    char path[32];
};

static int open_source(const char *path, struct bind_source *source, char *error, int error_size) {
    source->fd = open(path, O_PATH | O_CLOEXEC);
    if (source->fd < 0) {
        snprintf(error, (size_t)error_size, "cannot bind %s: %s", path, strerror(errno));
        return -1;
    }
    snprintf(source->path, sizeof source->path, "/proc/self/fd/%d", source->fd);
    return 0;
}

/// Every source is opened first (a bind's may lie under /tmp, which
/// `--read-only` replaces, or under a covered directory); then `--read-only`
/// (what comes after is mounted on it, writable or not as it says), the
/// task's own files over the node's, its `--mount`s, and last the daemon's
/// state covered.
static int mount_task_files(const struct shoal_task_mounts *mounts, char *error, int error_size) {
    enum { most_mounts = 64 };
    if (mounts->mount_count > most_mounts) {
        snprintf(error, (size_t)error_size, "%d mounts: a task has %d at most", mounts->mount_count, most_mounts);
        return -1;
    }
    struct bind_source resolv = {-1, ""}, hostname = {-1, ""}, sources[most_mounts];
    if (mounts->resolv_conf != NULL && open_source(mounts->resolv_conf, &resolv, error, error_size) != 0) return -1;
    if (mounts->hostname_file != NULL && open_source(mounts->hostname_file, &hostname, error, error_size) != 0) return -1;
    for (int i = 0; i < mounts->mount_count; i++) {
        sources[i].fd = -1;
        if (!mounts->mounts[i].tmpfs && open_source(mounts->mounts[i].source, &sources[i], error, error_size) != 0) return -1;
    }
    // The descriptors die with this process's exec; nothing here returns to a caller that would go on.
    if (mounts->read_only_root && shoal_read_only_root(error, error_size) != 0) return -1;
    if (resolv.fd >= 0 && shoal_bind_read_only(resolv.path, mounts->resolv_conf, "/etc/resolv.conf", error, error_size) != 0)
        return -1;
    if (hostname.fd >= 0 && shoal_bind_read_only(hostname.path, mounts->hostname_file, "/etc/hostname", error, error_size) != 0)
        return -1;
    for (int i = 0; i < mounts->mount_count; i++)
        if (shoal_mount_one(&mounts->mounts[i], sources[i].path, error, error_size) != 0) return -1;
    for (int i = 0; i < mounts->cover_count; i++)
        if (shoal_cover(mounts->covers[i], error, error_size) != 0) return -1;
    for (int i = 0; i < mounts->mount_count; i++)
        if (sources[i].fd >= 0) close(sources[i].fd);
    if (resolv.fd >= 0) close(resolv.fd);
    if (hostname.fd >= 0) close(hostname.fd);
    return 0;
}

int shoal_task_init(const char *hostname, const char *program, const char *workdir, char *const argv[], char *const envp[],
                    int ready_fd, int go_fd, const struct shoal_task_mounts *mounts,
                    const struct shoal_confinement *confinement, char *error, int error_size) {
    shoal_close_inherited((ready_fd > go_fd ? ready_fd : go_fd) + 1);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return fail(error, error_size, "set the parent death signal");
    sigset_t original;
    block_forwarded(&original);
    if (unshare(CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID) != 0)
        return fail(error, error_size, "create the task's namespaces");
    char byte = 'r';
    if (write(ready_fd, &byte, 1) != 1) return fail(error, error_size, "tell the agent the namespaces are ready");
    if (read(go_fd, &byte, 1) != 1) {
        snprintf(error, (size_t)error_size, "the agent did not finish the task's network");
        return -1;
    }
    close(ready_fd);
    close(go_fd);
    if (sethostname(hostname, strlen(hostname)) != 0) return fail(error, error_size, "set the hostname");
    // Mounts made inside (the new /proc) must not reach the node.
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) return fail(error, error_size, "make mounts private");
    if (mount_task_files(mounts, error, error_size) != 0) return -1;

    pid_t init = fork();
    if (init < 0) return fail(error, error_size, "fork the task's init");
    if (init == 0) {
        // PID 1 of the task's PID namespace.
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) _exit(126);
        // Confined as its command, which inherits it all: every process the
        // task can see holds the same, so none is out of its reach (ptrace, /proc/1).
        char reason[256];
        if (shoal_confine(confinement, reason, sizeof reason) != 0) {
            dprintf(2, "task: cannot confine the task: %s\n", reason);
            _exit(126);
        }
        pid_t command = fork();
        if (command < 0) _exit(126);
        if (command == 0) {
            shoal_default_signals();
            sigprocmask(SIG_SETMASK, &original, NULL);
            if (workdir != NULL && chdir(workdir) != 0) {
                dprintf(2, "task: cannot enter %s: %s\n", workdir, strerror(errno));
                _exit(126);
            }
            execve(program, argv, envp);
            dprintf(2, "task: cannot run %s: %s\n", program, strerror(errno));
            _exit(errno == ENOENT ? 127 : 126);
        }
        shoal_forward_signals_to(command);
        sigprocmask(SIG_SETMASK, &original, NULL);
        _exit(shoal_wait_for(command));
    }
    shoal_forward_signals_to(init);
    sigprocmask(SIG_SETMASK, &original, NULL);
    _exit(shoal_wait_for(init));
}

int shoal_pidfd_open(int pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

int shoal_pidfd_send_signal(int pidfd, int signal) {
    return (int)syscall(SYS_pidfd_send_signal, pidfd, signal, NULL, 0);
}


int shoal_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }
