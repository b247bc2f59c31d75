// libldap behind LdapConnection (ldap_client.h). Every wait is bounded:
// LDAP_OPT_NETWORK_TIMEOUT covers the TCP connect and the TLS handshake,
// LDAP_OPT_TIMEOUT the synchronous StartTLS, and the bind and the search
// pages are sent asynchronously and collected with ldap_result under an
// explicit deadline (a late answer is abandoned, the connection then
// dropped).
#include "directory/ldap_client.h"

#include <ldap.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "base/display_text.h"
#include "directory/ldap_filter.h"

namespace mailvault::directory {

struct LdapConnection::Handle {
  LDAP* ld = nullptr;
  // The connection's socket, from libldap's connect callback (cb), so that
  // a Deadline can cut it; -1 before the connect and after the close.
  std::atomic<int> fd{-1};
  ldap_conncb cb{};
  ~Handle() {
    if (ld != nullptr) ldap_unbind_ext_s(ld, nullptr, nullptr);
  }
};

namespace {

timeval Tv(int64_t micros) {
  if (micros < 0) micros = 0;
  return timeval{static_cast<time_t>(micros / 1'000'000),
                 static_cast<suseconds_t>(micros % 1'000'000)};
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// "Can't contact LDAP server (certificate verify failed)": libldap's text
// for `rc` and the handle's diagnostic message, shown safely.
std::string Explain(LDAP* ld, int rc) {
  std::string out = ldap_err2string(rc);
  char* diag = nullptr;
  if (ld != nullptr &&
      ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag) == LDAP_OPT_SUCCESS &&
      diag != nullptr) {
    if (*diag != '\0') out += " (" + DisplayText(diag) + ")";
    ldap_memfree(diag);
  }
  return out;
}

Status StatusOf(LDAP* ld, int rc, std::string_view what) {
  std::string m = std::string(what) + ": " + Explain(ld, rc);
  switch (rc) {
    case LDAP_INVALID_CREDENTIALS:
    case LDAP_INAPPROPRIATE_AUTH:
    case LDAP_INSUFFICIENT_ACCESS:
    case LDAP_UNWILLING_TO_PERFORM:
    case LDAP_CONFIDENTIALITY_REQUIRED:
    case LDAP_STRONG_AUTH_REQUIRED:
      return Status::PermissionDenied(m);
    case LDAP_NO_SUCH_OBJECT:
      return Status::NotFound(m);
    case LDAP_FILTER_ERROR:
    case LDAP_PARAM_ERROR:
    case LDAP_INVALID_DN_SYNTAX:
    case LDAP_UNDEFINED_TYPE:
      return Status::InvalidArgument(m);
    default:
      return Status::Unavailable(m);
  }
}

int OnConnect(LDAP*, Sockbuf* sb, LDAPURLDesc*, sockaddr*, ldap_conncb* ctx) {
  ber_socket_t fd = -1;
  ber_sockbuf_ctrl(sb, LBER_SB_OPT_GET_FD, &fd);
  static_cast<LdapConnection::Handle*>(ctx->lc_arg)->fd = fd;
  return 0;
}

void OnClose(LDAP*, Sockbuf*, ldap_conncb* ctx) {
  static_cast<LdapConnection::Handle*>(ctx->lc_arg)->fd = -1;
}

// Bounds one blocking libldap call that has no timeout of its own (the TLS
// handshake of ldaps:// waits for the server without limit): once
// `micros` have passed, the connection's socket is shut down, so the call
// fails at once. The connection is of no use after that.
class Deadline {
 public:
  Deadline(LdapConnection::Handle& h, int64_t micros)
      : h_(h), thread_([this, micros] { Watch(micros); }) {}
  ~Deadline() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Deadline(const Deadline&) = delete;
  Deadline& operator=(const Deadline&) = delete;

  bool fired() {
    std::lock_guard<std::mutex> lock(mu_);
    return fired_;
  }

 private:
  void Watch(int64_t micros) {
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, std::chrono::microseconds(micros), [this] { return done_; })) return;
    fired_ = true;
    int fd = h_.fd;
    if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
  }

  LdapConnection::Handle& h_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;   // guarded by mu_
  bool fired_ = false;  // guarded by mu_
  std::thread thread_;  // last: started once the rest is built
};

// The slack a Deadline gives libldap's own timeouts, which say more.
constexpr int64_t kDeadlineSlackMicros = 1'000'000;

// Waits for the one result of `msgid` until `deadline`; abandons it on a
// timeout. The message is the caller's to free.
Result<LDAPMessage*> WaitOne(LDAP* ld, int msgid, int64_t deadline, std::string_view what) {
  timeval tv = Tv(deadline - NowMicros());
  LDAPMessage* msg = nullptr;
  int rc = ldap_result(ld, msgid, LDAP_MSG_ONE, &tv, &msg);
  if (rc == 0) {
    ldap_abandon_ext(ld, msgid, nullptr, nullptr);
    return Status::Unavailable(std::string(what) + ": no answer within the timeout");
  }
  if (rc < 0) {
    int err = LDAP_OTHER;
    ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &err);
    return StatusOf(ld, err, what);
  }
  return msg;
}

Result<std::unique_ptr<LdapConnection::Handle>> OpenServer(const LdapServer& server,
                                                           const LdapOptions& o) {
  auto h = std::make_unique<LdapConnection::Handle>();
  int rc = ldap_initialize(&h->ld, server.url.c_str());
  if (rc != LDAP_SUCCESS) return StatusOf(nullptr, rc, "ldap_initialize");
  LDAP* ld = h->ld;
  const int v3 = LDAP_VERSION3;
  const timeval tv = Tv(o.timeout_micros);
  const int demand = LDAP_OPT_X_TLS_DEMAND;
  const int tls12 = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2;
  const int client = 0;
  bool set = ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3) == LDAP_OPT_SUCCESS &&
             ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) == LDAP_OPT_SUCCESS &&
             ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) == LDAP_OPT_SUCCESS &&
             ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv) == LDAP_OPT_SUCCESS &&
             ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) == LDAP_OPT_SUCCESS &&
             ldap_set_option(ld, LDAP_OPT_X_TLS_PROTOCOL_MIN, &tls12) == LDAP_OPT_SUCCESS;
  if (set && !o.ca_file.empty()) {
    set = ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, o.ca_file.c_str()) == LDAP_OPT_SUCCESS;
  }
  // The TLS options above take effect in a new context of this handle.
  if (set) set = ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &client) == LDAP_OPT_SUCCESS;
  h->cb = ldap_conncb{OnConnect, OnClose, h.get()};
  if (set) set = ldap_set_option(ld, LDAP_OPT_CONNECT_CB, &h->cb) == LDAP_OPT_SUCCESS;
  if (!set) {
    return Status::InvalidArgument(server.url + ": TLS set-up failed (ca_file " + o.ca_file + ": " +
                                   Explain(ld, LDAP_LOCAL_ERROR) + ")");
  }
  const std::string late = ": no answer within the timeout";
  {
    // TCP (LDAP_OPT_NETWORK_TIMEOUT), and for ldaps:// the TLS handshake
    // (only the Deadline bounds it).
    Deadline d(*h, 2 * o.timeout_micros + kDeadlineSlackMicros);
    rc = ldap_connect(ld);
    if (d.fired()) return Status::Unavailable(server.url + ": connect" + late);
  }
  if (rc != LDAP_SUCCESS) return StatusOf(ld, rc, server.url + ": connect");
  if (!server.ldaps && o.starttls) {
    {
      Deadline d(*h, o.timeout_micros + kDeadlineSlackMicros);
      rc = ldap_start_tls_s(ld, nullptr, nullptr);
      if (d.fired()) return Status::Unavailable(server.url + ": StartTLS" + late);
    }
    if (rc != LDAP_SUCCESS) {
      Status s = StatusOf(ld, rc, server.url + ": StartTLS");
      // A server that refuses StartTLS is not used in clear.
      return s.code() == Code::kUnavailable ? s : Status::Unavailable(s.message());
    }
  }
  return h;
}

}  // namespace

LdapConnection::LdapConnection(std::unique_ptr<Handle> h, std::string server,
                               const LdapOptions& options)
    : h_(std::move(h)),
      server_(std::move(server)),
      timeout_micros_(options.timeout_micros),
      page_size_(options.page_size) {}

LdapConnection::~LdapConnection() = default;

Result<std::unique_ptr<LdapConnection>> LdapConnection::Connect(const LdapOptions& options,
                                                                std::string_view bind_dn,
                                                                std::string_view password) {
  MV_RETURN_IF_ERROR(CheckLdapOptions(options));
  if (options.servers.empty()) return Status::InvalidArgument("ldap.servers: no server");
  std::string failures;
  Status last;
  for (const std::string& url : options.servers) {
    MV_ASSIGN_OR_RETURN(LdapServer server, ParseLdapServer(url));
    auto h = OpenServer(server, options);
    if (h.ok()) {
      std::unique_ptr<LdapConnection> c(new LdapConnection(std::move(*h), server.url, options));
      if (bind_dn.empty() && password.empty()) return c;  // anonymous
      Status bound = c->Bind(bind_dn, password);
      if (bound.ok()) return c;
      last = bound.Annotate(server.url + ": bind as lookup account");
      // Wrong credentials are wrong on every server: do not lock the
      // account out faster by trying them all.
      if (bound.code() == Code::kPermissionDenied) return last;
    } else {
      last = h.status();
    }
    failures += (failures.empty() ? "" : "; ") + last.message();
  }
  return Status(last.code(), "no LDAP server reachable: " + failures);
}

Status LdapConnection::Bind(std::string_view dn, std::string_view password) {
  if (password.empty()) {
    return Status::PermissionDenied("an empty password is never sent (it binds anonymously)");
  }
  if (dn.empty() || dn.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("bind: bad DN");
  }
  std::string dn_z(dn);
  std::string pw(password);
  berval cred{pw.size(), pw.data()};
  int msgid = -1;
  int rc = ldap_sasl_bind(h_->ld, dn_z.c_str(), LDAP_SASL_SIMPLE, &cred, nullptr, nullptr, &msgid);
  if (rc != LDAP_SUCCESS) return StatusOf(h_->ld, rc, "bind");
  Result<LDAPMessage*> waited = Status::Unavailable("bind: not sent");
  {
    Deadline d(*h_, timeout_micros_ + kDeadlineSlackMicros);
    waited = WaitOne(h_->ld, msgid, NowMicros() + timeout_micros_, "bind");
    if (d.fired()) {
      if (waited.ok()) ldap_msgfree(*waited);
      return Status::Unavailable("bind: no answer within the timeout");
    }
  }
  MV_ASSIGN_OR_RETURN(LDAPMessage * msg, std::move(waited));
  int err = LDAP_OTHER;
  rc = ldap_parse_result(h_->ld, msg, &err, nullptr, nullptr, nullptr, nullptr, 1);
  if (rc != LDAP_SUCCESS) return StatusOf(h_->ld, rc, "bind");
  if (err != LDAP_SUCCESS) return StatusOf(h_->ld, err, "bind");
  return Status::Ok();
}

namespace {

LdapEntry ReadEntry(LDAP* ld, LDAPMessage* e) {
  LdapEntry out;
  if (char* dn = ldap_get_dn(ld, e)) {
    out.dn = dn;
    ldap_memfree(dn);
  }
  BerElement* ber = nullptr;
  for (char* a = ldap_first_attribute(ld, e, &ber); a != nullptr;
       a = ldap_next_attribute(ld, e, ber)) {
    std::vector<std::string>& values = out.attributes[AttributeBase(a)];
    if (berval** v = ldap_get_values_len(ld, e, a)) {
      for (berval** p = v; *p != nullptr; ++p) values.emplace_back((*p)->bv_val, (*p)->bv_len);
      ldap_value_free_len(v);
    }
    ldap_memfree(a);
  }
  if (ber != nullptr) ber_free(ber, 0);
  return out;
}

}  // namespace

Status LdapConnection::Search(std::string_view base, std::string_view filter,
                              const std::vector<std::string>& attributes,
                              const std::function<Status(LdapEntry&&)>& on_entry) {
  LDAP* ld = h_->ld;
  const std::string base_z(base), filter_z(filter);
  std::vector<char*> attrs;
  for (const std::string& a : attributes) attrs.push_back(const_cast<char*>(a.c_str()));
  attrs.push_back(nullptr);
  berval cookie{0, nullptr};
  struct FreeCookie {
    berval* c;
    ~FreeCookie() {
      if (c->bv_val != nullptr) ber_memfree(c->bv_val);
    }
  } free_cookie{&cookie};
  int pages = 0;
  do {
    LDAPControl* page = nullptr;
    int rc = ldap_create_page_control(ld, page_size_, &cookie, 1, &page);
    if (rc != LDAP_SUCCESS) return StatusOf(ld, rc, "search: page control");
    LDAPControl* server_controls[] = {page, nullptr};
    timeval limit = Tv(timeout_micros_);
    int msgid = -1;
    rc = ldap_search_ext(ld, base_z.c_str(), LDAP_SCOPE_SUBTREE, filter_z.c_str(), attrs.data(), 0,
                         server_controls, nullptr, &limit, LDAP_NO_LIMIT, &msgid);
    ldap_control_free(page);
    if (rc != LDAP_SUCCESS) return StatusOf(ld, rc, "search " + filter_z);
    ++pages;
    const int64_t deadline = NowMicros() + timeout_micros_;
    const std::string what = "search " + filter_z + " page " + std::to_string(pages);
    Deadline guard(*h_, timeout_micros_ + kDeadlineSlackMicros);
    while (true) {
      auto waited = WaitOne(ld, msgid, deadline, what);
      if (guard.fired()) {
        if (waited.ok()) ldap_msgfree(*waited);
        return Status::Unavailable(what + ": no answer within the timeout");
      }
      MV_ASSIGN_OR_RETURN(LDAPMessage * msg, std::move(waited));
      int type = ldap_msgtype(msg);
      if (type == LDAP_RES_SEARCH_ENTRY) {
        LdapEntry entry = ReadEntry(ld, msg);
        ldap_msgfree(msg);
        MV_RETURN_IF_ERROR(on_entry(std::move(entry)));
        continue;
      }
      if (type != LDAP_RES_SEARCH_RESULT) {  // a reference: not chased
        ldap_msgfree(msg);
        continue;
      }
      int err = LDAP_OTHER;
      LDAPControl** controls = nullptr;
      rc = ldap_parse_result(ld, msg, &err, nullptr, nullptr, nullptr, &controls, 1);
      if (rc != LDAP_SUCCESS) return StatusOf(ld, rc, what);
      if (err != LDAP_SUCCESS) {
        if (controls != nullptr) ldap_controls_free(controls);
        Status s = StatusOf(ld, err, what);
        if (err == LDAP_SIZELIMIT_EXCEEDED || err == LDAP_TIMELIMIT_EXCEEDED) {
          return Status::Unavailable(s.message() + ": the result is incomplete");
        }
        return s;
      }
      if (cookie.bv_val != nullptr) {
        ber_memfree(cookie.bv_val);
        cookie = berval{0, nullptr};
      }
      LDAPControl* response = controls == nullptr
                                  ? nullptr
                                  : ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, controls, nullptr);
      if (response != nullptr) {
        ber_int_t estimate = 0;
        rc = ldap_parse_pageresponse_control(ld, response, &estimate, &cookie);
        if (rc != LDAP_SUCCESS) {
          ldap_controls_free(controls);
          return StatusOf(ld, rc, what + ": paged results response");
        }
      }
      if (controls != nullptr) ldap_controls_free(controls);
      break;
    }
  } while (cookie.bv_len > 0);
  return Status::Ok();
}

}  // namespace mailvault::directory
