#define _GNU_SOURCE
#include "CShoalSystem.h"
#include "ProcessControl.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/// The order the namespaces are joined in: the mount namespace last, since
/// after it `/proc/P` may no longer be the node's; `pid_for_children`, not
/// `pid` (that one is the node's: task-init itself stays outside).
static const char *const namespace_names[] = {"ipc", "uts", "net", "pid_for_children", "mnt"};
static const int namespace_types[] = {CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWNET, CLONE_NEWPID, CLONE_NEWNS};
enum { namespace_count = 5, net_namespace = 2 };

static struct termios saved_terminal;
static int terminal_saved = 0;
static volatile sig_atomic_t window_changed = 0;
static volatile sig_atomic_t child_ended = 0;

static void note_window_change(int number) { (void)number; window_changed = 1; }
static void note_child_ended(int number) { (void)number; child_ended = 1; }

static void restore_terminal(void) {
    if (terminal_saved) tcsetattr(0, TCSADRAIN, &saved_terminal);
    terminal_saved = 0;
}

static int fail(char *error, int size, const char *what) {
    snprintf(error, (size_t)size, "%s: %s", what, strerror(errno));
    return SHOAL_TASK_EXEC_FAILED;
}

static void close_all(const int *fds, int count) {
    for (int i = 0; i < count; i++)
        if (fds[i] >= 0) close(fds[i]);
}

static int write_all(int fd, const char *bytes, ssize_t count) {
    while (count > 0) {
        ssize_t written = write(fd, bytes, (size_t)count);
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) return -1;
        bytes += written;
        count -= written;
    }
    return 0;
}

/// In the child, between fork and exec: the command's stdio, session and directory, then the command.
static void run_command(char *const argv[], const char *workdir, int tty_slave, int attach_stdin,
                        const struct shoal_confinement *confinement) {
    shoal_default_signals();
    signal(SIGCHLD, SIG_DFL);
    signal(SIGWINCH, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setsid();
    if (tty_slave >= 0) {
        ioctl(tty_slave, TIOCSCTTY, 0);
        for (int fd = 0; fd < 3; fd++) dup2(tty_slave, fd);
        if (tty_slave > 2) close(tty_slave);
    } else if (!attach_stdin) {
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0 && null != 0) {
            dup2(null, 0);
            close(null);
        }
    }
    const char *directory = workdir != NULL && workdir[0] != '\0' ? workdir : "/";
    if (chdir(directory) != 0) {
        dprintf(2, "shoal: cannot enter the working directory %s: %s\n", directory, strerror(errno));
        _exit(126);
    }
    // The task's own confinement, as docker's exec: the same capabilities, no_new_privs and seccomp filter.
    char reason[256];
    if (shoal_confine(confinement, reason, sizeof reason) != 0) {
        dprintf(2, "shoal: cannot confine the command as its task: %s\n", reason);
        _exit(126);
    }
    execvp(argv[0], argv);
    int failure = errno;
    if (failure == ENOENT && strchr(argv[0], '/') == NULL) {
        dprintf(2, "shoal: exec: \"%s\": executable file not found in $PATH\n", argv[0]);
    } else {
        char reason[128];
        snprintf(reason, sizeof reason, "%s", strerror(failure));
        reason[0] = (char)tolower((unsigned char)reason[0]);
        dprintf(2, "shoal: exec: \"%s\": %s\n", argv[0], reason);
    }
    _exit(failure == ENOENT ? 127 : 126);
}

/// Copies the caller's terminal to the pty and back until the command ends;
/// a window size change follows the caller's. Returns the command's exit code.
static int relay(pid_t child, int master, int attach_stdin, const sigset_t *waiting_mask) {
    char buffer[16384];
    int input_open = attach_stdin;
    int status = 0;
    int reaped = 0;
    for (;;) {
        if (window_changed) {
            window_changed = 0;
            struct winsize size;
            if (ioctl(0, TIOCGWINSZ, &size) == 0) ioctl(master, TIOCSWINSZ, &size);
        }
        if (child_ended && !reaped && waitpid(child, &status, WNOHANG) == child) {
            reaped = 1;
            input_open = 0;  // nobody reads the pty any more
        }
        struct pollfd fds[2] = {{.fd = master, .events = POLLIN}, {.fd = input_open ? 0 : -1, .events = POLLIN}};
        // Once the command has ended, only what it left in the pty is still read.
        struct timespec immediately = {0, 0};
        int ready = ppoll(fds, 2, reaped ? &immediately : NULL, waiting_mask);
        if (ready < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (ready == 0) break;  // ended, and nothing left to copy
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t count = read(master, buffer, sizeof buffer);
            if (count > 0) {
                if (write_all(1, buffer, count) != 0) break;
            } else if (count == 0 || errno != EINTR) {
                break;  // EIO: every holder of the pty's other end has closed it
            }
        }
        if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t count = read(0, buffer, sizeof buffer);
            if (count > 0) {
                if (write_all(master, buffer, count) != 0) input_open = 0;
            } else if (count == 0 || errno != EINTR) {
                input_open = 0;
            }
        }
    }
    if (!reaped) return shoal_wait_for(child);
    return shoal_exit_code(status);
}

int shoal_task_exec(int pid, unsigned long long net_inode, const char *workdir, int tty, int attach_stdin,
                    char *const argv[], const struct shoal_confinement *confinement, char *error, int error_size) {
    shoal_close_inherited(3);
    int namespaces[namespace_count];
    for (int i = 0; i < namespace_count; i++) namespaces[i] = -1;
    for (int i = 0; i < namespace_count; i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/%s", pid, namespace_names[i]);
        namespaces[i] = open(path, O_RDONLY | O_CLOEXEC);
        if (namespaces[i] < 0) {
            close_all(namespaces, namespace_count);
            return SHOAL_TASK_EXEC_STOPPED;
        }
    }
    // The pid may have been reused since the daemon looked: then its network namespace is another.
    struct stat net;
    if (fstat(namespaces[net_namespace], &net) != 0 || (unsigned long long)net.st_ino != net_inode) {
        close_all(namespaces, namespace_count);
        return SHOAL_TASK_EXEC_STOPPED;
    }
    int master = -1, slave = -1;
    if (tty) {
        struct winsize size;
        int sized = ioctl(0, TIOCGWINSZ, &size) == 0 || ioctl(1, TIOCGWINSZ, &size) == 0;
        if (openpty(&master, &slave, NULL, NULL, sized ? &size : NULL) != 0) {
            close_all(namespaces, namespace_count);
            return fail(error, error_size, "allocate a pseudo-TTY");
        }
        fcntl(master, F_SETFD, FD_CLOEXEC);
    }
    for (int i = 0; i < namespace_count; i++) {
        if (setns(namespaces[i], namespace_types[i]) != 0) {
            char what[64];
            snprintf(what, sizeof what, "enter the task's %s namespace", namespace_names[i]);
            close_all(namespaces, namespace_count);
            return fail(error, error_size, what);
        }
    }
    close_all(namespaces, namespace_count);

    // Held back until ppoll waits for them, so none is missed between a check and the wait.
    sigset_t held, waiting;
    sigemptyset(&held);
    sigaddset(&held, SIGCHLD);
    sigaddset(&held, SIGWINCH);
    sigprocmask(SIG_BLOCK, &held, &waiting);
    if (tty) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        sigemptyset(&action.sa_mask);
        action.sa_handler = note_child_ended;
        sigaction(SIGCHLD, &action, NULL);
        action.sa_handler = note_window_change;
        sigaction(SIGWINCH, &action, NULL);
        if (attach_stdin && isatty(0) && tcgetattr(0, &saved_terminal) == 0) {
            struct termios raw = saved_terminal;
            cfmakeraw(&raw);
            terminal_saved = tcsetattr(0, TCSANOW, &raw) == 0;
        }
    }
    pid_t child = fork();
    if (child < 0) {
        restore_terminal();
        return fail(error, error_size, "start the command");
    }
    if (child == 0) run_command(argv, workdir, slave, attach_stdin, confinement);
    if (slave >= 0) close(slave);
    // ^C on the caller's terminal (without -t) reaches this process: the command gets it.
    shoal_forward_signals_to(child);
    int code;
    if (tty) {
        code = relay(child, master, attach_stdin, &waiting);
        close(master);
        restore_terminal();
    } else {
        sigprocmask(SIG_SETMASK, &waiting, NULL);
        code = shoal_wait_for(child);
    }
    return code;
}
