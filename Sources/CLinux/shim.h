// The kernel's user-space API headers bpstune speaks: the ethtool ioctl structures and command
// numbers (SIOCETHTOOL), from Debian's linux-libc-dev, and the scheduler's policy numbers.
// Imported into Swift as they are, so that no structure layout is written by hand.
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <linux/sched.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sys/syscall.h>
#include <unistd.h>

// sched_getaffinity(2) and sched_setaffinity(2) as system calls: glibc declares its wrappers
// only under _GNU_SOURCE, which Swift's Glibc module is not built with. The mask is a plain
// bitmap of `size` bytes; getaffinity returns the bytes the kernel wrote, or -1 with errno.
static inline long bpstune_sched_getaffinity(int pid, unsigned long size, void *mask) {
  return syscall(SYS_sched_getaffinity, pid, size, mask);
}
static inline long bpstune_sched_setaffinity(int pid, unsigned long size, const void *mask) {
  return syscall(SYS_sched_setaffinity, pid, size, mask);
}

// capget(2) of this process as a system call (glibc has no wrapper; libcap is not needed for
// one call): the effective capability set, 64 bits as two 32-bit words. 0, or -1 with errno.
static inline int bpstune_capget_effective(unsigned long long *effective) {
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
  if (syscall(SYS_capget, &header, data) != 0) return -1;
  *effective = (unsigned long long)data[0].effective | ((unsigned long long)data[1].effective << 32);
  return 0;
}

// statfs(2) and fstatfs(2) for the file system a kernel file lives on (its f_type, one of
// linux/magic.h's numbers): `[sysfs]` and `[sysctl]` keys must name files on sysfs and procfs,
// never on debugfs, tracefs, securityfs, configfs, efivarfs or bpffs mounted below /sys.
// Swift's Glibc module does not export sys/vfs.h. 0, or -1 with errno.
#include <sys/vfs.h>
#include <linux/magic.h>
static inline int bpstune_statfs_type(const char *path, long long *type) {
  struct statfs s;
  if (statfs(path, &s) != 0) return -1;
  *type = (long long)s.f_type;
  return 0;
}
static inline int bpstune_fstatfs_type(int fd, long long *type) {
  struct statfs s;
  if (fstatfs(fd, &s) != 0) return -1;
  *type = (long long)s.f_type;
  return 0;
}

// fgetxattr(2) and fsetxattr(2): the snapshot store keeps a copy of each snapshot's header in
// an extended attribute of its file. Swift's Glibc module does not export sys/xattr.h.
#include <sys/xattr.h>

// The latency probe's sockets: busy-poll socket options (asm-generic/socket.h), epoll, and
// epoll's busy-poll parameters. struct epoll_params and EPIOCSPARAMS are uapi from Linux 6.9
// (include/uapi/linux/eventpoll.h), which bookworm's headers lack and which cannot be included
// beside glibc's sys/epoll.h (both define struct epoll_event), so the 6.9 layout is repeated
// here under a name of bpstune's own.
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/prctl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <stdint.h>
struct bpstune_epoll_params {
  uint32_t busy_poll_usecs;
  uint16_t busy_poll_budget;
  uint8_t prefer_busy_poll;
  uint8_t pad;
};
#define BPSTUNE_EPIOCSPARAMS _IOW(0x8A, 0x01, struct bpstune_epoll_params)

// ioctl(EPIOCSPARAMS) on an epoll descriptor (Linux 6.9+; ENOTTY before). 0, or -1 with errno.
static inline int bpstune_epoll_set_params(int epfd, unsigned usecs, unsigned budget, int prefer) {
  struct bpstune_epoll_params params = {usecs, (uint16_t)budget, (uint8_t)(prefer ? 1 : 0), 0};
  return ioctl(epfd, BPSTUNE_EPIOCSPARAMS, &params);
}

// epoll_ctl(EPOLL_CTL_ADD) of `fd` for EPOLLIN; struct epoll_event is packed on x86-64, so it
// is filled in C. 0, or -1 with errno.
static inline int bpstune_epoll_add(int epfd, int fd) {
  struct epoll_event event = {EPOLLIN, {.fd = fd}};
  return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event);
}

// epoll_wait(2) for one event: 1 when the descriptor is readable, 0 on timeout, -1 with errno.
static inline int bpstune_epoll_wait_one(int epfd, int timeout_ms) {
  struct epoll_event event;
  return epoll_wait(epfd, &event, 1, timeout_ms);
}

// epoll_ctl(2) of `fd` with `events` (EPOLLIN, EPOLLOUT, EPOLLRDHUP; 0 with EPOLL_CTL_MOD to
// pause it) for the probe server's TCP loop, the descriptor as the event's data. 0, or -1 with errno.
static inline int bpstune_epoll_ctl(int epfd, int op, int fd, unsigned events) {
  struct epoll_event event = {events, {.fd = fd}};
  return epoll_ctl(epfd, op, fd, &event);
}

// epoll_wait(2) for up to `max` events, each one's descriptor and events copied out of the
// packed struct epoll_event: the count, 0 on timeout, -1 with errno.
static inline int bpstune_epoll_wait_many(int epfd, int *fds, unsigned *events, int max, int timeout_ms) {
  struct epoll_event ready[64];
  if (max > 64) max = 64;
  int n = epoll_wait(epfd, ready, max, timeout_ms);
  for (int i = 0; i < n; i++) {
    fds[i] = ready[i].data.fd;
    events[i] = ready[i].events;
  }
  return n;
}

// prctl(PR_SET_TIMERSLACK) of the calling thread (prctl is variadic, which Swift cannot call).
static inline int bpstune_set_timer_slack(unsigned long nanoseconds) {
  return prctl(PR_SET_TIMERSLACK, nanoseconds, 0, 0, 0);
}

// strerrorname_np(3) (glibc 2.32+): the symbolic name of an errno value ("ECONNREFUSED"), or
// NULL. Declared only under _GNU_SOURCE, hence this declaration of the exported function.
extern const char *strerrorname_np(int errnum);
static inline const char *bpstune_errno_name(int errnum) { return strerrorname_np(errnum); }
