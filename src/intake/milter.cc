// The libmilter callbacks. libmilter calls them from its worker threads, one
// session at a time per connection; per-connection state hangs off the
// SMFICTX (smfi_setpriv).
#include "intake/milter.h"

#include <arpa/inet.h>
#include <libmilter/mfapi.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <chrono>
#include <cstring>
#include <mutex>

#include "base/display_text.h"
#include "crypto/release.h"
#include "intake/spool.h"

namespace mailvault::intake {
namespace {

Milter* g_milter = nullptr;  // libmilter has no user pointer in smfiDesc
std::mutex g_milter_mu;
// Sessions with a Connection (from option negotiation to close), for
// max_connections.
std::atomic<int> g_sessions{0};
// The private pointer of a session refused for max_connections: not a
// Connection, only tells OnClose that the refusal is already logged.
char g_refused_marker;

struct Connection {
  explicit Connection(Env& env, const std::string& spool_dir) : spool(env, spool_dir) {}
  // Connection
  std::string client_ip, client_hostname, helo;
  bool leading_space = false;  // SMFIP_HDR_LEADSPC negotiated
  unsigned long no_reply = 0;  // SMFIP_NR_* negotiated: stages answered by silence
  // Message
  std::string mail_from;
  std::vector<std::string> rcpt;      // without <>
  std::vector<std::string> rcpt_arg;  // as the MTA gave them, for smfi_delrcpt
  Spool spool;
  bool headers_done = false;
  std::optional<std::string> subject, release;
  std::unique_ptr<crypto::BodyDigest> digest;
  int64_t received_at = 0;

  void ResetMessage() {
    mail_from.clear();
    rcpt.clear();
    rcpt_arg.clear();
    spool.Reset();
    headers_done = false;
    subject.reset();
    release.reset();
    digest.reset();
    received_at = 0;
  }
};

Connection* Conn(SMFICTX* ctx) {
  void* p = smfi_getpriv(ctx);
  return p == &g_refused_marker ? nullptr : static_cast<Connection*>(p);
}

// The session's Connection, made on its first callback and counted.
Connection* Attach(SMFICTX* ctx) {
  Connection* c = Conn(ctx);
  if (c == nullptr) {
    c = new Connection(g_milter->env(), g_milter->options().spool_dir);
    g_sessions.fetch_add(1);
    smfi_setpriv(ctx, c);
  }
  return c;
}

// Everything before end-of-message only collects: where the MTA agreed,
// those stages get no reply at all, which saves Postfix a round trip per
// header line and body chunk.
constexpr unsigned long kNoReply = SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT |
                                   SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY;

sfsistat Continue(const Connection* c, unsigned long stage) {
  return c != nullptr && (c->no_reply & stage) != 0 ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

std::string StripBrackets(const char* arg) {
  std::string_view s = arg ? arg : "";
  if (s.size() >= 2 && s.front() == '<' && s.back() == '>') s = s.substr(1, s.size() - 2);
  return std::string(s);
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

void Append(Connection* c, std::string_view data) {
  bool was_on_disk = c->spool.disk_error().ok();
  c->spool.Append(data).IgnoreError();  // falls back to memory by itself
  if (was_on_disk && !c->spool.disk_error().ok()) {
    spdlog::warn("event spool-unavailable: message from <{}> kept in memory: {}",
                 DisplayText(c->mail_from), c->spool.disk_error().ToString());
  }
}

sfsistat OnNegotiate(SMFICTX* ctx, unsigned long f0, unsigned long f1, unsigned long, unsigned long,
                     unsigned long* pf0, unsigned long* pf1, unsigned long* pf2,
                     unsigned long* pf3) {
  const unsigned long want = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_DELRCPT;
  *pf0 = f0 & want;
  *pf1 = f1 & (SMFIP_HDR_LEADSPC | kNoReply | SMFIP_NOUNKNOWN | SMFIP_NODATA);
  *pf2 = 0;
  *pf3 = 0;
  // libmilter accepts connections without limit; this is the first
  // callback of a session, so the cap is applied here. Anything but
  // CONTINUE makes libmilter close the session.
  const int limit = g_milter->options().max_connections;
  if (Conn(ctx) == nullptr && g_sessions.load() >= limit) {
    spdlog::warn("event milter-session-refused: {} milter sessions open ([milter] max_connections)",
                 g_sessions.load());
    smfi_setpriv(ctx, &g_refused_marker);
    return SMFIS_REJECT;
  }
  Connection* c = Attach(ctx);
  c->leading_space = (*pf1 & SMFIP_HDR_LEADSPC) != 0;
  c->no_reply = *pf1 & kNoReply;
  return SMFIS_CONTINUE;
}

sfsistat OnConnect(SMFICTX* ctx, char* hostname, _SOCK_ADDR* addr) {
  if (smfi_getpriv(ctx) == &g_refused_marker) return SMFIS_TEMPFAIL;
  Connection* c = Attach(ctx);
  c->client_hostname = hostname ? hostname : "";
  char buf[INET6_ADDRSTRLEN] = "";
  if (addr != nullptr && addr->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(addr)->sin_addr, buf, sizeof(buf));
  } else if (addr != nullptr && addr->sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(addr)->sin6_addr, buf, sizeof(buf));
  }
  c->client_ip = buf;
  return Continue(c, SMFIP_NR_CONN);
}

sfsistat OnHelo(SMFICTX* ctx, char* helo) {
  Connection* c = Conn(ctx);
  if (c != nullptr) c->helo = helo ? helo : "";
  return Continue(c, SMFIP_NR_HELO);
}

sfsistat OnEnvFrom(SMFICTX* ctx, char** argv) {
  Connection* c = Conn(ctx);
  if (c == nullptr) return SMFIS_TEMPFAIL;
  c->ResetMessage();
  c->received_at = g_milter->env().NowMicros();
  c->mail_from = StripBrackets(argv ? argv[0] : nullptr);
  return Continue(c, SMFIP_NR_MAIL);
}

sfsistat OnEnvRcpt(SMFICTX* ctx, char** argv) {
  Connection* c = Conn(ctx);
  if (c == nullptr || argv == nullptr || argv[0] == nullptr) return Continue(c, SMFIP_NR_RCPT);
  c->rcpt.push_back(StripBrackets(argv[0]));
  c->rcpt_arg.push_back(argv[0]);
  return Continue(c, SMFIP_NR_RCPT);
}

sfsistat OnHeader(SMFICTX* ctx, char* name, char* value) {
  Connection* c = Conn(ctx);
  if (c == nullptr) return SMFIS_TEMPFAIL;
  std::string_view n = name ? name : "", v = value ? value : "";
  // Rebuild the header line as received: the MTA hands over folded values
  // with bare LFs; the message on the wire had CRLF.
  std::string line(n);
  line += ':';
  if (!c->leading_space && !v.empty()) line += ' ';
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\n' && (i == 0 || v[i - 1] != '\r')) line += '\r';
    line += v[i];
  }
  line += "\r\n";
  Append(c, line);
  if (EqualsNoCase(n, "Subject") && !c->subject) c->subject = std::string(v);
  if (EqualsNoCase(n, crypto::kReleaseHeader) && !c->release) c->release = std::string(v);
  return Continue(c, SMFIP_NR_HDR);
}

sfsistat OnEoh(SMFICTX* ctx) {
  Connection* c = Conn(ctx);
  if (c == nullptr) return SMFIS_TEMPFAIL;
  Append(c, "\r\n");
  c->headers_done = true;
  if (c->release) c->digest = std::make_unique<crypto::BodyDigest>();
  return Continue(c, SMFIP_NR_EOH);
}

sfsistat OnBody(SMFICTX* ctx, unsigned char* chunk, size_t len) {
  Connection* c = Conn(ctx);
  if (c == nullptr) return SMFIS_TEMPFAIL;
  std::string_view data(reinterpret_cast<const char*>(chunk), len);
  Append(c, data);
  if (c->digest) c->digest->Update(data);
  return Continue(c, SMFIP_NR_BODY);
}

std::string WithSpace(const Connection& c, const std::string& v) {
  return c.leading_space ? " " + v : v;
}

// Tells libmilter what to do with the message: the reply, or the changes
// to it (recipients removed, headers, subject, body).
sfsistat ApplyOutcome(SMFICTX* ctx, const Connection& conn, const Received& r, const Outcome& o,
                      const std::vector<std::string>& rcpt_arg) {
  switch (o.kind) {
    case Outcome::Kind::kReject:
    case Outcome::Kind::kTempfail:
      smfi_setreply(ctx, const_cast<char*>(o.rcode.c_str()), const_cast<char*>(o.xcode.c_str()),
                    const_cast<char*>(o.text.empty() ? "rejected" : o.text.c_str()));
      return o.kind == Outcome::Kind::kReject ? SMFIS_REJECT : SMFIS_TEMPFAIL;
    case Outcome::Kind::kDiscard:
      return SMFIS_DISCARD;
    case Outcome::Kind::kAccept:
      break;
  }
  for (const std::string& gone : o.delete_rcpt) {
    for (size_t i = 0; i < r.envelope.rcpt.size(); ++i) {
      if (r.envelope.rcpt[i] == gone) {
        smfi_delrcpt(ctx, const_cast<char*>(rcpt_arg[i].c_str()));
        break;
      }
    }
  }
  for (const auto& [name, value] : o.header_changes) {
    std::string v = WithSpace(conn, value);
    // An empty value deletes the header (parts.h).
    smfi_chgheader(ctx, const_cast<char*>(name.c_str()), 1, value.empty() ? nullptr : v.data());
  }
  if (o.new_subject) {
    std::string v = WithSpace(conn, *o.new_subject);
    if (r.subject) {
      smfi_chgheader(ctx, const_cast<char*>("Subject"), 1, v.data());
    } else {
      smfi_addheader(ctx, const_cast<char*>("Subject"), v.data());
    }
  }
  for (const auto& [name, value] : o.add_headers) {
    smfi_addheader(ctx, const_cast<char*>(name.c_str()),
                   const_cast<char*>(WithSpace(conn, value).c_str()));
  }
  if (o.new_body) {
    std::string_view body = *o.new_body;
    for (size_t off = 0; off < body.size(); off += 65535) {
      std::string_view piece = body.substr(off, 65535);
      smfi_replacebody(ctx, reinterpret_cast<unsigned char*>(const_cast<char*>(piece.data())),
                       static_cast<int>(piece.size()));
    }
    if (body.empty())
      smfi_replacebody(ctx, reinterpret_cast<unsigned char*>(const_cast<char*>("")), 0);
  }
  return SMFIS_CONTINUE;
}

sfsistat OnEom(SMFICTX* ctx) {
  Connection* c = Conn(ctx);
  if (c == nullptr) return SMFIS_TEMPFAIL;
  const auto t0 = std::chrono::steady_clock::now();
  if (!c->headers_done) Append(c, "\r\n");
  Received r;
  r.envelope.client_ip = c->client_ip;
  r.envelope.client_hostname = c->client_hostname;
  r.envelope.helo = c->helo;
  r.envelope.mail_from = c->mail_from;
  r.envelope.rcpt = c->rcpt;
  const char* qid = smfi_getsymval(ctx, const_cast<char*>("i"));
  r.envelope.queue_id = qid ? qid : "";
  r.subject = c->subject;
  r.release_header = c->release;
  if (c->digest) r.body_digest = c->digest->Finish();
  r.received_at = c->received_at;
  r.raw = &c->spool;

  Outcome o = g_milter->processor().Process(r);
  const size_t nrcpt = c->rcpt.size();
  const uint64_t size = c->spool.size();
  const std::vector<std::string> rcpt_arg = std::move(c->rcpt_arg);
  c->ResetMessage();
  const sfsistat rc = ApplyOutcome(ctx, *c, r, o, rcpt_arg);
  // ms: what mailvault adds at end-of-message (decision, copy, replies).
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  // Envelope bytes are whatever the client sent: escaped, so a log line
  // stays one line of text (CR/LF, controls, bytes that are not UTF-8).
  spdlog::info("milter {}: from=<{}> nrcpt={} size={}: {} ms={:.2f}",
               DisplayText(r.envelope.queue_id), DisplayText(r.envelope.mail_from), nrcpt, size,
               DisplayText(o.summary), ms);
  return rc;
}

sfsistat OnAbort(SMFICTX* ctx) {
  if (Connection* c = Conn(ctx)) c->ResetMessage();
  return SMFIS_CONTINUE;
}

sfsistat OnClose(SMFICTX* ctx) {
  void* p = smfi_getpriv(ctx);
  if (p == nullptr) {
    // libmilter ends a session before negotiation on a protocol error it
    // detects (an option-negotiation packet too short or of a protocol
    // version below 2, a packet with no valid command, a packet larger than
    // its limit) and on a bare connect and close; its own reason goes to
    // syslog only.
    spdlog::warn(
        "event milter-protocol-error: session closed before option negotiation (protocol "
        "error, unsupported protocol version, or a connect without a word)");
  } else if (Connection* c = Conn(ctx)) {
    delete c;
    g_sessions.fetch_sub(1);
  }
  smfi_setpriv(ctx, nullptr);
  return SMFIS_CONTINUE;
}

}  // namespace

Result<std::unique_ptr<Milter>> Milter::Start(const MilterOptions& options, Env& env,
                                              Processor& processor, std::function<void()> on_exit) {
  std::lock_guard<std::mutex> lock(g_milter_mu);
  if (g_milter != nullptr) return Status::Unavailable("a milter is already running");
  MV_ASSIGN_OR_RETURN(std::string spec, MilterSocketSpec(options.socket));
  if (options.spool_dir.empty()) return Status::InvalidArgument("milter spool dir not set");
  MV_RETURN_IF_ERROR(env.CreateDir(options.spool_dir));

  static smfiDesc desc;
  std::memset(&desc, 0, sizeof(desc));
  desc.xxfi_name = const_cast<char*>("mailvault");
  desc.xxfi_version = SMFI_VERSION;
  desc.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_DELRCPT;
  desc.xxfi_connect = OnConnect;
  desc.xxfi_helo = OnHelo;
  desc.xxfi_envfrom = OnEnvFrom;
  desc.xxfi_envrcpt = OnEnvRcpt;
  desc.xxfi_header = OnHeader;
  desc.xxfi_eoh = OnEoh;
  desc.xxfi_body = OnBody;
  desc.xxfi_eom = OnEom;
  desc.xxfi_abort = OnAbort;
  desc.xxfi_close = OnClose;
  desc.xxfi_negotiate = OnNegotiate;

  std::unique_ptr<Milter> m(new Milter(options, env, processor, std::move(on_exit)));
  g_milter = m.get();
  auto fail = [&](std::string what) {
    g_milter = nullptr;
    return Status::Unavailable("milter " + spec + ": " + what);
  };
  if (smfi_setconn(spec.data()) == MI_FAILURE) return fail("bad socket");
  int timeout = static_cast<int>(std::max<int64_t>(1, options.timeout_micros / 1'000'000));
  smfi_settimeout(timeout);
  smfi_setbacklog(1024);
  if (smfi_register(desc) == MI_FAILURE) return fail("registration failed");
  if (smfi_opensocket(1) == MI_FAILURE) return fail("cannot listen (in use, or no permission?)");
  Milter* self = m.get();
  m->thread_ = std::thread([self] {
    int rc = smfi_main();
    if (!self->stopping_.load()) {
      spdlog::error("milter stopped by itself (smfi_main returned {})", rc);
      if (self->on_exit_) self->on_exit_();
    }
  });
  return m;
}

Milter::~Milter() { Stop(); }

void Milter::Stop() {
  if (!thread_.joinable()) return;
  stopping_.store(true);
  smfi_stop();
  thread_.join();
  std::lock_guard<std::mutex> lock(g_milter_mu);
  g_milter = nullptr;
}

}  // namespace mailvault::intake
