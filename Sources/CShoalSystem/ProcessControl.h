#ifndef SHOAL_PROCESS_CONTROL_H
#define SHOAL_PROCESS_CONTROL_H

/// What `task-init` and `task-exec` share (not exported to Swift). All of it
/// is async-signal-safe where a signal handler or a forked child uses it.

#include <sys/types.h>

/// Passes SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 on to `pid`.
void shoal_forward_signals_to(pid_t pid);
/// Puts those signals back to their default action (in a child before exec).
void shoal_default_signals(void);
/// A wait status as a shell shows it: the exit code, or 128+N for signal N.
int shoal_exit_code(int status);
/// Waits for `child`, reaping any other child on the way; its exit code.
int shoal_wait_for(pid_t child);
/// Closes every descriptor from `lowest` up: nothing inherited leaks into a task.
void shoal_close_inherited(int lowest);


struct shoal_confinement;
/// Drops every capability but `confinement`'s from all sets, sets
/// no_new_privs and installs the seccomp filter: the last steps before a
/// task's command is exec'd. Returns 0, or -1 with a message in `error`.
int shoal_confine(const struct shoal_confinement *confinement, char *error, int error_size);
/// Bind-mounts `source` read-only over `target`, which must exist; `shown` names the source in messages.
int shoal_bind_read_only(const char *source, const char *shown, const char *target, char *error, int error_size);
struct shoal_mount;
/// Makes one `--mount`; a bind's source is `source` (a /proc/self/fd path), named as the mount names it.
int shoal_mount_one(const struct shoal_mount *mount, const char *source, char *error, int error_size);
/// Makes every mount below / read-only (mount_setattr, recursively), then a writable tmpfs on /tmp.
int shoal_read_only_root(char *error, int error_size);
/// Hides `path`: an empty read-only tmpfs over a directory, /dev/null over
/// anything else (a socket); nothing when it does not exist.
int shoal_cover(const char *path, char *error, int error_size);

#endif
