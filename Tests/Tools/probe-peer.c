// probe-peer: the host-tier tests' hostile peer of `bpstune probe server`, written without
// anything of bpstune's (the wire format is repeated from its documentation). Root, inside a
// bpst-* network namespace.
//
//   probe-peer spoof SRC_ADDR SRC_PORT DST_ADDR DST_PORT SECONDS
//       Sends one probe request from SRC_ADDR:SRC_PORT (a raw IPv4 socket with IP_HDRINCL, so
//       the source can be the server's own address and port) to DST_ADDR:DST_PORT, then counts
//       for SECONDS every probe datagram between those two endpoints, either way, on a second
//       raw socket. Prints "echoes N": the datagrams seen besides the spoofed one.
//   probe-peer flood ADDR PORT N
//       N cycles of TCP connect and close. Prints "cycles N" (the connects that succeeded).
//   probe-peer churn ADDR PORT SECONDS
//       TCP connect and close for SECONDS, each closed with a reset (SO_LINGER 0, so no
//       TIME_WAIT runs out the ports): a flood of connections for the server to accept for as
//       long as it lasts. Prints "cycles N" (the connects that succeeded).
//   probe-peer idle ADDR PORT N SECONDS
//       Opens N TCP connections (non-blocking connects, at most 20 s for all), prints
//       "connected K" and then, for SECONDS, "closed C at MS" whenever the number of them
//       the server has closed (EOF or reset) changes; the time is ms since "connected".
//       Ends with "closed C of K".
//   probe-peer trickle ADDR PORT INTERVAL_MS SECONDS
//       A slow-loris peer: one TCP connection sends one whole request and reads its reply
//       (prints "answered at MS"), then starts a request of the largest size (65,507 bytes)
//       and sends one byte of it every INTERVAL_MS, for SECONDS at most. Prints "closed at MS"
//       when the server closes it (EOF, reset, or a send that fails), or "open at MS" when
//       SECONDS pass first; times are ms since connect returned.
//   probe-peer pipeline ADDR PORT SECONDS
//       A pipelining peer: one TCP connection, with 32 MB socket buffers, on which a writer
//       process sends 64-byte requests back to back, 1,024 per send, while a reader process
//       takes the replies, for SECONDS.
//       Prints "replies N" (whole replies read) and then "requests M" (requests sent).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what) {
  fprintf(stderr, "probe-peer: %s: %s\n", what, strerror(errno));
  exit(1);
}

static struct sockaddr_in address(const char *host, const char *port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
  if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
    fprintf(stderr, "probe-peer: %s: not an IPv4 address\n", host);
    exit(2);
  }
  return a;
}

static void put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

// A probe request: "BPSP", length, run, flags 0, sequence, send time; little-endian.
static void request(uint8_t *m, uint32_t length) {
  memset(m, 0, length);
  memcpy(m, "BPSP", 4);
  put32(m + 4, length);
  put32(m + 8, 0x7e57);
}

static int spoof(char **argv) {
  struct sockaddr_in src = address(argv[0], argv[1]);
  struct sockaddr_in dst = address(argv[2], argv[3]);
  double seconds = atof(argv[4]);
  int watch = socket(AF_INET, SOCK_RAW, IPPROTO_UDP);
  if (watch < 0) die("socket SOCK_RAW (watch)");
  int out = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);  // IPPROTO_RAW implies IP_HDRINCL
  if (out < 0) die("socket SOCK_RAW (send)");
  enum { payload = 64 };
  uint8_t packet[sizeof(struct iphdr) + sizeof(struct udphdr) + payload];
  memset(packet, 0, sizeof packet);
  struct iphdr *ip = (struct iphdr *)packet;
  ip->version = 4;
  ip->ihl = 5;
  ip->ttl = 64;
  ip->protocol = IPPROTO_UDP;
  ip->tot_len = htons(sizeof packet);
  ip->saddr = src.sin_addr.s_addr;
  ip->daddr = dst.sin_addr.s_addr;  // the kernel fills in id and checksum
  struct udphdr *udp = (struct udphdr *)(packet + sizeof *ip);
  udp->source = src.sin_port;
  udp->dest = dst.sin_port;
  udp->len = htons(sizeof *udp + payload);
  udp->check = 0;  // no checksum: allowed for UDP over IPv4
  request(packet + sizeof *ip + sizeof *udp, payload);
  if (sendto(out, packet, sizeof packet, 0, (struct sockaddr *)&dst, sizeof dst) < 0) die("sendto");
  long seen = 0;
  double end = now_ms() + seconds * 1e3;
  uint8_t buffer[70000];
  for (double t; (t = now_ms()) < end;) {
    struct pollfd p = {watch, POLLIN, 0};
    if (poll(&p, 1, (int)(end - t) + 1) <= 0) continue;
    ssize_t n = recv(watch, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n < (ssize_t)(sizeof(struct iphdr) + sizeof(struct udphdr) + 4)) continue;
    struct iphdr *h = (struct iphdr *)buffer;
    struct udphdr *u = (struct udphdr *)(buffer + h->ihl * 4);
    if ((size_t)n < h->ihl * 4 + sizeof *u + 4 || memcmp((uint8_t *)(u + 1), "BPSP", 4) != 0) continue;
    int forward = h->saddr == src.sin_addr.s_addr && u->source == src.sin_port && h->daddr == dst.sin_addr.s_addr &&
                  u->dest == dst.sin_port;
    int back = h->saddr == dst.sin_addr.s_addr && u->source == dst.sin_port && h->daddr == src.sin_addr.s_addr &&
               u->dest == src.sin_port;
    if (forward || back) seen++;
  }
  // The spoofed datagram itself passes the watching socket once.
  printf("echoes %ld\n", seen > 0 ? seen - 1 : 0);
  return 0;
}

static int flood(char **argv) {
  struct sockaddr_in a = address(argv[0], argv[1]);
  long n = atol(argv[2]), ok = 0;
  for (long i = 0; i < n; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) ok++;
    close(fd);
  }
  printf("cycles %ld\n", ok);
  return 0;
}

static int churn(char **argv) {
  struct sockaddr_in a = address(argv[0], argv[1]);
  double end = now_ms() + atof(argv[2]) * 1e3;
  struct linger reset = {1, 0};
  long ok = 0;
  while (now_ms() < end) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) ok++;
    close(fd);
  }
  printf("cycles %ld\n", ok);
  return 0;
}

static int idle(char **argv) {
  struct sockaddr_in a = address(argv[0], argv[1]);
  long n = atol(argv[2]);
  double seconds = atof(argv[3]);
  struct rlimit limit = {(rlim_t)n + 64, (rlim_t)n + 64};
  if (setrlimit(RLIMIT_NOFILE, &limit) < 0) die("setrlimit RLIMIT_NOFILE");
  struct pollfd *fds = calloc((size_t)n, sizeof *fds);
  for (long i = 0; i < n; i++) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) die("socket");
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS) die("connect");
    fds[i] = (struct pollfd){fd, POLLOUT, 0};
  }
  // Wait until every connect finished (or 20 s): writable, or failed.
  long pending = n, connected = 0;
  double end = now_ms() + 20e3;
  while (pending > 0 && now_ms() < end) {
    if (poll(fds, (nfds_t)n, 100) <= 0) continue;
    for (long i = 0; i < n; i++) {
      if (fds[i].events != POLLOUT || fds[i].revents == 0) continue;
      int error = 0;
      socklen_t size = sizeof error;
      getsockopt(fds[i].fd, SOL_SOCKET, SO_ERROR, &error, &size);
      fds[i].events = error == 0 ? POLLIN : 0;
      if (error == 0) connected++;
      pending--;
    }
  }
  for (long i = 0; i < n; i++)
    if (fds[i].events != POLLIN) {
      close(fds[i].fd);
      fds[i].fd = -1;
    }
  printf("connected %ld\n", connected);
  fflush(stdout);
  double start = now_ms();
  end = start + seconds * 1e3;
  long closed = 0;
  char byte;
  for (double t; (t = now_ms()) < end;) {
    if (poll(fds, (nfds_t)n, (int)(end - t) + 1) <= 0) continue;
    long before = closed;
    for (long i = 0; i < n; i++) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t r = recv(fds[i].fd, &byte, 1, MSG_DONTWAIT);
      if (r == 0 || (r < 0 && errno != EAGAIN)) {
        close(fds[i].fd);
        fds[i].fd = -1;
        closed++;
      }
    }
    if (closed != before) {
      printf("closed %ld at %.0f\n", closed, now_ms() - start);
      fflush(stdout);
    }
  }
  printf("closed %ld of %ld\n", closed, connected);
  return 0;
}

static int connected(struct sockaddr_in *a) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  if (connect(fd, (struct sockaddr *)a, sizeof *a) < 0) die("connect");
  return fd;
}

static void timeouts(int fd, int milliseconds) {
  struct timeval tv = {milliseconds / 1000, (milliseconds % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// Whether the server closed the connection: EOF or an error (not a timeout) on a read.
static int server_closed(int fd) {
  char byte;
  ssize_t r = recv(fd, &byte, 1, MSG_DONTWAIT);
  return r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

static int trickle(char **argv) {
  struct sockaddr_in a = address(argv[0], argv[1]);
  int interval = atoi(argv[2]);
  double seconds = atof(argv[3]);
  int fd = connected(&a);
  double start = now_ms();
  timeouts(fd, 2000);
  uint8_t m[64], reply[64];
  request(m, sizeof m);
  if (send(fd, m, sizeof m, MSG_NOSIGNAL) != (ssize_t)sizeof m) die("send");
  size_t got = 0;
  while (got < sizeof reply) {
    ssize_t r = recv(fd, reply + got, sizeof reply - got, 0);
    if (r <= 0) die("recv (the first reply)");
    got += (size_t)r;
  }
  printf("answered at %.0f\n", now_ms() - start);
  fflush(stdout);
  // A request that would take 65,507 bytes, sent a byte at a time: never whole.
  enum { largest = 65507 };
  static uint8_t slow[largest];
  request(slow, largest);
  for (size_t i = 0; now_ms() - start < seconds * 1e3; i++) {
    if (server_closed(fd) || send(fd, slow + (i % largest), 1, MSG_NOSIGNAL) != 1) {
      printf("closed at %.0f\n", now_ms() - start);
      return 0;
    }
    // Wait INTERVAL_MS, or less when the server closes the connection meanwhile.
    struct pollfd p = {fd, POLLIN, 0};
    poll(&p, 1, interval);
  }
  printf("open at %.0f\n", now_ms() - start);
  return 0;
}

static int pipeline(char **argv) {
  struct sockaddr_in a = address(argv[0], argv[1]);
  double seconds = atof(argv[2]);
  int fd = connected(&a);
  timeouts(fd, 100);
  // Room for many MB of requests and replies on this side (root may exceed the sysctl
  // maxima): the server always finds a request waiting and room for its reply, whatever the
  // scheduler does with the writer and the reader.
  int room = 32 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &room, sizeof room) < 0) die("setsockopt SO_SNDBUFFORCE");
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &room, sizeof room) < 0) die("setsockopt SO_RCVBUFFORCE");
  double end = now_ms() + seconds * 1e3;
  fflush(stdout);
  pid_t reader = fork();
  if (reader < 0) die("fork");
  if (reader == 0) {
    static uint8_t buffer[1 << 16];
    long bytes = 0;
    while (now_ms() < end) {
      ssize_t r = recv(fd, buffer, sizeof buffer, 0);
      if (r > 0) bytes += r;
      if (r == 0) break;
    }
    printf("replies %ld\n", bytes / 64);
    fflush(stdout);
    _exit(0);
  }
  enum { batch = 1024 };
  static uint8_t requests[batch * 64];
  for (int i = 0; i < batch; i++) request(requests + i * 64, 64);
  long sent = 0;
  size_t at = 0;  // a send cut short by the timeout goes on where it stopped
  while (now_ms() < end) {
    ssize_t r = send(fd, requests + at, sizeof requests - at, MSG_NOSIGNAL);
    if (r > 0) {
      sent += r;
      at = (at + (size_t)r) % sizeof requests;
    }
    if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) break;
  }
  int status;
  waitpid(reader, &status, 0);
  printf("requests %ld\n", sent / 64);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 7 && strcmp(argv[1], "spoof") == 0) return spoof(argv + 2);
  if (argc == 5 && strcmp(argv[1], "flood") == 0) return flood(argv + 2);
  if (argc == 6 && strcmp(argv[1], "idle") == 0) return idle(argv + 2);
  if (argc == 5 && strcmp(argv[1], "churn") == 0) return churn(argv + 2);
  if (argc == 6 && strcmp(argv[1], "trickle") == 0) return trickle(argv + 2);
  if (argc == 5 && strcmp(argv[1], "pipeline") == 0) return pipeline(argv + 2);
  fprintf(stderr,
          "usage: probe-peer spoof SRC_ADDR SRC_PORT DST_ADDR DST_PORT SECONDS | flood ADDR PORT N |"
          " churn ADDR PORT SECONDS | idle ADDR PORT N SECONDS | trickle ADDR PORT INTERVAL_MS SECONDS | pipeline ADDR PORT SECONDS\n");
  return 2;
}
