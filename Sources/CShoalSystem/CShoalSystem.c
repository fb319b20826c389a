#define _GNU_SOURCE
#include "CShoalSystem.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <string.h>
#include <unistd.h>

int shoal_setns(int fd, int nstype) { return setns(fd, nstype); }
int shoal_umount2(const char *target, int flags) { return umount2(target, flags); }

int shoal_is_namespace_file(const char *path) {
    struct statfs info;
    const long nsfs_magic = 0x6e736673;
    return statfs(path, &info) == 0 && (long)info.f_type == nsfs_magic;
}

struct namespace_job {
    int nsfd, nstype;
    shoal_namespace_body body;
    void *context;
    const char *target, *hostname;
    int result;
};

static void *run_in_namespace_thread(void *arg) {
    struct namespace_job *job = arg;
    if (setns(job->nsfd, job->nstype) != 0) {
        job->result = -errno;
        return NULL;
    }
    job->body(job->context);
    job->result = 0;
    return NULL;  // the thread ends here, so its namespace switch dies with it
}

static const char *namespace_proc_name(int nstype) {
    switch (nstype) {
    case CLONE_NEWNET: return "/proc/thread-self/ns/net";
    case CLONE_NEWUTS: return "/proc/thread-self/ns/uts";
    case CLONE_NEWIPC: return "/proc/thread-self/ns/ipc";
    default: return NULL;
    }
}

static void *create_namespace_thread(void *arg) {
    struct namespace_job *job = arg;
    const char *source = namespace_proc_name(job->nstype);
    if (source == NULL) {
        job->result = -EINVAL;
        return NULL;
    }
    if (unshare(job->nstype) != 0) {
        job->result = -errno;
        return NULL;
    }
    if (job->hostname != NULL && job->nstype == CLONE_NEWUTS &&
        sethostname(job->hostname, strlen(job->hostname)) != 0) {
        job->result = -errno;
        return NULL;
    }
    job->result = mount(source, job->target, NULL, MS_BIND, NULL) == 0 ? 0 : -errno;
    return NULL;
}

static int run_job(void *(*start)(void *), struct namespace_job *job) {
    pthread_t thread;
    int rc = pthread_create(&thread, NULL, start, job);
    if (rc != 0) return -rc;
    pthread_join(thread, NULL);
    return job->result;
}

int shoal_run_in_namespace(int nsfd, int nstype, shoal_namespace_body body, void *context) {
    struct namespace_job job = {nsfd, nstype, body, context, NULL, NULL, -EINVAL};
    return run_job(run_in_namespace_thread, &job);
}

int shoal_create_namespace(int nstype, const char *target, const char *hostname) {
    struct namespace_job job = {-1, nstype, NULL, NULL, target, hostname, -EINVAL};
    return run_job(create_namespace_thread, &job);
}
