// SmtpClient: one SMTP transaction (MAIL, RCPT for each recipient, DATA) to
// the configured relay through libcurl's SMTP client, with the relay's reply
// to every recipient, so that a relay that refuses some recipients yields
// per-recipient results.
//
// libcurl speaks SMTP (EHLO, STARTTLS, AUTH, SIZE, dot-stuffing); what it
// does not hand back is each reply's text, so the client records the
// conversation through libcurl's debug callback and smtp_transcript.h
// pairs each command with its reply.
//
// Threads: one SmtpClient per thread; it keeps its connection to the relay
// open between transactions (libcurl's connection reuse: no new greeting,
// EHLO, TLS or AUTH) and the relay closes it when idle. When a reused
// connection turns out to be closed before the relay answered anything,
// Send tries once more on a new connection (nothing can have been
// delivered). Destroying the client sends QUIT on an open connection.
// Cancel may be called from any other thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mailvault/status.h"

namespace mailvault::delivery {

enum class TlsMode {
  kNone,      // plain SMTP
  kStartTls,  // STARTTLS required: fail if the relay does not offer it
  kTry,       // STARTTLS when offered
  kImplicit,  // SMTPS (TLS from the first byte, port 465)
};

struct RelayOptions {
  std::string host = "127.0.0.1";
  int port = 25;
  TlsMode tls = TlsMode::kNone;
  bool tls_verify = true;  // check the relay's certificate and name
  std::string ca_file;     // empty: the system's CAs
  std::string username;    // AUTH when non-empty
  std::string password;
  std::string helo;  // EHLO name or address literal; empty: libcurl's (gethostname)
  int64_t connect_timeout_micros = 30'000'000;
  // The whole transaction, and so also the longest wait for one reply (the
  // one after a large message) and for the relay's answer to QUIT.
  int64_t timeout_micros = 300'000'000;
};

// One reply: code 0 when the command was never answered (not sent, or the
// connection broke first). `text` is the reply as the relay wrote it, codes
// included ("550 5.1.1 <bob@example.com>: unknown"), lines of a multi-line
// reply joined with " / ", without CRLF, bytes outside printable ASCII
// replaced by '?', at most 64 KiB.
struct SmtpReply {
  int code = 0;
  std::string text;
  bool positive() const { return code >= 200 && code < 400; }
  bool temporary() const { return code >= 400 && code < 500; }
  bool permanent() const { return code >= 500; }
};

// Addresses must not contain control characters (they would end the SMTP
// command early); Send refuses such an envelope with InvalidArgument.
struct SmtpEnvelope {
  std::string mail_from;          // addr-spec; "" for the null sender (MAIL FROM:<>)
  std::vector<std::string> rcpt;  // addr-specs, 1 to 900 (one transaction)
};

struct SmtpResult {
  // OK when the replies below decide every recipient: the message was
  // answered, MAIL FROM was refused, or every RCPT was refused. Otherwise
  // Unavailable with libcurl's reason ("smtp relay 127.0.0.1:25: Failed to
  // connect to ..."): connection refused, timeout, TLS failure, connection
  // lost, and also a relay that refused the session before MAIL FROM
  // (greeting, EHLO, STARTTLS, AUTH), whose reply is quoted in the message,
  // since that says nothing about this message. InvalidArgument for an
  // envelope Send refuses. The replies still show how far it got.
  Status transport;
  SmtpReply mail_from;          // the reply to MAIL FROM
  std::vector<SmtpReply> rcpt;  // one per envelope recipient, same order
  // The reply after the message (end of DATA), or DATA's own reply when that
  // was not 354 (no message sent).
  SmtpReply data;
  // Convenience: the reply that decides recipient i (its RCPT reply if that
  // failed or the message reply otherwise; MAIL FROM's if that failed).
  SmtpReply ForRecipient(size_t i) const;
};

class SmtpClient {
 public:
  virtual ~SmtpClient() = default;
  // Sends `message` to the envelope; the message reaches recipients whose
  // RCPT was accepted even when others were refused. Never throws; every
  // outcome is in the result.
  //
  // `message` must have CRLF line endings: libcurl dot-stuffs lines after
  // CRLF only (a "." after a bare LF goes out as is) and adds the final
  // ".\r\n". A message ending in CRLF arrives byte for byte; one that does
  // not arrives with CRLF appended.
  virtual SmtpResult Send(const SmtpEnvelope& envelope, std::string_view message) = 0;

  // For shutdown, from any thread: the Send in progress ends promptly, and
  // every later Send at once, without contacting the relay. A cancelled Send
  // reports transport Unavailable ("... cancelled ...") unless the replies
  // already decided the transaction. Idempotent; cannot be undone.
  virtual void Cancel() = 0;
};

// The rules for RelayOptions: a host libcurl can put in a URL (name, IPv4,
// IPv6 with or without brackets), port 1-65535, an EHLO name without blanks
// or control characters, positive timeouts, no control characters in the
// credentials or the CA file. InvalidArgument naming the [delivery] key.
// MakeCurlSmtpClient applies it, and so does `mailvault config check`.
Status CheckRelayOptions(const RelayOptions& options);

// The libcurl client; nothing is connected until the first Send.
// InvalidArgument as CheckRelayOptions says, or for options libcurl cannot
// take.
Result<std::unique_ptr<SmtpClient>> MakeCurlSmtpClient(const RelayOptions& options);

}  // namespace mailvault::delivery
