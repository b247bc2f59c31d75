#include "intake/milter_codec.h"

#include <cstring>

namespace mailvault::intake::milter {
namespace {

uint32_t GetU32(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

void PutU32(std::string* out, uint32_t v) {
  out->push_back(static_cast<char>(v >> 24));
  out->push_back(static_cast<char>(v >> 16));
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v));
}

Status Bad(char cmd, std::string_view what) {
  return Status::InvalidArgument("milter command '" + std::string(1, cmd) +
                                 "': " + std::string(what));
}

// Reads NUL-terminated strings off the front of a payload.
class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  bool empty() const { return s_.empty(); }
  // The next string without its NUL; nullopt if no NUL follows.
  std::optional<std::string> String() {
    size_t nul = s_.find('\0');
    if (nul == std::string_view::npos) return std::nullopt;
    std::string out(s_.substr(0, nul));
    s_.remove_prefix(nul + 1);
    return out;
  }
  bool Take(size_t n, std::string_view* out) {
    if (s_.size() < n) return false;
    *out = s_.substr(0, n);
    s_.remove_prefix(n);
    return true;
  }

 private:
  std::string_view s_;
};

// A payload that is a sequence of NUL-terminated strings (MAIL, RCPT).
Status Strings(char cmd, std::string_view payload, std::vector<std::string>* out) {
  Reader r(payload);
  while (!r.empty()) {
    std::optional<std::string> s = r.String();
    if (!s) return Bad(cmd, "argument without its NUL");
    out->push_back(std::move(*s));
  }
  if (out->empty()) return Bad(cmd, "no argument");
  return Status::Ok();
}

}  // namespace

void FrameDecoder::Feed(std::string_view bytes) {
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > 64 * 1024 && pos_ * 2 > buf_.size()) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes);
}

Result<std::optional<Frame>> FrameDecoder::Next() {
  if (!error_.ok()) return error_;
  std::string_view rest = std::string_view(buf_).substr(pos_);
  if (rest.size() < 4) return std::optional<Frame>();
  const uint32_t n = GetU32(rest);
  if (n == 0) {
    error_ = Status::InvalidArgument("milter packet of length 0");
    return error_;
  }
  if (n > kMaxFrame) {
    error_ = Status::InvalidArgument("milter packet of " + std::to_string(n) +
                                     " bytes (more than " + std::to_string(kMaxFrame) + ")");
    return error_;
  }
  if (rest.size() - 4 < n) return std::optional<Frame>();
  Frame f;
  f.cmd = rest[4];
  f.payload.assign(rest.substr(5, n - 1));
  pos_ += 4 + size_t{n};
  return std::optional<Frame>(std::move(f));
}

Result<Command> DecodeCommand(const Frame& frame) {
  Command c;
  const char k = frame.cmd;
  std::string_view p = frame.payload;
  Reader r(p);
  switch (k) {
    case 'O': {
      // Version 6 MTAs send exactly 12 bytes; older ones may send more
      // (ignored, as libmilter does).
      if (p.size() < 12) return Bad(k, "option negotiation shorter than 12 bytes");
      c.cmd = Cmd::kOptneg;
      c.version = GetU32(p.substr(0, 4));
      c.actions = GetU32(p.substr(4, 4));
      c.protocol = GetU32(p.substr(8, 4));
      return c;
    }
    case 'D': {
      std::string_view first;
      if (!r.Take(1, &first)) return Bad(k, "macro packet without a command");
      c.cmd = Cmd::kMacro;
      c.macro_for = first[0];
      while (!r.empty()) {
        std::optional<std::string> name = r.String(), value;
        if (name) value = r.String();
        if (!name || !value) return Bad(k, "macro without its NUL");
        c.macros.emplace_back(std::move(*name), std::move(*value));
      }
      return c;
    }
    case 'C': {
      std::optional<std::string> host = r.String();
      std::string_view family;
      if (!host || !r.Take(1, &family)) return Bad(k, "connect info too short");
      c.cmd = Cmd::kConnect;
      c.hostname = std::move(*host);
      c.family = family[0];
      if (c.family == 'U') return c;  // nothing more (the address is unknown)
      if (c.family != '4' && c.family != '6' && c.family != 'L')
        return Bad(k, "unknown address family");
      std::string_view port;
      std::optional<std::string> addr;
      if (r.Take(2, &port)) addr = r.String();
      if (!addr) return Bad(k, "connect info too short");
      c.port = static_cast<uint16_t>((static_cast<unsigned char>(port[0]) << 8) |
                                     static_cast<unsigned char>(port[1]));
      c.address = std::move(*addr);
      return c;
    }
    case 'H':
    case 'U': {
      std::optional<std::string> s = r.String();
      if (!s) return Bad(k, "argument without its NUL");
      c.cmd = k == 'H' ? Cmd::kHelo : Cmd::kUnknown;
      c.args.push_back(std::move(*s));
      return c;
    }
    case 'M':
    case 'R':
      c.cmd = k == 'M' ? Cmd::kMail : Cmd::kRcpt;
      MV_RETURN_IF_ERROR(Strings(k, p, &c.args));
      return c;
    case 'L': {
      std::optional<std::string> name = r.String(), value;
      if (name) value = r.String();
      if (!name || !value) return Bad(k, "header without its NULs");
      if (name->empty()) return Bad(k, "header without a name");
      c.cmd = Cmd::kHeader;
      c.name = std::move(*name);
      c.value = std::move(*value);
      return c;
    }
    case 'B':
    case 'E':
      c.cmd = k == 'B' ? Cmd::kBody : Cmd::kBodyEob;
      c.body.assign(p);
      return c;
    case 'T':
    case 'N':
    case 'A':
    case 'Q':
    case 'K':
      c.cmd = static_cast<Cmd>(k);
      return c;
    default:
      return Bad(k, "unknown command");
  }
}

std::string EncodeFrame(char cmd, std::string_view payload) {
  std::string out;
  out.reserve(5 + payload.size());
  PutU32(&out, static_cast<uint32_t>(payload.size() + 1));
  out.push_back(cmd);
  out.append(payload);
  return out;
}

std::string EncodeOptnegReply(uint32_t version, uint32_t actions, uint32_t protocol) {
  std::string p;
  PutU32(&p, version);
  PutU32(&p, actions);
  PutU32(&p, protocol);
  return EncodeFrame('O', p);
}

std::string EncodeContinue() { return EncodeFrame('c', ""); }
std::string EncodeAccept() { return EncodeFrame('a', ""); }
std::string EncodeReject() { return EncodeFrame('r', ""); }
std::string EncodeTempfail() { return EncodeFrame('t', ""); }
std::string EncodeDiscard() { return EncodeFrame('d', ""); }
std::string EncodeProgress() { return EncodeFrame('p', ""); }

Result<std::string> EncodeReplyCode(std::string_view rcode, std::string_view xcode,
                                    std::string_view text) {
  auto digits = [](std::string_view s) {
    return s.find_first_not_of("0123456789") == std::string_view::npos;
  };
  if (rcode.size() != 3 || !digits(rcode) || (rcode[0] != '4' && rcode[0] != '5'))
    return Status::InvalidArgument("reply code must be 4xx or 5xx");
  if (!xcode.empty()) {
    // class.subject.detail, the class matching the reply code.
    if (xcode[0] != rcode[0] || xcode.size() < 5 || xcode[1] != '.' ||
        xcode.find_first_not_of("0123456789.") != std::string_view::npos)
      return Status::InvalidArgument("enhanced status code does not fit the reply code");
  }
  std::string p(rcode);
  if (!xcode.empty()) {
    p += ' ';
    p += xcode;
  }
  if (!text.empty()) {
    p += ' ';
    for (char ch : text) p += (ch == '\r' || ch == '\n' || ch == '\0') ? ' ' : ch;
  }
  p += '\0';
  return EncodeFrame('y', p);
}

namespace {
std::string NameValue(std::string_view name, std::string_view value) {
  std::string p(name);
  p += '\0';
  p += value;
  p += '\0';
  return p;
}
}  // namespace

std::string EncodeAddHeader(std::string_view name, std::string_view value) {
  return EncodeFrame('h', NameValue(name, value));
}

std::string EncodeInsertHeader(uint32_t index, std::string_view name, std::string_view value) {
  std::string p;
  PutU32(&p, index);
  return EncodeFrame('i', p + NameValue(name, value));
}

std::string EncodeChangeHeader(uint32_t index, std::string_view name, std::string_view value) {
  std::string p;
  PutU32(&p, index);
  return EncodeFrame('m', p + NameValue(name, value));
}

std::string EncodeDeleteRcpt(std::string_view rcpt) {
  std::string p(rcpt);
  p += '\0';
  return EncodeFrame('-', p);
}

std::string EncodeReplaceBody(std::string_view chunk) { return EncodeFrame('b', chunk); }

Result<std::vector<Frame>> SplitFrames(std::string_view bytes) {
  FrameDecoder d;
  d.Feed(bytes);
  std::vector<Frame> out;
  while (true) {
    MV_ASSIGN_OR_RETURN(std::optional<Frame> f, d.Next());
    if (!f) break;
    out.push_back(std::move(*f));
  }
  if (d.partial()) return Status::InvalidArgument("bytes after the last whole frame");
  return out;
}

}  // namespace mailvault::intake::milter
