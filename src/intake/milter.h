// Milter: the libmilter shell around the Processor (CONVENTIONS §8: the
// protocol is libmilter's; this file only moves data in and out).
//
// Per connection it keeps the client's address and HELO; per message the
// envelope, a Spool holding header lines and body chunks as they arrive
// (never the whole message in memory), and a body digest when a release
// header is present. At end-of-message it asks the Processor and applies
// the outcome: reject (5xx), tempfail (4xx), discard, or accept with
// recipients removed, headers added or changed and the body replaced.
// Abort, RSET and a dropped connection reset the message state; the spool
// is anonymous, so nothing is ever left behind.
//
// libmilter keeps process-wide state: at most one Milter runs per process.
// It polls (poll(), not select(), in Debian's build) with a pool of worker
// threads, so thousands of connections cost one descriptor each plus one
// for a message larger than the spool's memory part.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

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
  // Milter. `on_exit` is called if libmilter stops by itself (it also
  // listens for SIGTERM/SIGHUP/SIGINT), so the daemon can shut down.
  static Result<std::unique_ptr<Milter>> Start(const MilterOptions& options, Env& env,
                                               Processor& processor, std::function<void()> on_exit);
  ~Milter();  // Stop()
  Milter(const Milter&) = delete;
  Milter& operator=(const Milter&) = delete;

  // Stops accepting, lets libmilter end its sessions, joins the thread.
  void Stop();

  // Used by the libmilter callbacks (milter.cc).
  Env& env() { return env_; }
  Processor& processor() { return processor_; }
  const MilterOptions& options() const { return options_; }

 private:
  Milter(const MilterOptions& options, Env& env, Processor& processor,
         std::function<void()> on_exit)
      : options_(options), env_(env), processor_(processor), on_exit_(std::move(on_exit)) {}

  const MilterOptions options_;
  Env& env_;
  Processor& processor_;
  std::function<void()> on_exit_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
};

}  // namespace mailvault::intake
