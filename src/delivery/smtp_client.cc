// Design note. libcurl runs the whole SMTP conversation; this file only
// sets it up and reads the outcome back. curl_easy_perform's CURLcode alone
// cannot say which recipients were refused, so the debug callback feeds a
// SmtpTranscript and the result is built from the replies. The CURLcode then
// only decides `transport`: a failure is the relay's answer (transport OK)
// when the replies decide the transaction (MAIL refused, every RCPT refused,
// the message answered), and a transport failure otherwise.
//
// The easy handle lives as long as the client so that libcurl keeps the
// connection open for the next Send (no new greeting, EHLO, TLS or AUTH).
// A relay may close an idle connection just as it is reused; when a reused
// connection fails before any reply, Send tries once more on a new one (no
// reply means no transaction began, so nothing can be delivered twice).
//
// Cancel sets a flag that libcurl's progress (xferinfo) callback reads:
// libcurl calls it while it waits on the relay too (about once a second
// when nothing moves), and a non-zero return aborts the transfer with
// CURLE_ABORTED_BY_CALLBACK, closing the connection without QUIT. So a
// relay that accepted the connection and then hangs delays a shutdown by
// about a second, not by the whole `timeout`. libcurl closes the connection
// of a transfer aborted while connecting or sending, but keeps one aborted
// while it waited for the reply to the message, and an idle one stays open
// anyway; DropConnection shuts their reading side, so the QUIT at cleanup
// after a Cancel does not wait for the reply either.
#include "delivery/smtp_client.h"

#include <curl/curl.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <utility>

#include "base/units.h"
#include "delivery/smtp_transcript.h"

namespace mailvault::delivery {

SmtpReply SmtpResult::ForRecipient(size_t i) const {
  if (!mail_from.positive()) return mail_from;
  if (i >= rcpt.size()) return {};
  if (!rcpt[i].positive()) return rcpt[i];
  return data;
}

namespace {

// Recipients per transaction, so that a whole transaction fits in the
// transcript's command limit (EHLO, STARTTLS, AUTH lines, MAIL, DATA, QUIT).
constexpr size_t kMaxRecipients = 900;

// libcurl 8.2 fixed the option's spelling; CURLOPT_* are enum values, not
// macros, so the version decides which name exists.
#if LIBCURL_VERSION_NUM >= 0x080200
constexpr CURLoption kRcptAllowFails = CURLOPT_MAIL_RCPT_ALLOWFAILS;
#else
constexpr CURLoption kRcptAllowFails = CURLOPT_MAIL_RCPT_ALLLOWFAILS;
#endif

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using Curl = std::unique_ptr<CURL, CurlDeleter>;
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

Status InitCurlOnce() {
  static std::once_flag once;
  static CURLcode rc = CURLE_OK;
  std::call_once(once, [] { rc = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (rc != CURLE_OK) {
    return Status::Unavailable(std::string("curl_global_init: ") + curl_easy_strerror(rc));
  }
  return Status::Ok();
}

// Control characters would end an SMTP command line early (CRLF injection)
// or be cut by libcurl's C strings (NUL).
bool HasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

bool IsUnreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

// libcurl takes the EHLO name from the URL path and percent-decodes it;
// address literals ("[192.0.2.1]") need their brackets encoded.
std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    if (IsUnreserved(c)) {
      out += c;
    } else {
      auto b = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
  }
  return out;
}

Result<std::string> RelayUrl(const RelayOptions& o) {
  std::string host = o.host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  bool host_ok = !host.empty() && std::all_of(host.begin(), host.end(),
                                              [](char c) { return IsUnreserved(c) || c == ':'; });
  if (!host_ok) {
    return Status::InvalidArgument("delivery.relay: bad host \"" + o.host +
                                   "\" (a name, an IPv4 address or [IPv6])");
  }
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  if (o.port < 1 || o.port > 65535) {
    return Status::InvalidArgument("delivery.relay: port " + std::to_string(o.port) +
                                   " out of range (1-65535)");
  }
  if (HasControl(o.helo) || o.helo.find(' ') != std::string::npos) {
    return Status::InvalidArgument("delivery.helo: bad EHLO name \"" + o.helo + "\"");
  }
  std::string scheme = o.tls == TlsMode::kImplicit ? "smtps://" : "smtp://";
  return scheme + host + ":" + std::to_string(o.port) + "/" + PercentEncode(o.helo);
}

// Rounded up, so that a positive timeout never becomes "none" (0).
long MicrosToUnit(int64_t micros, int64_t unit) {
  return static_cast<long>((micros + unit - 1) / unit);
}

struct Upload {
  std::string_view message;
  size_t offset = 0;
};

size_t ReadMessage(char* buffer, size_t size, size_t nitems, void* userdata) {
  auto* up = static_cast<Upload*>(userdata);
  size_t n = std::min(size * nitems, up->message.size() - up->offset);
  std::memcpy(buffer, up->message.data() + up->offset, n);
  up->offset += n;
  return n;
}

struct Conversation {
  SmtpTranscript transcript;
  bool wrote = false;  // a command went out (so a connection was there)
};

// Commands and reply lines only: message data (DATA_OUT) and TLS records
// (SSL_DATA_*) are not part of the conversation, TEXT is libcurl talking.
int OnDebug(CURL*, curl_infotype type, char* data, size_t size, void* userptr) {
  auto* conversation = static_cast<Conversation*>(userptr);
  if (conversation == nullptr) return 0;  // between Sends (QUIT at cleanup)
  if (type == CURLINFO_HEADER_OUT) {
    conversation->wrote = true;
    conversation->transcript.Sent({data, size});
  }
  if (type == CURLINFO_HEADER_IN) conversation->transcript.Received({data, size});
  return 0;
}

// libcurl's progress callback: non-zero aborts the transfer.
int OnProgress(void* userptr, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const std::atomic<bool>*>(userptr)->load() ? 1 : 0;
}

// Whether the replies alone say how the transaction ended, whatever
// libcurl returned.
bool Decided(const SmtpResult& r) {
  if (r.mail_from.code == 0) return false;
  if (!r.mail_from.positive()) return true;
  if (r.data.code != 0) return true;
  return !r.rcpt.empty() && std::all_of(r.rcpt.begin(), r.rcpt.end(), [](const SmtpReply& x) {
    return x.code != 0 && !x.positive();
  });
}

Status CheckEnvelope(const SmtpEnvelope& e) {
  if (e.rcpt.empty()) return Status::InvalidArgument("smtp: no recipients");
  if (e.rcpt.size() > kMaxRecipients) {
    return Status::InvalidArgument("smtp: " + std::to_string(e.rcpt.size()) +
                                   " recipients, at most " + std::to_string(kMaxRecipients) +
                                   " per transaction");
  }
  if (HasControl(e.mail_from)) return Status::InvalidArgument("smtp: control character in sender");
  for (const auto& r : e.rcpt) {
    if (r.empty() || HasControl(r)) {
      return Status::InvalidArgument("smtp: empty recipient or control character in one");
    }
  }
  return Status::Ok();
}

class CurlSmtpClient final : public SmtpClient {
 public:
  CurlSmtpClient(std::string relay, Curl curl) : relay_(std::move(relay)), curl_(std::move(curl)) {
    error_[0] = '\0';
  }
  // After Cancel (a shutdown), the QUIT on a connection still open does not
  // wait for the relay's answer: a hung relay would hold it for `timeout`.
  ~CurlSmtpClient() override {
    if (cancelled_.load()) DropConnection();
  }
  CurlSmtpClient(const CurlSmtpClient&) = delete;
  CurlSmtpClient& operator=(const CurlSmtpClient&) = delete;

  Status Configure(const RelayOptions& o, const std::string& url);
  SmtpResult Send(const SmtpEnvelope& envelope, std::string_view message) override;
  void Cancel() override { cancelled_.store(true); }

 private:
  // One curl_easy_perform. `stale` says it failed on a reused connection
  // before the relay said anything, so a new connection may be tried.
  SmtpResult Perform(const SmtpEnvelope& envelope, std::string_view message, bool* stale);
  // Shuts the reading side of the connection libcurl still keeps (one
  // cancelled while it waited for the reply to the message stays in its
  // cache, as does an idle one), so the QUIT at cleanup goes out and its
  // reply is not waited for: the read sees the end at once.
  void DropConnection();

  std::string relay_;  // "host:port", for messages
  Curl curl_;
  char error_[CURL_ERROR_SIZE];  // libcurl's CURLOPT_ERRORBUFFER
  std::atomic<bool> cancelled_{false};
};

Status CurlSmtpClient::Configure(const RelayOptions& o, const std::string& url) {
  CURL* c = curl_.get();
  CURLcode rc = CURLE_OK;
  auto set = [&](CURLoption opt, auto value) {
    if (rc == CURLE_OK) rc = curl_easy_setopt(c, opt, value);
  };
  set(CURLOPT_URL, url.c_str());
  set(CURLOPT_ERRORBUFFER, error_);
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_CONNECTTIMEOUT_MS, MicrosToUnit(o.connect_timeout_micros, 1000));
  set(CURLOPT_TIMEOUT_MS, MicrosToUnit(o.timeout_micros, 1000));
  // libcurl's own 120 s limit per reply would cut the wait for the reply to
  // a large message before `timeout_micros`; it also bounds the QUIT at
  // cleanup, which the overall timeout does not.
  set(CURLOPT_SERVER_RESPONSE_TIMEOUT, MicrosToUnit(o.timeout_micros, 1'000'000));
  long use_ssl = o.tls == TlsMode::kStartTls ? CURLUSESSL_ALL
                 : o.tls == TlsMode::kTry    ? CURLUSESSL_TRY
                                             : CURLUSESSL_NONE;  // kImplicit: smtps:// does it
  set(CURLOPT_USE_SSL, use_ssl);
  set(CURLOPT_SSL_VERIFYPEER, o.tls_verify ? 1L : 0L);
  set(CURLOPT_SSL_VERIFYHOST, o.tls_verify ? 2L : 0L);
  if (!o.ca_file.empty()) set(CURLOPT_CAINFO, o.ca_file.c_str());
  if (!o.username.empty()) {
    set(CURLOPT_USERNAME, o.username.c_str());
    set(CURLOPT_PASSWORD, o.password.c_str());
  }
  set(kRcptAllowFails, 1L);
  set(CURLOPT_UPLOAD, 1L);
  set(CURLOPT_READFUNCTION, &ReadMessage);
  set(CURLOPT_VERBOSE, 1L);  // the debug callback only runs in verbose mode
  set(CURLOPT_DEBUGFUNCTION, &OnDebug);
  set(CURLOPT_NOPROGRESS, 0L);  // the progress callback runs only with this off
  set(CURLOPT_XFERINFOFUNCTION, &OnProgress);
  set(CURLOPT_XFERINFODATA, static_cast<void*>(&cancelled_));
  if (rc != CURLE_OK) {
    return Status::InvalidArgument("smtp relay " + relay_ + ": " + curl_easy_strerror(rc));
  }
  return Status::Ok();
}

SmtpResult CurlSmtpClient::Send(const SmtpEnvelope& envelope, std::string_view message) {
  Status valid = CheckEnvelope(envelope);
  if (valid.ok() && cancelled_.load()) {
    valid = Status::Unavailable("smtp relay " + relay_ + ": cancelled (mailvaultd is stopping)");
  }
  if (!valid.ok()) {
    SmtpResult result;
    result.transport = valid;
    result.rcpt.resize(envelope.rcpt.size());
    return result;
  }
  bool stale = false;
  SmtpResult result = Perform(envelope, message, &stale);
  if (stale && !cancelled_.load()) {
    curl_easy_setopt(curl_.get(), CURLOPT_FRESH_CONNECT, 1L);
    result = Perform(envelope, message, &stale);
    curl_easy_setopt(curl_.get(), CURLOPT_FRESH_CONNECT, 0L);
  }
  return result;
}

void CurlSmtpClient::DropConnection() {
  curl_socket_t socket = CURL_SOCKET_BAD;
  if (curl_easy_getinfo(curl_.get(), CURLINFO_ACTIVESOCKET, &socket) == CURLE_OK &&
      socket != CURL_SOCKET_BAD) {
    ::shutdown(socket, SHUT_RD);  // libcurl still owns (and closes) it
  }
}

SmtpResult CurlSmtpClient::Perform(const SmtpEnvelope& envelope, std::string_view message,
                                   bool* stale) {
  *stale = false;
  SmtpResult result;
  result.rcpt.resize(envelope.rcpt.size());
  Slist rcpt;
  for (const auto& r : envelope.rcpt) {
    curl_slist* longer = curl_slist_append(rcpt.get(), r.c_str());
    if (longer == nullptr) {
      result.transport = Status::Unavailable("smtp: out of memory");
      return result;
    }
    if (rcpt == nullptr) rcpt.reset(longer);  // later appends return the same head
  }

  CURL* c = curl_.get();
  Conversation conversation;
  const SmtpTranscript& transcript = conversation.transcript;
  Upload upload{message};
  // Cannot fail: these options exist and take any value.
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, envelope.mail_from.c_str());  // "" gives MAIL FROM:<>
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.get());
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
  curl_easy_setopt(c, CURLOPT_READDATA, &upload);
  curl_easy_setopt(c, CURLOPT_DEBUGDATA, &conversation);
  error_[0] = '\0';
  CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_ABORTED_BY_CALLBACK) DropConnection();
  // The handle outlives this call (QUIT at cleanup runs the debug callback).
  curl_easy_setopt(c, CURLOPT_DEBUGDATA, nullptr);
  curl_easy_setopt(c, CURLOPT_READDATA, nullptr);
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, nullptr);

  result.mail_from = transcript.mail_from();
  for (size_t i = 0; i < result.rcpt.size() && i < transcript.rcpt().size(); ++i) {
    result.rcpt[i] = transcript.rcpt()[i];
  }
  result.data = transcript.data();
  if (rc == CURLE_OK || Decided(result)) return result;

  // NUM_CONNECTS is also 0 when connecting failed; a command written
  // without a new connection went out on a reused one.
  long new_connections = -1;
  curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &new_connections);
  const SmtpReply& last = transcript.last();
  *stale = new_connections == 0 && conversation.wrote && last.code == 0 && last.text.empty();

  std::string why = rc == CURLE_ABORTED_BY_CALLBACK ? "cancelled (mailvaultd is stopping)"
                    : error_[0] != '\0'             ? error_
                                                    : curl_easy_strerror(rc);
  if (last.code >= 400) why += " (relay said \"" + last.text.substr(0, 200) + "\")";
  result.transport = Status::Unavailable("smtp relay " + relay_ + ": " + why);
  return result;
}

}  // namespace

Status CheckRelayOptions(const RelayOptions& options) {
  MV_RETURN_IF_ERROR(RelayUrl(options).status());
  MV_RETURN_IF_ERROR(
      CheckPositiveDuration(options.connect_timeout_micros).Annotate("delivery.connect_timeout"));
  MV_RETURN_IF_ERROR(CheckPositiveDuration(options.timeout_micros).Annotate("delivery.timeout"));
  for (const auto& [key, value] :
       {std::pair<const char*, const std::string&>{"username", options.username},
        {"password", options.password},
        {"ca_file", options.ca_file}}) {
    if (HasControl(value)) {
      return Status::InvalidArgument(std::string("delivery.") + key + ": control characters");
    }
  }
  return Status::Ok();
}

Result<std::unique_ptr<SmtpClient>> MakeCurlSmtpClient(const RelayOptions& options) {
  MV_RETURN_IF_ERROR(CheckRelayOptions(options));
  MV_RETURN_IF_ERROR(InitCurlOnce());
  MV_ASSIGN_OR_RETURN(std::string url, RelayUrl(options));
  Curl curl(curl_easy_init());
  if (curl == nullptr) return Status::Unavailable("smtp relay: curl_easy_init failed");
  std::string relay = options.host + ":" + std::to_string(options.port);
  auto client = std::make_unique<CurlSmtpClient>(relay, std::move(curl));
  MV_RETURN_IF_ERROR(client->Configure(options, url));
  return std::unique_ptr<SmtpClient>(std::move(client));
}

}  // namespace mailvault::delivery
