// ScriptedRelay: a line-based SMTP relay on 127.0.0.1 (port 0) for tests of
// the code that talks SMTP (delivery's client and sender): one thread per
// connection, answering as its Script says and recording the commands and
// the messages (unstuffed) it receives. port() is 0 if it could not listen.
// Thread-safe; the destructor stops it and joins every thread.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace mailvault::testutil {

// What the scripted relay answers.
struct Script {
  size_t size_limit = 0;  // advertised in EHLO and enforced at MAIL; 0: no SIZE
  bool auth = false;      // advertise AUTH PLAIN; accept password "secret"
  std::map<std::string, std::string> rcpt_replies;  // address -> reply; default 250
  std::string greeting = "220 relay.test ESMTP scripted";
  bool starttls = false;  // advertise STARTTLS (and refuse it: no TLS here)
  std::string data_command_reply = "354 End data with <CR><LF>.<CR><LF>";
  std::string data_reply = "250 2.0.0 Ok: queued as 1A2B";  // "": never answer
  int drop_at_mail = 0;       // close without answering the Nth MAIL (from 1, over all connections)
  bool silent = false;        // accept connections and never say anything
  bool hang_at_quit = false;  // never answer QUIT
};

class ScriptedRelay {
 public:
  explicit ScriptedRelay(Script script);
  ~ScriptedRelay();
  ScriptedRelay(const ScriptedRelay&) = delete;
  ScriptedRelay& operator=(const ScriptedRelay&) = delete;

  int port() const { return port_; }
  int connections();
  std::vector<std::string> commands();
  std::vector<std::string> messages();
  // How many commands began with `verb`.
  int Count(std::string_view verb);

 private:
  bool WaitReadable(int fd);
  void AcceptLoop();
  std::optional<std::string> ReadLine(int fd, std::string& buf);
  static void Write(int fd, const std::string& reply);
  static std::string Upper(std::string s);
  void Serve(int fd);

  const Script script_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> mails_{0};
  std::thread accepter_;
  std::mutex mu_;
  std::vector<std::thread> threads_;   // GUARDED_BY(mu_)
  int connections_ = 0;                // GUARDED_BY(mu_)
  std::vector<std::string> commands_;  // GUARDED_BY(mu_)
  std::vector<std::string> messages_;  // GUARDED_BY(mu_)
};

}  // namespace mailvault::testutil
