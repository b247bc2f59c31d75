#include "scan/rspamd.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <exception>
#include <mutex>
#include <nlohmann/json.hpp>

#include "base/units.h"

namespace mailvault::scan {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxReplyBytes = 32 << 20;  // a reply with every URL of a big message
constexpr size_t kMaxSymbols = 500;          // kept in details["symbols"]
constexpr size_t kDetailSymbols = 8;         // named in the anti-spam detail

struct Symbol {
  std::string name;
  double score = 0;
  std::vector<std::string> options;
};

struct Reply {
  std::string action;
  double score = 0;
  double required_score = 0;
  std::vector<Symbol> symbols;  // by descending score, then name
  std::vector<std::string> url_hosts;
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// 1000 -> "1000.0", 7.3 -> "7.3", 5.234 -> "5.23".
std::string FormatScore(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.2f", v);
  std::string s = buf;
  while (s.size() > 1 && s.back() == '0' && s[s.size() - 2] != '.') s.pop_back();
  return s;
}

std::string Printable(std::string_view s, size_t max) {
  std::string out;
  for (char c : s.substr(0, max)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (s.size() > max) out += "...";
  return out;
}

// Malformed input gives Corruption; nothing here throws for any JSON value.
Result<Reply> ParseReply(std::string_view body) {
  json j = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::Corruption("reply is not JSON");
  if (!j.is_object()) return Status::Corruption("reply is not a JSON object");
  Reply r;
  auto action = j.find("action");
  if (action == j.end() || !action->is_string()) {
    return Status::Corruption("reply has no \"action\"");
  }
  r.action = action->get<std::string>();
  auto score = j.find("score");
  if (score == j.end() || !score->is_number()) return Status::Corruption("reply has no \"score\"");
  r.score = score->get<double>();
  auto required = j.find("required_score");
  if (required != j.end() && required->is_number()) r.required_score = required->get<double>();
  auto symbols = j.find("symbols");
  if (symbols != j.end()) {
    if (!symbols->is_object()) return Status::Corruption("\"symbols\" is not an object");
    for (auto it = symbols->begin(); it != symbols->end(); ++it) {
      Symbol s;
      s.name = it.key();
      if (it->is_object()) {
        auto sc = it->find("score");
        if (sc != it->end() && sc->is_number()) s.score = sc->get<double>();
        auto opts = it->find("options");
        if (opts != it->end() && opts->is_array()) {
          for (const auto& o : *opts) {
            if (o.is_string()) s.options.push_back(o.get<std::string>());
          }
        }
      }
      r.symbols.push_back(std::move(s));
    }
  }
  std::sort(r.symbols.begin(), r.symbols.end(), [](const Symbol& a, const Symbol& b) {
    return a.score != b.score ? a.score > b.score : a.name < b.name;
  });
  auto urls = j.find("urls");
  if (urls != j.end() && urls->is_array()) {
    for (const auto& u : *urls) {
      if (u.is_string()) {
        r.url_hosts.push_back(u.get<std::string>());
      } else if (u.is_object()) {
        auto host = u.find("host");
        if (host != u.end() && host->is_string()) r.url_hosts.push_back(host->get<std::string>());
      }
    }
  }
  return r;
}

const Symbol* Find(const Reply& r, std::string_view name) {
  for (const auto& s : r.symbols) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

bool StartsWithAny(std::string_view name, std::initializer_list<std::string_view> prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(),
                     [&](std::string_view p) { return name.starts_with(p); });
}

bool IsListing(const Symbol& s) {
  return s.score > 0 && s.name.find("_BLOCKED") == std::string::npos;
}

bool IsSenderListing(const Symbol& s) {
  return IsListing(s) &&
         StartsWithAny(s.name, {"RBL_", "RECEIVED_SPAMHAUS_", "RECEIVED_BLOCKLISTDE"});
}

bool IsUrlListing(const Symbol& s) {
  std::string_view n = s.name;
  if (!IsListing(s) || n.ends_with("_GREY") || n == "URIBL_PBL") return false;
  return StartsWithAny(n, {"SURBL_", "URIBL_", "DBL_", "SEM_URIBL", "RSPAMD_URIBL"}) ||
         n.ends_with("_SURBL") || n.ends_with("_SURBL_MULTI");
}

// "NAME (opt1, opt2)" for details.
std::string Describe(const Symbol& s) {
  std::string out = s.name;
  if (s.options.empty()) return out;
  std::string opts;
  for (const auto& o : s.options) {
    if (!opts.empty()) opts += ", ";
    opts += o;
  }
  return out + " (" + Printable(opts, 200) + ")";
}

std::string DescribeAll(const std::vector<const Symbol*>& symbols) {
  std::string out;
  for (const Symbol* s : symbols) {
    if (!out.empty()) out += "; ";
    out += Describe(*s);
  }
  return out;
}

std::vector<Verdict> Map(const Reply& r, const std::vector<std::string>& malicious_hosts) {
  std::map<std::string, std::string> details;
  details["score"] = FormatScore(r.score);
  details["required_score"] = FormatScore(r.required_score);
  details["action"] = r.action;
  std::string names;
  for (size_t i = 0; i < r.symbols.size() && i < kMaxSymbols; ++i) {
    if (!names.empty()) names += ",";
    names += r.symbols[i].name;
  }
  details["symbols"] = names;

  std::vector<Verdict> out(3);
  for (auto& v : out) v.details = details;

  // Anti-spam.
  Verdict& spam = out[0];
  spam.engine = "anti-spam";
  spam.detail = "score " + details["score"] + "/" + details["required_score"];
  std::string top;
  size_t shown = 0;
  for (const auto& s : r.symbols) {
    if (s.score <= 0 && s.name != "GTUBE") continue;
    if (shown++ == kDetailSymbols) {
      top += ", ...";
      break;
    }
    top += (top.empty() ? "" : ", ") + s.name;
  }
  if (!top.empty()) spam.detail += ": " + top;
  bool sender_listed = std::any_of(r.symbols.begin(), r.symbols.end(),
                                   [](const Symbol& s) { return IsSenderListing(s); });
  bool bulk = Find(r, "DCC_BULK") || Find(r, "DCC_REJECT") || Find(r, "PRECEDENCE_BULK");
  if (r.action == "reject" || Find(r, "GTUBE")) {
    spam.label = "spam";
  } else if (sender_listed) {
    spam.label = "blacklisted";
  } else if (r.action == "add header" || r.action == "rewrite subject") {
    spam.label = "probable-spam";
  } else if (bulk) {
    spam.label = "massmail";
  }

  // Anti-phishing.
  Verdict& phish = out[1];
  phish.engine = "anti-phishing";
  std::vector<const Symbol*> phishing, links;
  for (const auto& s : r.symbols) {
    static constexpr std::string_view kPhishing[] = {
        "PHISHING",    "PHISHED_OPENPHISH",       "PHISHED_PHISHTANK",
        "PHISHED_URL", "PHISHED_GENERIC_SERVICE", "HACKED_WP_PHISHING"};
    if (std::find(std::begin(kPhishing), std::end(kPhishing), s.name) != std::end(kPhishing)) {
      phishing.push_back(&s);
    } else if (IsUrlListing(s)) {
      links.push_back(&s);
    }
  }
  std::string listed_host;
  for (const auto& h : r.url_hosts) {
    if (HostListed(h, malicious_hosts)) {
      listed_host = Lower(h);
      break;
    }
  }
  if (!phishing.empty()) {
    phish.label = "phishing";
    phish.detail = DescribeAll(phishing);
  } else if (!links.empty() || !listed_host.empty()) {
    phish.label = "malicious-link";
    phish.detail = DescribeAll(links);
    if (!listed_host.empty()) {
      if (!phish.detail.empty()) phish.detail += "; ";
      phish.detail += "link to " + Printable(listed_host, 255) + " (site list)";
      phish.details["malicious_host"] = Printable(listed_host, 255);
    }
  }

  // Sender authentication.
  Verdict& auth = out[2];
  auth.engine = "sender-auth";
  const Symbol* s = nullptr;
  if ((s = Find(r, "DMARC_POLICY_REJECT")) || (s = Find(r, "DMARC_POLICY_QUARANTINE"))) {
    auth.label = "dmarc-fail";
  } else if ((s = Find(r, "R_DKIM_REJECT"))) {
    auth.label = "dkim-fail";
  } else if ((s = Find(r, "R_SPF_FAIL"))) {
    auth.label = "spf-fail";
  }
  if (s != nullptr) auth.detail = Describe(*s);
  return out;
}

std::string CleanHeaderValue(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c != '\r' && c != '\n' && c != '\0') out += c;
  }
  size_t b = out.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = out.find_last_not_of(" \t");
  return out.substr(b, e - b + 1);
}

// ---- libcurl --------------------------------------------------------------

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

struct Upload {
  const ByteSource* source;
  uint64_t offset = 0;
  std::string scratch;
  Status status;
};

size_t ReadBody(char* buffer, size_t size, size_t nitems, void* userdata) {
  auto* up = static_cast<Upload*>(userdata);
  size_t want = size * nitems;
  if (up->offset >= up->source->size() || want == 0) return 0;
  up->scratch.clear();
  Status s = up->source->ReadAt(up->offset, want, &up->scratch);
  if (s.ok() && up->scratch.empty()) s = Status::IOError("message source ended early");
  if (!s.ok()) {
    up->status = s;
    return CURL_READFUNC_ABORT;
  }
  size_t n = std::min(want, up->scratch.size());
  std::copy_n(up->scratch.data(), n, buffer);
  up->offset += n;
  return n;
}

struct ReplyBuffer {
  std::string body;
  bool overflow = false;
};

size_t WriteReply(char* data, size_t size, size_t nmemb, void* userdata) {
  auto* out = static_cast<ReplyBuffer*>(userdata);
  size_t n = size * nmemb;
  if (out->body.size() + n > kMaxReplyBytes) {
    out->overflow = true;
    return 0;  // curl fails with CURLE_WRITE_ERROR
  }
  out->body.append(data, n);
  return n;
}

Status InitCurlOnce() {
  static std::once_flag once;
  static CURLcode rc = CURLE_OK;
  std::call_once(once, [] { rc = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (rc != CURLE_OK) {
    return Status::Unavailable(std::string("curl_global_init: ") + curl_easy_strerror(rc));
  }
  return Status::Ok();
}

// "HTTP 500: invalid command" from rspamd's {"error": "..."} body.
std::string HttpError(long code, const std::string& body) {
  std::string out = "HTTP " + std::to_string(code);
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object()) {
    auto e = j.find("error");
    if (e != j.end() && e->is_string()) return out + ": " + Printable(e->get<std::string>(), 200);
  }
  std::string_view text = body;
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  if (!text.empty()) out += ": " + Printable(text, 200);
  return out;
}

}  // namespace

std::vector<Verdict> RspamdNotScanned(const std::string& error) {
  std::vector<Verdict> out(3);
  const char* engines[] = {"anti-spam", "anti-phishing", "sender-auth"};
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].engine = engines[i];
    out[i].label = "not-scanned";
    out[i].error = error;
  }
  return out;
}

std::vector<Verdict> MapRspamdReply(std::string_view body,
                                    const std::vector<std::string>& malicious_hosts) {
  try {
    Result<Reply> reply = ParseReply(body);
    if (!reply.ok()) return RspamdNotScanned("malformed rspamd reply: " + reply.status().message());
    return Map(*reply, malicious_hosts);
  } catch (const std::exception& e) {  // defence in depth: nothing above should throw
    return RspamdNotScanned(std::string("malformed rspamd reply: ") + e.what());
  }
}

bool HostListed(std::string_view host, const std::vector<std::string>& hosts) {
  std::string h = Lower(host);
  while (!h.empty() && h.back() == '.') h.pop_back();
  if (h.empty()) return false;
  for (const auto& l : hosts) {
    if (l.empty()) continue;
    if (h == l) return true;
    if (h.size() > l.size() && h.ends_with(l) && h[h.size() - l.size() - 1] == '.') return true;
  }
  return false;
}

std::vector<std::string> RspamdRequestHeaders(const Envelope& envelope,
                                              const std::string& password) {
  std::vector<std::string> out;
  auto add = [&](std::string_view name, std::string_view value) {
    std::string v = CleanHeaderValue(value);
    if (!v.empty()) out.push_back(std::string(name) + ": " + v);
  };
  add("IP", envelope.client_ip);
  add("Helo", envelope.helo);
  add("Hostname", envelope.client_hostname);
  std::string from = CleanHeaderValue(envelope.mail_from);
  add("From", from.empty() ? "<>" : from);
  for (const auto& r : envelope.rcpt) add("Rcpt", r);
  add("Queue-Id", envelope.queue_id);
  add("Password", password);
  return out;
}

Result<std::string> ParseRspamdUrl(std::string_view text) {
  std::string url(text);
  while (url.ends_with("/")) url.pop_back();
  std::string lower = Lower(url);
  size_t host_at = lower.starts_with("http://") ? 7 : lower.starts_with("https://") ? 8 : 0;
  bool clean = std::none_of(url.begin(), url.end(), [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
  });
  if (host_at == 0 || url.size() == host_at || url[host_at] == '/' || !clean) {
    return Status::InvalidArgument("\"" + std::string(text) +
                                   "\": use http://HOST[:PORT] or https://...");
  }
  return url;
}

Result<std::string> ParseMaliciousHost(std::string_view host) {
  std::string n = Lower(std::string(host));
  if (n.starts_with("*.")) n.erase(0, 2);
  if (n.starts_with(".")) n.erase(0, 1);
  while (n.ends_with(".")) n.pop_back();
  bool clean = std::none_of(n.begin(), n.end(), [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '/' || c == ':';
  });
  if (n.empty() || !clean) {
    return Status::InvalidArgument("\"" + std::string(host) + "\" is not a host name");
  }
  return n;
}

Status CheckRspamdOptions(const RspamdOptions& options) {
  MV_RETURN_IF_ERROR(ParseRspamdUrl(options.url).status().Annotate("engines.rspamd.url"));
  MV_RETURN_IF_ERROR(
      CheckPositiveDuration(options.timeout_micros).Annotate("engines.rspamd.timeout"));
  MV_RETURN_IF_ERROR(CheckPositiveSize(options.max_size).Annotate("engines.rspamd.max_size"));
  for (const auto& h : options.malicious_hosts) {
    MV_RETURN_IF_ERROR(ParseMaliciousHost(h).status().Annotate("engines.rspamd.malicious_hosts"));
  }
  return Status::Ok();
}

Result<std::unique_ptr<RspamdEngine>> RspamdEngine::Make(const RspamdOptions& options) {
  MV_RETURN_IF_ERROR(CheckRspamdOptions(options));
  MV_ASSIGN_OR_RETURN(std::string url, ParseRspamdUrl(options.url));
  RspamdOptions normalised = options;
  normalised.malicious_hosts.clear();
  for (const auto& h : options.malicious_hosts) {
    MV_ASSIGN_OR_RETURN(std::string n, ParseMaliciousHost(h));
    normalised.malicious_hosts.push_back(std::move(n));
  }
  MV_RETURN_IF_ERROR(InitCurlOnce());
  return std::unique_ptr<RspamdEngine>(new RspamdEngine(std::move(normalised), url + "/checkv2"));
}

Status RspamdEngine::Ping() {
  std::unique_ptr<CURL, CurlDeleter> handle(curl_easy_init());
  if (!handle) return Status::Unavailable("cannot create a curl handle");
  CURL* c = handle.get();
  ReplyBuffer reply;
  char errbuf[CURL_ERROR_SIZE] = {0};
  const std::string url = options_.url + "/ping";
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_PROXY, "");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(std::clamp<int64_t>(options_.timeout_micros / 1000, 1, 5000)));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &WriteReply);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    return Status::Unavailable(errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc));
  }
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  if (code != 200) return Status::Unavailable(HttpError(code, reply.body));
  return Status::Ok();
}

std::vector<Verdict> RspamdEngine::Scan(const Message& message) {
  const std::string where = "rspamd at " + options_.url + ": ";
  const uint64_t size = message.raw.size();
  if (size > options_.max_size) {
    return RspamdNotScanned("message of " + std::to_string(size) +
                            " bytes is larger than rspamd max_size (" +
                            std::to_string(options_.max_size) + " bytes): not sent");
  }
  // One handle per thread, reset for every request: its connection cache
  // keeps the connection to rspamd open between messages (keep-alive), so
  // a scan costs no TCP handshake. Milter and engine threads are long-lived.
  thread_local std::unique_ptr<CURL, CurlDeleter> thread_curl;
  if (!thread_curl) thread_curl.reset(curl_easy_init());
  if (!thread_curl) return RspamdNotScanned(where + "cannot create a curl handle");
  curl_easy_reset(thread_curl.get());
  CURL* handle = thread_curl.get();

  curl_slist* raw_list = nullptr;
  std::vector<std::string> headers = RspamdRequestHeaders(message.envelope, options_.password);
  headers.push_back("Expect:");        // rspamd does not answer 100-continue
  headers.push_back("Content-Type:");  // not a form
  for (const auto& h : headers) {
    curl_slist* next = curl_slist_append(raw_list, h.c_str());
    if (next == nullptr) {
      curl_slist_free_all(raw_list);
      return RspamdNotScanned(where + "out of memory building the request");
    }
    raw_list = next;
  }
  std::unique_ptr<curl_slist, SlistDeleter> header_list(raw_list);

  Upload upload{&message.raw, 0, {}, Status::Ok()};
  ReplyBuffer reply;
  char errbuf[CURL_ERROR_SIZE] = {0};
  long timeout_ms = static_cast<long>(std::max<int64_t>(1, options_.timeout_micros / 1000));
  CURL* c = handle;
  curl_easy_setopt(c, CURLOPT_URL, endpoint_.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_PROXY, "");  // always straight to rspamd
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(size));
  curl_easy_setopt(c, CURLOPT_READFUNCTION, &ReadBody);
  curl_easy_setopt(c, CURLOPT_READDATA, &upload);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &WriteReply);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, header_list.get());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);

  CURLcode rc = curl_easy_perform(c);
  if (!upload.status.ok()) {
    return RspamdNotScanned("cannot read the message for rspamd: " + upload.status.ToString());
  }
  if (rc != CURLE_OK) {
    if (reply.overflow) {
      return RspamdNotScanned(where + "reply larger than " + std::to_string(kMaxReplyBytes) +
                              " bytes");
    }
    return RspamdNotScanned(where + (errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc)));
  }
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  if (code != 200) return RspamdNotScanned(where + HttpError(code, reply.body));
  return MapRspamdReply(reply.body, options_.malicious_hosts);
}

}  // namespace mailvault::scan
