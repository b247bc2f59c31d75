#include "scan/clamd.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>

#include "base/units.h"

namespace mailvault::scan {
namespace {

constexpr size_t kChunkBytes = 64 * 1024;
constexpr size_t kMaxReplyBytes = 4096;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\0'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool Printable(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

// For error messages: printable ASCII as is, anything else as \xNN, at most
// 200 bytes of the input.
std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s.substr(0, 200)) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '"' && c != '\\') {
      out += c;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", u);
      out += buf;
    }
  }
  if (s.size() > 200) out += "...";
  return out + "\"";
}

void PutBigEndian32(char* p, uint32_t v) {
  p[0] = static_cast<char>(v >> 24);
  p[1] = static_cast<char>(v >> 16);
  p[2] = static_cast<char>(v >> 8);
  p[3] = static_cast<char>(v);
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// ctime() text, "Thu Nov 20 08:25:44 2026" (also "Thu Nov  6 ..."), to
// "2026-11-20"; empty if it does not parse.
std::string CtimeToDate(std::string_view text) {
  std::array<std::string_view, 5> f;
  size_t n = 0;
  while (true) {
    text = Trim(text);
    if (text.empty()) break;
    if (n == f.size()) return "";
    size_t end = text.find(' ');
    f[n++] = text.substr(0, end);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end);
  }
  if (n != 5) return "";
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  static constexpr std::string_view kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  if (std::find(std::begin(kDays), std::end(kDays), f[0]) == std::end(kDays)) return "";
  auto month = std::find(std::begin(kMonths), std::end(kMonths), f[1]);
  if (month == std::end(kMonths)) return "";
  if (!AllDigits(f[2]) || f[2].size() > 2 || !AllDigits(f[4]) || f[4].size() != 4) return "";
  int day = std::stoi(std::string(f[2]));
  if (day < 1 || day > 31) return "";
  const std::string_view& t = f[3];
  if (t.size() != 8 || t[2] != ':' || t[5] != ':' || !AllDigits(t.substr(0, 2)) ||
      !AllDigits(t.substr(3, 2)) || !AllDigits(t.substr(6, 2))) {
    return "";
  }
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%s-%02d-%02d", std::string(f[4]).c_str(),
                static_cast<int>(month - std::begin(kMonths)) + 1, day);
  return buf;
}

std::string Bytes(uint64_t n) { return std::to_string(n) + " bytes"; }

}  // namespace

std::string ClamdChunk(std::string_view data) {
  std::string out(4, '\0');
  PutBigEndian32(out.data(), static_cast<uint32_t>(data.size()));
  out.append(data);
  return out;
}

std::string_view ClassifySignature(std::string_view name) {
  if (name.starts_with("Heuristics.Encrypted.") || name.starts_with("Encrypted.")) {
    return "encrypted";
  }
  if (name.starts_with("Heuristics.Broken.") || name.starts_with("Broken.") ||
      name.find(".Broken.") != std::string_view::npos) {
    return "corrupted";
  }
  if (name.starts_with("Heuristics.Limits.Exceeded.")) return "not-scanned";
  if (name.starts_with("Heuristics.") || name.starts_with("PUA.") ||
      name.find(".Heuristic.") != std::string_view::npos ||
      name.find(".Heuristics.") != std::string_view::npos) {
    return "probably-infected";
  }
  return "infected";
}

Verdict ParseClamdScanReply(std::string_view reply) {
  Verdict v;
  v.engine = "anti-virus";
  std::string_view r = Trim(reply);
  constexpr std::string_view kStream = "stream: ";
  if (r == "ERROR" || r.ends_with(" ERROR")) {
    std::string_view what = Trim(r.substr(0, r.size() - 5));
    if (what.starts_with(kStream)) what = Trim(what.substr(kStream.size()));
    v.label = "not-scanned";
    // clamd's own words when short and printable; anything else quoted and
    // clipped (the reply may be up to kMaxReplyBytes).
    v.error = what.empty()                            ? std::string("error")
              : what.size() <= 200 && Printable(what) ? std::string(what)
                                                      : Quote(what);
    return v;
  }
  if (r.starts_with(kStream)) {
    std::string_view body = r.substr(kStream.size());
    if (body == "OK") {
      v.label = "not-detected";
      return v;
    }
    constexpr std::string_view kFound = " FOUND";
    if (body.ends_with(kFound)) {
      std::string_view name = Trim(body.substr(0, body.size() - kFound.size()));
      if (!name.empty() && name.size() <= 512 && Printable(name)) {
        v.label = std::string(ClassifySignature(name));
        v.detail = std::string(name);
        v.details["signature"] = std::string(name);
        if (v.label == "not-scanned") v.error = "clamd stopped at a scan limit: " + v.detail;
        return v;
      }
    }
  }
  v.label = "not-scanned";
  v.error = r.empty() ? "empty reply" : "unexpected reply " + Quote(r);
  return v;
}

Result<ClamdVersion> ParseClamdVersionReply(std::string_view reply) {
  std::string_view r = Trim(reply);
  auto bad = [&] { return Status::Corruption("unexpected VERSION reply " + Quote(r)); };
  constexpr std::string_view kPrefix = "ClamAV ";
  if (!r.starts_with(kPrefix) || !Printable(r)) return bad();
  std::string_view rest = r.substr(kPrefix.size());
  ClamdVersion out;
  size_t slash = rest.find('/');
  out.engine = std::string(Trim(rest.substr(0, slash)));
  if (out.engine.empty() || out.engine.find(' ') != std::string::npos) return bad();
  if (slash == std::string_view::npos) return out;
  rest.remove_prefix(slash + 1);
  size_t slash2 = rest.find('/');
  if (slash2 == std::string_view::npos) return bad();
  std::string_view dbver = rest.substr(0, slash2);
  if (!AllDigits(dbver) || dbver.size() > 10) return bad();
  std::string date = CtimeToDate(rest.substr(slash2 + 1));
  if (date.empty()) return bad();
  out.database_version = std::string(dbver);
  out.database_date = std::move(date);
  return out;
}

Result<net::Endpoint> ParseClamdAddress(std::string_view address) {
  MV_ASSIGN_OR_RETURN(net::Endpoint endpoint, net::ParseEndpoint(address));
  if (endpoint.kind == net::Endpoint::Kind::kTcp && endpoint.port == 0) {
    return Status::InvalidArgument("address \"" + std::string(address) + "\" needs a port");
  }
  return endpoint;
}

Status CheckClamdOptions(const ClamdOptions& options) {
  MV_RETURN_IF_ERROR(ParseClamdAddress(options.address).status().Annotate("engines.clamd.address"));
  MV_RETURN_IF_ERROR(
      CheckPositiveDuration(options.timeout_micros).Annotate("engines.clamd.timeout"));
  return CheckPositiveSize(options.max_stream).Annotate("engines.clamd.max_stream");
}

Result<std::unique_ptr<ClamdEngine>> ClamdEngine::Make(const ClamdOptions& options, NowMicros now) {
  MV_RETURN_IF_ERROR(CheckClamdOptions(options));
  auto endpoint = ParseClamdAddress(options.address);
  if (!endpoint.ok()) return endpoint.status();
  if (!now) {
    now = [] {
      return std::chrono::duration_cast<std::chrono::microseconds>(
                 std::chrono::steady_clock::now().time_since_epoch())
          .count();
    };
  }
  return std::unique_ptr<ClamdEngine>(
      new ClamdEngine(options, std::move(endpoint).value(), std::move(now)));
}

Verdict ClamdEngine::NotScanned(std::string_view why) const {
  Verdict v;
  v.engine = "anti-virus";
  v.label = "not-scanned";
  v.error = "clamd at " + endpoint_.ToString() + ": " + std::string(why);
  return v;
}

std::vector<Verdict> ClamdEngine::Scan(const Message& message) {
  net::Deadline deadline = net::DeadlineAfter(options_.timeout_micros);
  const uint64_t size = message.raw.size();
  const uint64_t limit = std::min(size, options_.max_stream);
  Verdict v = ScanStream(message.raw, limit, deadline);
  if (v.label == "not-scanned") return {std::move(v)};
  if (limit < size) {
    if (!v.detail.empty()) v.detail += "; ";
    v.detail += "scanned the first " + Bytes(limit) + " of " + Bytes(size) + " (max_stream)";
    v.details["scanned_bytes"] = std::to_string(limit);
  }
  Result<ClamdVersion> version = Version(deadline);
  if (version.ok() && !version->database_date.empty()) {
    v.details["database"] = version->database_date;
    v.details["database_version"] = version->database_version;
  } else if (v.label == "not-detected" && (version.ok() || version.status().IsCorruption())) {
    // clamd answered, but not with a database: a clean verdict means nothing.
    v.label = "bases-error";
    v.error = "clamd at " + endpoint_.ToString() + ": " +
              (version.ok() ? "reports no signature database version (ClamAV " + version->engine +
                                  " without a daily database)"
                            : version.status().message());
  }
  return {std::move(v)};
}

Verdict ClamdEngine::ScanStream(const ByteSource& raw, uint64_t limit, net::Deadline deadline) {
  auto sock = net::Connect(endpoint_, deadline);
  if (!sock.ok()) return NotScanned(sock.status().message());
  Status sent = sock->WriteAll(std::string_view("zINSTREAM\0", 10), deadline);
  bool answered_early = false;
  std::string chunk;
  for (uint64_t off = 0; sent.ok() && off < limit;) {
    // clamd answers before the end only to refuse the stream (size limit);
    // stop sending then and read why.
    if (sock->HasInput()) {
      answered_early = true;
      break;
    }
    chunk.assign(4, '\0');
    Status read = raw.ReadAt(off, std::min<uint64_t>(kChunkBytes, limit - off), &chunk);
    if (read.ok() && chunk.size() == 4) read = Status::IOError("message source ended early");
    if (!read.ok()) {
      Verdict v = NotScanned("");
      v.error = "cannot read the message for clamd: " + read.ToString();
      return v;
    }
    PutBigEndian32(chunk.data(), static_cast<uint32_t>(chunk.size() - 4));
    sent = sock->WriteAll(chunk, deadline);
    off += chunk.size() - 4;
  }
  if (sent.ok() && !answered_early) sent = sock->WriteAll(ClamdChunk(""), deadline);
  // Even when sending failed, clamd may have said why before closing.
  auto reply = sock->ReadUntil('\0', kMaxReplyBytes, deadline);
  if (!reply.ok()) return NotScanned(!sent.ok() ? sent.message() : reply.status().message());
  if (reply->empty()) {
    return NotScanned(!sent.ok() ? sent.message() : "closed the connection without a reply");
  }
  Verdict v = ParseClamdScanReply(*reply);
  if (v.label == "not-scanned") v.error = "clamd at " + endpoint_.ToString() + ": " + v.error;
  return v;
}

Status ClamdEngine::Ping() {
  const net::Deadline deadline =
      net::DeadlineAfter(std::min<int64_t>(options_.timeout_micros, 5'000'000));
  auto sock = net::Connect(endpoint_, deadline);
  if (!sock.ok()) return sock.status();
  MV_RETURN_IF_ERROR(sock->WriteAll(std::string_view("zPING\0", 6), deadline));
  MV_ASSIGN_OR_RETURN(std::string reply, sock->ReadUntil('\0', kMaxReplyBytes, deadline));
  if (reply != "PONG") return Status::Unavailable("unexpected PING reply " + Quote(reply));
  return Status::Ok();
}

Result<ClamdVersion> ClamdEngine::Version(net::Deadline deadline) {
  const int64_t now = now_();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (version_.has_value() && now - version_at_ < kVersionCacheMicros) return *version_;
  }
  auto sock = net::Connect(endpoint_, deadline);
  if (!sock.ok()) return sock.status();
  MV_RETURN_IF_ERROR(sock->WriteAll(std::string_view("zVERSION\0", 9), deadline));
  auto reply = sock->ReadUntil('\0', kMaxReplyBytes, deadline);
  if (!reply.ok() && !reply.status().IsCorruption()) return reply.status();
  Result<ClamdVersion> parsed =
      reply.ok() ? ParseClamdVersionReply(*reply) : Result<ClamdVersion>(reply.status());
  std::lock_guard<std::mutex> lock(mu_);
  version_ = parsed;
  version_at_ = now;
  return parsed;
}

}  // namespace mailvault::scan
