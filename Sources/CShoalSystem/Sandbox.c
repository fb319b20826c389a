#define _GNU_SOURCE
#include "CShoalSystem.h"
#include "ProcessControl.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int fail(char *error, int size, const char *what) {
    snprintf(error, (size_t)size, "%s: %s", what, strerror(errno));
    return -1;
}

/// The highest capability this kernel knows (CAP_LAST_CAP of the build's headers if /proc cannot say).
static int last_capability(void) {
    int last = CAP_LAST_CAP;
    int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return last;
    char text[16] = {0};
    ssize_t count = read(fd, text, sizeof text - 1);
    close(fd);
    if (count > 0) {
        long value = strtol(text, NULL, 10);
        if (value > 0 && value < 64) last = (int)value;
    }
    return last;
}

int shoal_confine(const struct shoal_confinement *confinement, char *error, int error_size) {
    int last = last_capability();
    unsigned long long kept = confinement->capabilities;
    if (last < 63) kept &= (1ULL << (last + 1)) - 1;
    for (int capability = 0; capability <= last; capability++) {
        if ((kept >> capability) & 1) continue;
        if (prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0 && errno != EINVAL)
            return fail(error, error_size, "drop a capability from the bounding set");
    }
    // Ambient capabilities: none, as docker (EINVAL: a kernel without them has none to clear).
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
        return fail(error, error_size, "clear the ambient capabilities");
    if (confinement->switch_user) {
        if (setgroups(0, NULL) != 0 || setgid(confinement->gid) != 0 || setuid(confinement->uid) != 0)
            return fail(error, error_size, "switch to the task's user");
        // A user other than root holds no capability, as its command would after exec in docker:
        // so the task's init holds no more than its command, which could otherwise not be reached.
        if (confinement->uid != 0) kept = 0;
    }
    // Inheritable stays empty, as docker's since CVE-2022-24769: a program's file capabilities grant nothing.
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2] = {
        {(unsigned)kept, (unsigned)kept, 0},
        {(unsigned)(kept >> 32), (unsigned)(kept >> 32), 0},
    };
    if (syscall(SYS_capset, &header, data) != 0) return fail(error, error_size, "set the task's capabilities");
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return fail(error, error_size, "set no_new_privs");
    if (!confinement->seccomp) return 0;
    struct shoal_bpf_instruction program[SHOAL_SECCOMP_MAX_INSTRUCTIONS];
    int count = shoal_seccomp_filter(kept, program, SHOAL_SECCOMP_MAX_INSTRUCTIONS);
    if (count <= 0) {
        snprintf(error, (size_t)error_size, "the seccomp filter needs %d instructions, more than %d", -count,
                 SHOAL_SECCOMP_MAX_INSTRUCTIONS);
        return -1;
    }
    struct sock_fprog filter = {(unsigned short)count, (struct sock_filter *)program};
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &filter, 0, 0) != 0)
        return fail(error, error_size, "install the seccomp filter");
    return 0;
}

int shoal_bind_read_only(const char *source, const char *shown, const char *target, char *error, int error_size) {
    if (access(target, F_OK) != 0) {
        snprintf(error, (size_t)error_size, "cannot mount %s over %s: %s does not exist", shown, target, target);
        return -1;
    }
    char what[512];
    snprintf(what, sizeof what, "bind %s over %s", shown, target);
    if (mount(source, target, NULL, MS_BIND, NULL) != 0) return fail(error, error_size, what);
    if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) != 0)
        return fail(error, error_size, what);
    return 0;
}

int shoal_cover(const char *path, char *error, int error_size) {
    struct stat info;
    // Already hidden by a cover of a directory above it, or not on this node: nothing to cover.
    if (lstat(path, &info) != 0) return 0;
    if (!S_ISDIR(info.st_mode)) return shoal_bind_read_only("/dev/null", "/dev/null", path, error, error_size);
    if (mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0755") != 0) {
        char what[512];
        snprintf(what, sizeof what, "cover %s", path);
        return fail(error, error_size, what);
    }
    return 0;
}

int shoal_mount_one(const struct shoal_mount *m, const char *source, char *error, int error_size) {
    char what[512];
    if (access(m->target, F_OK) != 0) {
        snprintf(error, (size_t)error_size, "cannot mount over %s: it does not exist on this node", m->target);
        return -1;
    }
    unsigned long read_only = m->read_only ? MS_RDONLY : 0;
    if (m->tmpfs) {
        char options[64] = "mode=1777";
        if (m->tmpfs_size > 0) snprintf(options, sizeof options, "mode=1777,size=%llu", m->tmpfs_size);
        snprintf(what, sizeof what, "mount a tmpfs on %s", m->target);
        if (mount("tmpfs", m->target, "tmpfs", MS_NOSUID | MS_NODEV | read_only, options) != 0)
            return fail(error, error_size, what);
        return 0;
    }
    snprintf(what, sizeof what, "bind %s over %s", m->source, m->target);
    if (mount(source, m->target, NULL, MS_BIND | MS_REC, NULL) != 0) return fail(error, error_size, what);
    // Writable or not as the mount says, whatever its source's mount is (a --read-only root's is read-only).
    if (mount(NULL, m->target, NULL, MS_BIND | MS_REMOUNT | read_only, NULL) != 0) return fail(error, error_size, what);
    return 0;
}

int shoal_read_only_root(char *error, int error_size) {
    // struct mount_attr of mount_setattr(2) (Linux 5.12), which the build's headers may not have.
    struct {
        unsigned long long attr_set, attr_clr, propagation, userns_fd;
    } attributes = {0x00000001 /* MOUNT_ATTR_RDONLY */, 0, 0, 0};
    if (syscall(442 /* mount_setattr */, AT_FDCWD, "/", 0x8000 /* AT_RECURSIVE */, &attributes, sizeof attributes) != 0)
        return fail(error, error_size, "make the node's file tree read-only");
    if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") != 0)
        return fail(error, error_size, "mount a writable tmpfs on /tmp");
    return 0;
}
