/* make bench's physical limit for `bpstune diff` of contrib/bench/bench.profile: the values diff
 * reads, read with the fewest system calls a program can make, and printed in one write(2).
 * Built static (gcc -static -O2) by contrib/bench/run, so that it pays the exec floor and no
 * dynamic loading; what it costs above the empty static program is the kernel's share of the
 * work, which no implementation of diff can avoid.
 *
 * Per value one openat(2), one read(2) and one close(2): the three sysctls (a missing one, as
 * net.core.busy_read and busy_poll are in a network namespace other than the first, is one
 * failed openat(2), as it is for diff, which reports it unsupported), and each queue's
 * rps_cpus (rx-N) and xps_cpus (tx-N), found by counting N up from 0 until the open fails with
 * ENOENT (the kernel numbers queues without gaps), one failed open per kind instead of listing
 * the directory. The features as ethtool reads them: one AF_INET datagram socket and three
 * SIOCETHTOOL ioctls, ETHTOOL_GSSET_INFO (how many feature names), ETHTOOL_GSTRINGS (the
 * names) and ETHTOOL_GFEATURES (their state), of which rx-gro and rx-lro are printed.
 *
 * Usage: minimal-reader [INTERFACE]  (default vA, the bench's veth). Exit 1 on any failure. */
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static char out[65536];
static size_t used;

static void put(const char *text, size_t n) {
  if (used + n > sizeof out) n = sizeof out - used;
  memcpy(out + used, text, n);
  used += n;
}

/* One value: open, read, close; appends "PATH VALUE" to the output. Returns -1 with errno. */
static int value(const char *path) {
  char buf[4096];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf);
  close(fd);
  if (n < 0) return -1;
  put(path, strlen(path));
  put(" ", 1);
  put(buf, (size_t)n);
  return 0;
}

static void queues(const char *interface, const char *kind, const char *file) {
  char path[256];
  for (int q = 0;; q++) {
    snprintf(path, sizeof path, "/sys/class/net/%s/queues/%s-%d/%s", interface, kind, q, file);
    if (value(path) != 0) {
      if (errno == ENOENT && q > 0) return;
      perror(path);
      exit(1);
    }
  }
}

static void ethtool(int fd, struct ifreq *ifr, void *request, const char *what) {
  ifr->ifr_data = request;
  if (ioctl(fd, SIOCETHTOOL, ifr) < 0) {
    perror(what);
    exit(1);
  }
}

int main(int argc, char **argv) {
  const char *interface = argc > 1 ? argv[1] : "vA";
  static const char *sysctls[] = {"/proc/sys/net/core/busy_read", "/proc/sys/net/core/busy_poll",
                                  "/proc/sys/net/core/somaxconn"};
  for (int i = 0; i < 3; i++) {
    if (value(sysctls[i]) == 0) continue;
    if (errno != ENOENT) {
      perror(sysctls[i]);
      return 1;
    }
    put(sysctls[i], strlen(sysctls[i]));
    put(" absent\n", 8);
  }

  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    perror("socket");
    return 1;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, interface, IFNAMSIZ - 1);
  struct {
    struct ethtool_sset_info info;
    __u32 count;
  } sset = {{.cmd = ETHTOOL_GSSET_INFO, .sset_mask = 1ULL << ETH_SS_FEATURES}, 0};
  ethtool(fd, &ifr, &sset, "ETHTOOL_GSSET_INFO");
  __u32 n = sset.count;
  struct ethtool_gstrings *names = calloc(1, sizeof *names + (size_t)n * ETH_GSTRING_LEN);
  struct ethtool_gfeatures *features =
      calloc(1, sizeof *features + (size_t)(n + 31) / 32 * sizeof(struct ethtool_get_features_block));
  if (!names || !features) return 1;
  names->cmd = ETHTOOL_GSTRINGS;
  names->string_set = ETH_SS_FEATURES;
  names->len = n;
  ethtool(fd, &ifr, names, "ETHTOOL_GSTRINGS");
  features->cmd = ETHTOOL_GFEATURES;
  features->size = (n + 31) / 32;
  ethtool(fd, &ifr, features, "ETHTOOL_GFEATURES");
  close(fd);
  for (__u32 i = 0; i < n; i++) {
    const char *name = (const char *)names->data + (size_t)i * ETH_GSTRING_LEN;
    if (strcmp(name, "rx-gro") != 0 && strcmp(name, "rx-lro") != 0) continue;
    int on = (features->features[i / 32].active >> (i % 32)) & 1;
    put(name, strlen(name));
    put(on ? ": on\n" : ": off\n", on ? 5 : 6);
  }

  queues(interface, "rx", "rps_cpus");
  queues(interface, "tx", "xps_cpus");
  return write(1, out, used) == (ssize_t)used ? 0 : 1;
}
