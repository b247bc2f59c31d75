// MilterSession: one milter connection's protocol state, as an explicit
// state machine over decoded commands (milter_codec.h). No I/O: the shell
// (milter.cc) feeds it commands and writes back the bytes it returns.
//
//   init --OPTNEG--> negotiated --CONNECT--> connected --HELO--> helo
//   connected|helo --MAIL--> mail --RCPT--> rcpt [--DATA--> data]
//     --HEADER*--> headers --EOH--> eoh --BODY*--> body --EOM--> connected|helo
//
// MACRO is allowed anywhere after OPTNEG; ABORT (SMTP RSET, or a dropped
// client) ends the message and goes back to connected|helo; HELO or MAIL
// while a message is open end that message first (what SMTP does);
// QUIT_NC goes back to negotiated (a new SMTP connection over the same milter
// connection); QUIT ends the session. Any other order (a body or
// end-of-message before MAIL, a second OPTNEG or CONNECT, anything before
// OPTNEG) is a protocol error: the step says close, with the reason.
//
// What it negotiates is what the libmilter shell negotiated before it, so
// Postfix behaves the same: actions add/change headers, replace the body,
// delete recipients; protocol flags HDR_LEADSPC, NOUNKNOWN, NODATA and
// "no reply" for every stage before end-of-message, each only where the MTA
// offered it.
//
// Per message it keeps the envelope, a Spool with the header lines and body
// chunks as they arrive (never the whole message in memory), the Subject
// and release header, and a body digest when a release header is present.
// At end-of-message it asks `decide` (the Processor) and encodes the
// outcome: reject (5xx) / tempfail (4xx) with the reply text, discard, or
// accept with recipients removed, headers added or changed and the body
// replaced, each only if that action was negotiated.
//
// Not thread-safe: one thread at a time per session (the shell hands a
// connection to one worker at a time).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crypto/release.h"
#include "env/env.h"
#include "intake/milter_codec.h"
#include "intake/processor.h"
#include "intake/spool.h"
#include "mailvault/status.h"

namespace mailvault::intake {

// The end-of-message decision: Processor::Process in mailvaultd.
using DecideFn = std::function<Outcome(const Received&)>;

class MilterSession {
 public:
  enum class State {
    kInit,
    kNegotiated,
    kConnected,
    kHelo,
    kMail,
    kRcpt,
    kData,
    kHeaders,
    kEoh,
    kBody,
    kClosed
  };

  // What one command produced: bytes to send (possibly none), and whether
  // the connection must now be closed; `error` says why when that is a
  // protocol error (not OK), to be logged once by the caller. Message bytes
  // in `error` are already escaped (DisplayText).
  struct Step {
    std::string reply;
    bool close = false;
    Status error;
  };

  // `env` (clock, temp files) must outlive the session; `spool_dir` must
  // exist before a message larger than the spool's memory part arrives.
  MilterSession(Env& env, std::string spool_dir, DecideFn decide);
  MilterSession(const MilterSession&) = delete;
  MilterSession& operator=(const MilterSession&) = delete;

  Step Handle(const milter::Command& command);

  State state() const { return state_; }
  // A message is between MAIL and end-of-message (or abort).
  bool message_open() const { return state_ >= State::kMail && state_ <= State::kBody; }
  // The value of macro `name` ("i" and "{i}" are the same), the most
  // recent stage's first; nullopt if the MTA did not send it.
  std::optional<std::string> Macro(std::string_view name) const;

 private:
  Step OnOptneg(const milter::Command& c);
  Step OnConnect(const milter::Command& c);
  Step OnHeader(const milter::Command& c);
  Step OnEom();
  std::string Continue(uint32_t no_reply_flag) const;
  std::string ApplyOutcome(const Received& r, const Outcome& o,
                           const std::vector<std::string>& rcpt_arg) const;
  std::string WithSpace(const std::string& v) const;
  void Append(std::string_view data);
  void ResetMessage();
  State ConnectionState() const { return helo_seen_ ? State::kHelo : State::kConnected; }

  Env& env_;
  DecideFn decide_;
  State state_ = State::kInit;
  // Negotiated.
  uint32_t actions_ = 0, protocol_ = 0;
  // Connection.
  std::string client_ip_, client_hostname_, helo_;
  bool helo_seen_ = false;
  // Macros by the command they were sent for; message-stage ones are
  // dropped with the message.
  std::map<char, std::vector<std::pair<std::string, std::string>>> macros_;
  // Message.
  std::string mail_from_;
  std::vector<std::string> rcpt_, rcpt_arg_;  // without <>; as the MTA gave them
  Spool spool_;
  bool headers_done_ = false;
  std::optional<std::string> subject_, release_;
  std::unique_ptr<crypto::BodyDigest> digest_;
  int64_t received_at_ = 0;
};

}  // namespace mailvault::intake
