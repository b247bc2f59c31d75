// A scripted SMTP relay for tests (see scripted_relay.h).
#include "testutil/scripted_relay.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

namespace mailvault::testutil {

ScriptedRelay::ScriptedRelay(Script script) : script_(std::move(script)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(listen_fd_, 16) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    port_ = 0;
    return;
  }
  port_ = ntohs(addr.sin_port);
  accepter_ = std::thread([this] { AcceptLoop(); });
}

ScriptedRelay::~ScriptedRelay() {
  stop_ = true;
  if (accepter_.joinable()) accepter_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

int ScriptedRelay::connections() {
  std::lock_guard lock(mu_);
  return connections_;
}

std::vector<std::string> ScriptedRelay::commands() {
  std::lock_guard lock(mu_);
  return commands_;
}

std::vector<std::string> ScriptedRelay::messages() {
  std::lock_guard lock(mu_);
  return messages_;
}

int ScriptedRelay::Count(std::string_view verb) {
  auto c = commands();
  return static_cast<int>(
      std::count_if(c.begin(), c.end(), [&](const std::string& s) { return s.starts_with(verb); }));
}

// Waits for `fd` to be readable, giving up when the relay stops.
bool ScriptedRelay::WaitReadable(int fd) {
  while (!stop_) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 20) > 0) return true;
  }
  return false;
}

void ScriptedRelay::AcceptLoop() {
  while (WaitReadable(listen_fd_)) {
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    std::lock_guard lock(mu_);
    ++connections_;
    threads_.emplace_back([this, fd] {
      Serve(fd);
      ::close(fd);
    });
  }
}

// The next line with its LF, or nullopt when the peer closed or the relay
// stops.
std::optional<std::string> ScriptedRelay::ReadLine(int fd, std::string& buf) {
  while (true) {
    size_t lf = buf.find('\n');
    if (lf != std::string::npos) {
      std::string line = buf.substr(0, lf + 1);
      buf.erase(0, lf + 1);
      return line;
    }
    if (!WaitReadable(fd)) return std::nullopt;
    char chunk[4096];
    ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n <= 0) return std::nullopt;
    buf.append(chunk, static_cast<size_t>(n));
  }
}

void ScriptedRelay::Write(int fd, const std::string& reply) {
  std::string s = reply + "\r\n";
  (void)!::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
}

std::string ScriptedRelay::Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

void ScriptedRelay::Serve(int fd) {
  std::string buf;
  if (script_.silent) {
    while (ReadLine(fd, buf)) {
    }
    return;
  }
  Write(fd, script_.greeting);
  if (!script_.greeting.starts_with("220")) return;
  bool in_auth = false;
  while (auto raw = ReadLine(fd, buf)) {
    std::string line = raw->substr(0, raw->find_last_not_of("\r\n") + 1);
    {
      std::lock_guard lock(mu_);
      commands_.push_back(line);
    }
    std::string verb = Upper(line.substr(0, line.find(' ')));
    if (in_auth) {  // the PLAIN response: "\0user\0secret" in base64
      in_auth = false;
      Write(fd, line == "AHVzZXIAc2VjcmV0" ? "235 2.7.0 Authentication successful"
                                           : "535 5.7.8 Authentication failed");
    } else if (verb == "EHLO") {
      Write(fd, "250-relay.test");
      if (script_.size_limit) Write(fd, "250-SIZE " + std::to_string(script_.size_limit));
      if (script_.auth) Write(fd, "250-AUTH PLAIN");
      if (script_.starttls) Write(fd, "250-STARTTLS");
      Write(fd, "250 8BITMIME");
    } else if (verb == "AUTH") {
      in_auth = true;
      Write(fd, "334 ");
    } else if (verb == "MAIL") {
      int n = ++mails_;
      if (n == script_.drop_at_mail) return;
      size_t at = Upper(line).find(" SIZE=");
      size_t size = at == std::string::npos ? 0 : std::stoul(line.substr(at + 6));
      if (script_.size_limit && size > script_.size_limit) {
        Write(fd, "552 5.3.4 Message size exceeds fixed limit");
      } else {
        Write(fd, "250 2.1.0 Ok");
      }
    } else if (verb == "RCPT") {
      size_t open = line.find('<'), close = line.find('>');
      std::string addr = line.substr(open + 1, close - open - 1);
      auto it = script_.rcpt_replies.find(addr);
      Write(fd, it == script_.rcpt_replies.end() ? "250 2.1.5 Ok" : it->second);
    } else if (verb == "STARTTLS") {
      Write(fd, "454 4.7.0 TLS not available due to local problem");
    } else if (verb == "DATA") {
      Write(fd, script_.data_command_reply);
      if (!script_.data_command_reply.starts_with("354")) continue;
      std::string message;
      while (true) {
        auto data = ReadLine(fd, buf);
        if (!data) return;
        if (*data == ".\r\n") break;
        message += data->starts_with(".") ? data->substr(1) : *data;
      }
      {
        std::lock_guard lock(mu_);
        messages_.push_back(message);
      }
      if (script_.data_reply.empty()) {  // hang until the client goes
        while (ReadLine(fd, buf)) {
        }
        return;
      }
      Write(fd, script_.data_reply);
    } else if (verb == "QUIT") {
      if (script_.hang_at_quit) {
        while (ReadLine(fd, buf)) {
        }
        return;
      }
      Write(fd, "221 2.0.0 Bye");
      return;
    } else if (verb == "RSET" || verb == "NOOP" || verb == "HELO") {
      Write(fd, "250 Ok");
    } else {
      Write(fd, "502 5.5.2 Error: command not recognized");
    }
  }
}

}  // namespace mailvault::testutil
