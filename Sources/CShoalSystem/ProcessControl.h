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

#endif
