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

#endif
