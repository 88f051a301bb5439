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
