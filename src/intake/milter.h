// Milter: the I/O shell around the milter protocol (CONVENTIONS §8): the
// codec (milter_codec.h) and the per-connection state machine
// (milter_session.h) are pure; this file only moves bytes in and out, keeps
// time and counts sessions.
//
// Threads: one loop thread owns the listening socket and an epoll set of
// every connection. When a connection has bytes, the loop hands it to a
// worker of a TaskPool (one worker per connection at a time, EPOLLONESHOT),
// which reads what is there, decodes whole frames, lets the session handle
// each command (end-of-message runs the Processor: engines, rules, the copy)
// and writes the replies; so a slow scan holds one worker, never the loop
// or other sessions. Thousands of idle sessions cost one descriptor each.
//
// Limits, each closing the session with one `event milter-...` log line:
// - a protocol error (a zero-length or oversized packet, an unknown command,
//   a malformed payload, an unsupported protocol version, a command out of
//   order such as end-of-message or body before MAIL): at once;
// - time: no option negotiation within min([milter] timeout, 10 s) of
//   connecting; afterwards no command (or the rest of a packet begun) within
//   [milter] timeout, whether a message is open or the session is idle;
// - [milter] max_connections: a connection beyond it is closed at accept.
//
// Several Milters may run in one process (each owns its socket). Stop()
// ends every session: idle ones at once, one whose command is being handled
// (an end-of-message waiting for its copy) once that command's reply is
// written.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "env/env.h"
#include "intake/milter_socket.h"  // MilterSocketSpec, which Start uses
#include "intake/options.h"
#include "intake/processor.h"
#include "mailvault/status.h"

namespace mailvault::intake {

class Milter {
 public:
  // Opens the socket (so a port in use fails here, not later) and starts
  // serving on a thread of its own. `processor` and `env` must outlive the
  // Milter. `on_exit` is called if serving stops by itself (the listening
  // socket or the poll set fails), so the daemon can shut down.
  static Result<std::unique_ptr<Milter>> Start(const MilterOptions& options, Env& env,
                                               Processor& processor, std::function<void()> on_exit);
  ~Milter();  // Stop()
  Milter(const Milter&) = delete;
  Milter& operator=(const Milter&) = delete;

  // Stops accepting, ends every session (see above), joins the threads.
  void Stop();

  struct Impl;  // milter.cc

 private:
  explicit Milter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mailvault::intake
