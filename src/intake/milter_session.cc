#include "intake/milter_session.h"

#include <arpa/inet.h>
#include <spdlog/spdlog.h>
#include <strings.h>

#include <chrono>

#include "base/display_text.h"

namespace mailvault::intake {
namespace {

using milter::Cmd;
using milter::Command;
using State = MilterSession::State;

// Everything before end-of-message only collects: where the MTA agreed,
// those stages get no reply at all, which saves Postfix a round trip per
// header line and body chunk.
constexpr uint32_t kNoReply = milter::SMFIP_NR_CONN | milter::SMFIP_NR_HELO |
                              milter::SMFIP_NR_MAIL | milter::SMFIP_NR_RCPT | milter::SMFIP_NR_HDR |
                              milter::SMFIP_NR_EOH | milter::SMFIP_NR_BODY;
constexpr uint32_t kWantActions =
    milter::SMFIF_ADDHDRS | milter::SMFIF_CHGHDRS | milter::SMFIF_CHGBODY | milter::SMFIF_DELRCPT;
constexpr uint32_t kWantProtocol =
    milter::SMFIP_HDR_LEADSPC | kNoReply | milter::SMFIP_NOUNKNOWN | milter::SMFIP_NODATA;

const char* StateName(State s) {
  switch (s) {
    case State::kInit:
      return "before option negotiation";
    case State::kNegotiated:
      return "before connect";
    case State::kConnected:
      return "after connect";
    case State::kHelo:
      return "after HELO";
    case State::kMail:
      return "after MAIL";
    case State::kRcpt:
      return "after RCPT";
    case State::kData:
      return "after DATA";
    case State::kHeaders:
      return "in the headers";
    case State::kEoh:
      return "after the headers";
    case State::kBody:
      return "in the body";
    case State::kClosed:
      return "after the session ended";
  }
  return "?";
}

const char* CmdName(Cmd c) {
  switch (c) {
    case Cmd::kAbort:
      return "abort";
    case Cmd::kBody:
      return "body";
    case Cmd::kConnect:
      return "connect";
    case Cmd::kMacro:
      return "macro";
    case Cmd::kBodyEob:
      return "end-of-message";
    case Cmd::kHelo:
      return "HELO";
    case Cmd::kQuitNc:
      return "quit (new connection)";
    case Cmd::kHeader:
      return "header";
    case Cmd::kMail:
      return "MAIL";
    case Cmd::kEoh:
      return "end-of-headers";
    case Cmd::kOptneg:
      return "option negotiation";
    case Cmd::kQuit:
      return "quit";
    case Cmd::kRcpt:
      return "RCPT";
    case Cmd::kData:
      return "DATA";
    case Cmd::kUnknown:
      return "unknown SMTP command";
  }
  return "?";
}

MilterSession::Step Error(std::string why) {
  MilterSession::Step s;
  s.close = true;
  s.error = Status::InvalidArgument(std::move(why));
  return s;
}

MilterSession::Step Reply(std::string bytes) {
  MilterSession::Step s;
  s.reply = std::move(bytes);
  return s;
}

std::string StripBrackets(std::string_view s) {
  if (s.size() >= 2 && s.front() == '<' && s.back() == '>') s = s.substr(1, s.size() - 2);
  return std::string(s);
}

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

std::string_view Unbraced(std::string_view name) {
  if (name.size() >= 2 && name.front() == '{' && name.back() == '}')
    name = name.substr(1, name.size() - 2);
  return name;
}

// The address as text, "" if it is not one ("IPv6:" prefixes as Sendmail
// sends them are accepted).
std::string NormalAddress(char family, std::string_view addr) {
  if (family != '4' && family != '6') return "";
  if (addr.size() > 5 && EqualsNoCase(addr.substr(0, 5), "IPv6:")) addr.remove_prefix(5);
  std::string z(addr);
  char buf[INET6_ADDRSTRLEN] = "";
  unsigned char bin[16];
  const int af = family == '4' ? AF_INET : AF_INET6;
  if (inet_pton(af, z.c_str(), bin) != 1) return "";
  if (inet_ntop(af, bin, buf, sizeof(buf)) == nullptr) return "";
  return buf;
}

}  // namespace

MilterSession::MilterSession(Env& env, std::string spool_dir, DecideFn decide)
    : env_(env), decide_(std::move(decide)), spool_(env, std::move(spool_dir)) {}

std::optional<std::string> MilterSession::Macro(std::string_view name) const {
  name = Unbraced(name);
  // Latest stage first, as libmilter's smfi_getsymval looks them up.
  for (char stage : {'E', 'B', 'N', 'L', 'T', 'R', 'M', 'H', 'C'}) {
    auto it = macros_.find(stage);
    if (it == macros_.end()) continue;
    for (const auto& [k, v] : it->second) {
      if (Unbraced(k) == name) return v;
    }
  }
  return std::nullopt;
}

std::string MilterSession::Continue(uint32_t no_reply_flag) const {
  return (protocol_ & no_reply_flag) != 0 ? std::string() : milter::EncodeContinue();
}

void MilterSession::Append(std::string_view data) {
  const bool was_on_disk = spool_.disk_error().ok();
  spool_.Append(data).IgnoreError();  // falls back to memory by itself
  if (was_on_disk && !spool_.disk_error().ok()) {
    spdlog::warn("event spool-unavailable: message from <{}> kept in memory: {}",
                 DisplayText(mail_from_), spool_.disk_error().ToString());
  }
}

void MilterSession::ResetMessage() {
  mail_from_.clear();
  rcpt_.clear();
  rcpt_arg_.clear();
  spool_.Reset();
  headers_done_ = false;
  subject_.reset();
  release_.reset();
  digest_.reset();
  received_at_ = 0;
  for (auto it = macros_.begin(); it != macros_.end();) {
    it = (it->first == 'C' || it->first == 'H') ? std::next(it) : macros_.erase(it);
  }
}

MilterSession::Step MilterSession::Handle(const Command& c) {
  if (state_ == State::kClosed) return Error("command after the session ended");
  if (state_ == State::kInit && c.cmd != Cmd::kOptneg && c.cmd != Cmd::kQuit) {
    return Error(std::string(CmdName(c.cmd)) + " before option negotiation");
  }
  const bool open = message_open();
  auto out_of_order = [&] { return Error(std::string(CmdName(c.cmd)) + " " + StateName(state_)); };
  switch (c.cmd) {
    case Cmd::kOptneg:
      if (state_ != State::kInit) return out_of_order();
      return OnOptneg(c);
    case Cmd::kMacro: {
      auto& list = macros_[c.macro_for];
      list = c.macros;  // a stage's macros replace that stage's earlier ones
      return Step();
    }
    case Cmd::kConnect:
      if (state_ != State::kNegotiated) return out_of_order();
      return OnConnect(c);
    case Cmd::kHelo:
      if (state_ < State::kConnected) return out_of_order();
      if (open) ResetMessage();
      helo_ = c.args.empty() ? "" : c.args[0];
      helo_seen_ = true;
      state_ = State::kHelo;
      return Reply(Continue(milter::SMFIP_NR_HELO));
    case Cmd::kMail:
      if (state_ < State::kConnected) return out_of_order();
      // A MAIL while a message is open starts over. Macros sent for this MAIL came before it and
      // belong to the new message; keep them across the reset.
      {
        auto mail_macros = macros_.find('M');
        std::vector<std::pair<std::string, std::string>> keep;
        if (mail_macros != macros_.end()) keep = mail_macros->second;
        ResetMessage();
        if (!keep.empty()) macros_['M'] = std::move(keep);
      }
      received_at_ = env_.NowMicros();
      mail_from_ = StripBrackets(c.args.empty() ? "" : c.args[0]);
      state_ = State::kMail;
      return Reply(Continue(milter::SMFIP_NR_MAIL));
    case Cmd::kRcpt:
      if (state_ != State::kMail && state_ != State::kRcpt) return out_of_order();
      rcpt_.push_back(StripBrackets(c.args.empty() ? "" : c.args[0]));
      rcpt_arg_.push_back(c.args.empty() ? "" : c.args[0]);
      state_ = State::kRcpt;
      return Reply(Continue(milter::SMFIP_NR_RCPT));
    case Cmd::kData:
      if (state_ != State::kRcpt) return out_of_order();
      state_ = State::kData;
      return Reply(Continue(milter::SMFIP_NR_DATA));
    case Cmd::kHeader:
      if (state_ != State::kRcpt && state_ != State::kData && state_ != State::kHeaders)
        return out_of_order();
      return OnHeader(c);
    case Cmd::kEoh:
      if (state_ != State::kRcpt && state_ != State::kData && state_ != State::kHeaders)
        return out_of_order();
      Append("\r\n");
      headers_done_ = true;
      if (release_) digest_ = std::make_unique<crypto::BodyDigest>();
      state_ = State::kEoh;
      return Reply(Continue(milter::SMFIP_NR_EOH));
    case Cmd::kBody:
    case Cmd::kBodyEob:
      if (state_ < State::kRcpt || state_ > State::kBody) return out_of_order();
      if (!c.body.empty() || c.cmd == Cmd::kBody) {
        if (!headers_done_) {  // no end-of-headers: the body starts here
          Append("\r\n");
          headers_done_ = true;
        }
        Append(c.body);
        if (digest_) digest_->Update(c.body);
      }
      if (c.cmd == Cmd::kBodyEob) return OnEom();
      state_ = State::kBody;
      return Reply(Continue(milter::SMFIP_NR_BODY));
    case Cmd::kAbort:
      if (state_ < State::kNegotiated) return out_of_order();
      ResetMessage();
      if (state_ >= State::kConnected) state_ = ConnectionState();
      return Step();  // abort has no reply
    case Cmd::kUnknown:
      if (state_ < State::kConnected) return out_of_order();
      return Reply(Continue(milter::SMFIP_NR_UNKN));
    case Cmd::kQuitNc:
      ResetMessage();
      macros_.clear();
      client_ip_.clear();
      client_hostname_.clear();
      helo_.clear();
      helo_seen_ = false;
      state_ = State::kNegotiated;
      return Step();
    case Cmd::kQuit: {
      ResetMessage();
      state_ = State::kClosed;
      Step s;
      s.close = true;
      return s;
    }
  }
  return out_of_order();
}

MilterSession::Step MilterSession::OnOptneg(const Command& c) {
  if (c.version < milter::kMinVersion) {
    return Error("option negotiation with protocol version " + std::to_string(c.version) +
                 " (the least supported is " + std::to_string(milter::kMinVersion) + ")");
  }
  actions_ = c.actions & kWantActions;
  protocol_ = c.protocol & kWantProtocol;
  state_ = State::kNegotiated;
  return Reply(
      milter::EncodeOptnegReply(std::min(c.version, milter::kVersion), actions_, protocol_));
}

MilterSession::Step MilterSession::OnConnect(const Command& c) {
  client_hostname_ = c.hostname;
  client_ip_ = NormalAddress(c.family, c.address);
  state_ = State::kConnected;
  return Reply(Continue(milter::SMFIP_NR_CONN));
}

MilterSession::Step MilterSession::OnHeader(const Command& c) {
  const std::string_view n = c.name, v = c.value;
  // Rebuild the header line as received: the MTA hands over folded values
  // with bare LFs; the message on the wire had CRLF.
  std::string line(n);
  line += ':';
  if ((protocol_ & milter::SMFIP_HDR_LEADSPC) == 0 && !v.empty()) line += ' ';
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\n' && (i == 0 || v[i - 1] != '\r')) line += '\r';
    line += v[i];
  }
  line += "\r\n";
  Append(line);
  if (EqualsNoCase(n, "Subject") && !subject_) subject_ = std::string(v);
  if (EqualsNoCase(n, crypto::kReleaseHeader) && !release_) release_ = std::string(v);
  state_ = State::kHeaders;
  return Reply(Continue(milter::SMFIP_NR_HDR));
}

std::string MilterSession::WithSpace(const std::string& v) const {
  return (protocol_ & milter::SMFIP_HDR_LEADSPC) != 0 ? " " + v : v;
}

// The modifications and the final reply of end-of-message, each
// modification only if its action was negotiated (libmilter refused the
// others the same way).
std::string MilterSession::ApplyOutcome(const Received& r, const Outcome& o,
                                        const std::vector<std::string>& rcpt_arg) const {
  std::string out;
  switch (o.kind) {
    case Outcome::Kind::kReject:
    case Outcome::Kind::kTempfail: {
      const bool reject = o.kind == Outcome::Kind::kReject;
      auto coded = milter::EncodeReplyCode(o.rcode, o.xcode, o.text.empty() ? "rejected" : o.text);
      if (coded.ok()) return *coded;
      return reject ? milter::EncodeReject() : milter::EncodeTempfail();
    }
    case Outcome::Kind::kDiscard:
      return milter::EncodeDiscard();
    case Outcome::Kind::kAccept:
      break;
  }
  if (actions_ & milter::SMFIF_DELRCPT) {
    for (const std::string& gone : o.delete_rcpt) {
      for (size_t i = 0; i < r.envelope.rcpt.size() && i < rcpt_arg.size(); ++i) {
        if (r.envelope.rcpt[i] == gone) {
          out += milter::EncodeDeleteRcpt(rcpt_arg[i]);
          break;
        }
      }
    }
  }
  if (actions_ & milter::SMFIF_CHGHDRS) {
    for (const auto& [name, value] : o.header_changes) {
      // An empty value deletes the header (parts.h).
      out += milter::EncodeChangeHeader(1, name, value.empty() ? "" : WithSpace(value));
    }
  }
  if (o.new_subject) {
    const std::string v = WithSpace(*o.new_subject);
    if (r.subject) {
      if (actions_ & milter::SMFIF_CHGHDRS) out += milter::EncodeChangeHeader(1, "Subject", v);
    } else if (actions_ & milter::SMFIF_ADDHDRS) {
      out += milter::EncodeAddHeader("Subject", v);
    }
  }
  if (actions_ & milter::SMFIF_ADDHDRS) {
    for (const auto& [name, value] : o.add_headers) {
      out += milter::EncodeAddHeader(name, WithSpace(value));
    }
  }
  if (o.new_body && (actions_ & milter::SMFIF_CHGBODY)) {
    std::string_view body = *o.new_body;
    for (size_t off = 0; off < body.size(); off += 65535) {
      out += milter::EncodeReplaceBody(body.substr(off, 65535));
    }
    if (body.empty()) out += milter::EncodeReplaceBody("");
  }
  out += milter::EncodeContinue();
  return out;
}

MilterSession::Step MilterSession::OnEom() {
  const auto t0 = std::chrono::steady_clock::now();
  if (!headers_done_) Append("\r\n");
  Received r;
  r.envelope.client_ip = client_ip_;
  r.envelope.client_hostname = client_hostname_;
  r.envelope.helo = helo_;
  r.envelope.mail_from = mail_from_;
  r.envelope.rcpt = rcpt_;
  r.envelope.queue_id = Macro("i").value_or("");
  r.subject = subject_;
  r.release_header = release_;
  if (digest_) r.body_digest = digest_->Finish();
  r.received_at = received_at_;
  r.raw = &spool_;

  Outcome o = decide_(r);
  const size_t nrcpt = rcpt_.size();
  const uint64_t size = spool_.size();
  const std::vector<std::string> rcpt_arg = std::move(rcpt_arg_);
  Step step = Reply(ApplyOutcome(r, o, rcpt_arg));
  ResetMessage();
  state_ = ConnectionState();
  // ms: what mailvault adds at end-of-message (decision, copy, replies).
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  // Envelope bytes are whatever the client sent: escaped, so a log line
  // stays one line of text (CR/LF, controls, bytes that are not UTF-8).
  spdlog::info("milter {}: from=<{}> nrcpt={} size={}: {} ms={:.2f}",
               DisplayText(r.envelope.queue_id), DisplayText(r.envelope.mail_from), nrcpt, size,
               DisplayText(o.summary), ms);
  return step;
}

}  // namespace mailvault::intake
