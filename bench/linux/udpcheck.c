// A UDP client for the exokernel's network peer (the Linux guest of
// `exo boot --peer linux`), run by the peer's /init. Prints one check line,
//
//     peer: check PASS|FAIL <name>: <detail>
//
// and exits 0 on PASS, 1 on FAIL, 2 on bad arguments.
//
//   udpcheck echo ADDRESS PORT COUNT     COUNT datagrams, each with its own
//       payload, each answered within 2 s by ADDRESS:PORT with the same bytes
//   udpcheck silent ADDRESS PORT         one datagram that nothing answers
//       within 2 s (the port is unclaimed: the frame is dropped)
//   udpcheck send ADDRESS PORT TEXT      one datagram holding TEXT, no
//       check (e.g. telling a server that the peer is done); exits 0 once sent
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define WAIT_MS 2000

static int usage(void) {
  fprintf(stderr,
          "usage: udpcheck echo ADDRESS PORT COUNT | udpcheck silent ADDRESS PORT"
          " | udpcheck send ADDRESS PORT TEXT\n");
  return 2;
}

// Waits up to WAIT_MS for a datagram from `to`; its length, 0 on timeout,
// -1 on error. Datagrams from elsewhere are ignored.
static int await_reply(int fd, const struct sockaddr_in *to, char *buffer, size_t size) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  for (;;) {
    int ready = poll(&p, 1, WAIT_MS);
    if (ready <= 0) return ready;
    struct sockaddr_in from;
    socklen_t length = sizeof from;
    ssize_t n = recvfrom(fd, buffer, size, 0, (struct sockaddr *)&from, &length);
    if (n < 0) return -1;
    if (from.sin_addr.s_addr == to->sin_addr.s_addr && from.sin_port == to->sin_port)
      return (int)n;
  }
}

int main(int argc, char **argv) {
  if (argc < 4) return usage();
  int echo = strcmp(argv[1], "echo") == 0;
  int send = strcmp(argv[1], "send") == 0;
  if (!echo && !send && strcmp(argv[1], "silent") != 0) return usage();
  if ((echo || send) && argc != 5) return usage();
  if (!echo && !send && argc != 4) return usage();
  struct sockaddr_in to = {.sin_family = AF_INET};
  if (inet_pton(AF_INET, argv[2], &to.sin_addr) != 1) return usage();
  int port = atoi(argv[3]);
  if (port <= 0 || port > 65535) return usage();
  to.sin_port = htons((unsigned short)port);
  int count = echo ? atoi(argv[4]) : 1;
  if (send) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    size_t length = strlen(argv[4]);
    if (fd < 0 || sendto(fd, argv[4], length, 0, (struct sockaddr *)&to, sizeof to) != (ssize_t)length) {
      fprintf(stderr, "udpcheck: send: %s\n", strerror(errno));
      return 1;
    }
    return 0;
  }
  if (count <= 0 || count > 1000) return usage();

  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    printf("peer: check FAIL udp-%s: socket: %s\n", argv[1], strerror(errno));
    return 1;
  }
  char name[32];
  snprintf(name, sizeof name, "udp-%s-port-%d", argv[1], port);
  int good = 0;
  for (int i = 0; i < count; i++) {
    char payload[64], reply[2048];
    int length = snprintf(payload, sizeof payload, "exo peer datagram %d of %d", i + 1, count);
    if (sendto(fd, payload, (size_t)length, 0, (struct sockaddr *)&to, sizeof to) != length) {
      printf("peer: check FAIL %s: sendto: %s\n", name, strerror(errno));
      return 1;
    }
    int n = await_reply(fd, &to, reply, sizeof reply);
    if (echo) {
      if (n == length && memcmp(reply, payload, (size_t)length) == 0) good++;
    } else if (n != 0) {
      printf("peer: check FAIL %s: %s\n", name,
             n < 0 ? "receive error (an ICMP error came back?)" : "a reply came back");
      return 1;
    }
  }
  if (!echo) {
    printf("peer: check PASS %s: no reply in %d ms\n", name, WAIT_MS);
    return 0;
  }
  printf("peer: check %s %s: %d of %d datagrams echoed\n", good == count ? "PASS" : "FAIL", name,
         good, count);
  return good == count ? 0 : 1;
}
