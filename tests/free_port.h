#pragma once
// A loopback port nothing listens on now, spread by pid so parallel test processes rarely pick the
// same one.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>

namespace vecrl::tests {

inline int free_port() {
  static std::atomic<int> offset{0};
  for (;;) {
    const int port = 20000 + static_cast<int>((getpid() * 37L + (offset++) * 1009L) % 40000);
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    close(fd);
    if (ok) return port;
  }
}

}  // namespace vecrl::tests
