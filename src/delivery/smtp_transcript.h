// SmtpTranscript: a pure codec that pairs the SMTP commands libcurl sends
// with the replies the relay returns, fed from libcurl's debug callback
// (CURLINFO_HEADER_OUT for commands, CURLINFO_HEADER_IN for reply lines,
// in arbitrary pieces), and keeps the replies that decide a transaction.
//
// libcurl never pipelines SMTP: each command waits for its reply, so the
// pairing is by order. A reply received while no command waits (the
// greeting, an unsolicited 421) only becomes last(); a transcript may start
// on a reused connection, where the first thing seen is a command.
//
// Reply lines are split at LF. A line ends its reply exactly when libcurl's
// SMTP reader says so: three digits then a space, or a 5-byte line such as
// "250\r\n". Anything else ("NNN-text", a line without a code) continues
// the reply, because libcurl keeps waiting too; ending the reply there would
// pair the relay's real answer with the next command. The reply's code is
// its last line's.
//
// Commands are recognised by their verb, case-insensitively. A line sent
// while the previous reply was 334 is an AUTH continuation, whatever it
// says (base64 can spell "QUIT"). Each MAIL starts a new transaction and
// clears the RCPT and message replies, so on a reused connection only the
// last transaction counts. A DATA refused with anything but 354 decides the
// message, so data() holds that reply; after 354 the next reply answers the
// message.
//
// Reply text keeps the lines as the relay wrote them (code included),
// joined with " / ", without line ends; bytes outside printable ASCII
// become '?', since the text ends up in logs and bounces.
//
// Limits: at most 64 KiB of text per reply and 1,000 commands per
// transcript are kept; input beyond is ignored (hostile relays cannot grow
// memory), so later replies only reach last().
//
// Not thread-safe; one per transaction.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "delivery/smtp_client.h"

namespace mailvault::delivery {

class SmtpTranscript {
 public:
  // A piece of what the client wrote (commands, CRLF terminated; message
  // data is not fed here).
  void Sent(std::string_view bytes);
  // A piece of what the relay answered.
  void Received(std::string_view bytes);

  // The replies to the last MAIL FROM of the transaction, to each RCPT TO
  // after it (in order) and to the message.
  const SmtpReply& mail_from() const { return mail_from_; }
  const std::vector<SmtpReply>& rcpt() const { return rcpt_; }
  const SmtpReply& data() const { return data_; }
  // The last complete reply of any kind (greeting, EHLO, STARTTLS, AUTH...),
  // for error messages when the transaction failed before MAIL FROM.
  const SmtpReply& last() const { return last_; }

  static constexpr size_t kMaxReplyText = 64 * 1024;
  static constexpr size_t kMaxCommands = 1000;

 private:
  enum class Verb { kEhlo, kHelo, kStartTls, kAuth, kMail, kRcpt, kData, kMessage, kOther };
  struct Waiting {
    Verb verb;
    size_t transaction;     // the MAIL it belongs to; a reply to an older one is dropped
    size_t rcpt_index = 0;  // kRcpt: where its reply goes in rcpt_
  };

  void OnCommand();
  void OnReplyLine();
  void OnReply(SmtpReply reply);

  // The command line being received: its first bytes (enough for the verb).
  std::string out_line_;
  size_t commands_ = 0;
  // The reply line being received (at most kMaxReplyText bytes kept) and its
  // full length, which decides whether it ends the reply.
  std::string in_line_;
  size_t in_line_size_ = 0;
  std::string reply_text_;  // the lines of the reply so far
  bool reply_started_ = false;

  std::deque<Waiting> waiting_;  // commands sent and not answered yet, oldest first
  int last_code_ = 0;            // of the last complete reply, for AUTH continuations
  size_t transaction_ = 0;       // MAIL commands seen
  SmtpReply mail_from_;
  std::vector<SmtpReply> rcpt_;
  SmtpReply data_;
  SmtpReply last_;
};

}  // namespace mailvault::delivery
