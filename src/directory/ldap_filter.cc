// Filter escaping and checking by hand (both are small grammars, RFC 4515
// section 3); DN parsing by libldap (ldap_bv2dn / ldap_dn2bv), which knows
// every escape and multi-valued-RDN rule of RFC 4514.
#include "directory/ldap_filter.h"

#include <ldap.h>

namespace mailvault::directory {
namespace {

constexpr size_t kMaxFilter = 4096;
constexpr size_t kMaxAttribute = 128;
constexpr int kMaxDepth = 32;

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// descr = ALPHA *(ALPHA / DIGIT / "-"); numericoid = number 1*("." number).
bool IsDescrOrOid(std::string_view s) {
  if (s.empty()) return false;
  if (IsAlpha(s[0])) {
    for (char c : s) {
      if (!IsAlpha(c) && !IsDigit(c) && c != '-') return false;
    }
    return true;
  }
  bool digit_seen = false;
  for (char c : s) {
    if (IsDigit(c)) {
      digit_seen = true;
    } else if (c == '.' && digit_seen) {
      digit_seen = false;
    } else {
      return false;
    }
  }
  return digit_seen;
}

// A recursive-descent check of one filter (RFC 4515 section 3).
class FilterChecker {
 public:
  explicit FilterChecker(std::string_view s) : s_(s) {}

  Status Check() {
    MV_RETURN_IF_ERROR(Filter(0));
    if (pos_ != s_.size()) return Error("text after the filter's closing parenthesis");
    return Status::Ok();
  }

 private:
  Status Error(std::string_view what) const {
    return Status::InvalidArgument("bad LDAP filter at offset " + std::to_string(pos_) + ": " +
                                   std::string(what));
  }
  bool At(char c) const { return pos_ < s_.size() && s_[pos_] == c; }

  Status Filter(int depth) {
    if (depth > kMaxDepth) return Error("nested too deeply");
    if (!At('(')) return Error("expected '('");
    ++pos_;
    if (At('&') || At('|')) {
      ++pos_;
      if (!At('(')) return Error("'&' and '|' need at least one filter");
      while (At('(')) MV_RETURN_IF_ERROR(Filter(depth + 1));
    } else if (At('!')) {
      ++pos_;
      MV_RETURN_IF_ERROR(Filter(depth + 1));
    } else {
      MV_RETURN_IF_ERROR(Item());
    }
    if (!At(')')) return Error("expected ')'");
    ++pos_;
    return Status::Ok();
  }

  Status Item() {
    size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != '=' && s_[pos_] != '~' && s_[pos_] != '>' &&
           s_[pos_] != '<' && s_[pos_] != ':' && s_[pos_] != '(' && s_[pos_] != ')') {
      ++pos_;
    }
    std::string_view attr = s_.substr(start, pos_ - start);
    bool substrings_ok = false;
    if (At(':')) {
      // Extensible match: [attr] [":dn"] [":" oid] ":=" value.
      if (!attr.empty() && !IsAttributeName(attr)) return Error("bad attribute name");
      size_t assign = s_.find(":=", pos_);
      if (assign == std::string_view::npos) return Error("extensible match without ':='");
      std::string_view middle = s_.substr(pos_, assign - pos_);  // ":dn", ":rule", ":dn:rule"
      bool has_rule = false;
      while (!middle.empty()) {
        middle.remove_prefix(1);  // the ':'
        size_t next = middle.find(':');
        std::string_view part = middle.substr(0, next);
        if (part == "dn" || part == "DN") {
          if (has_rule) return Error("':dn' after the matching rule");
        } else if (IsDescrOrOid(part)) {
          has_rule = true;
        } else {
          return Error("bad extensible match rule");
        }
        middle = next == std::string_view::npos ? std::string_view() : middle.substr(next);
      }
      if (attr.empty() && !has_rule) {
        return Error("an extensible match without an attribute needs a rule");
      }
      pos_ = assign + 2;
    } else {
      if (!IsAttributeName(attr)) return Error("bad attribute name");
      if (At('=')) {
        ++pos_;
        substrings_ok = true;
      } else if ((At('~') || At('>') || At('<')) && pos_ + 1 < s_.size() && s_[pos_ + 1] == '=') {
        pos_ += 2;
      } else {
        return Error("expected '=', '~=', '>=' or '<='");
      }
    }
    return Value(substrings_ok);
  }

  Status Value(bool substrings_ok) {
    while (pos_ < s_.size() && s_[pos_] != ')') {
      char c = s_[pos_];
      if (c == '\0') return Error("NUL in a value (write \\00)");
      if (c == '(') return Error("unescaped '(' in a value (write \\28)");
      if (c == '*' && !substrings_ok) return Error("'*' in a value (write \\2a)");
      if (c == '\\') {
        if (pos_ + 2 >= s_.size() || !IsHex(s_[pos_ + 1]) || !IsHex(s_[pos_ + 2])) {
          return Error("'\\' not followed by two hex digits");
        }
        pos_ += 2;
      }
      ++pos_;
    }
    return Status::Ok();
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

std::string EscapeFilterValue(std::string_view value) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '*' || c == '(' || c == ')' || c == '\\') {
      out += '\\';
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

bool IsAttributeName(std::string_view name) {
  if (name.empty() || name.size() > kMaxAttribute) return false;
  size_t semi = name.find(';');
  if (!IsDescrOrOid(name.substr(0, semi))) return false;
  while (semi != std::string_view::npos) {
    name.remove_prefix(semi + 1);
    semi = name.find(';');
    std::string_view option = name.substr(0, semi);
    if (option.empty()) return false;
    for (char c : option) {
      if (!IsAlpha(c) && !IsDigit(c) && c != '-' && c != '=') return false;
    }
  }
  return true;
}

Result<std::string> EqualityFilter(std::string_view attr, std::string_view value) {
  if (!IsAttributeName(attr)) {
    return Status::InvalidArgument("not an LDAP attribute name: \"" + EscapeFilterValue(attr) +
                                   "\"");
  }
  return "(" + std::string(attr) + "=" + EscapeFilterValue(value) + ")";
}

Result<std::string> LoginFilter(std::string_view user_filter,
                                const std::vector<std::string>& login_attrs,
                                std::string_view login) {
  if (login.empty()) return Status::InvalidArgument("empty login name");
  if (login_attrs.empty()) return Status::InvalidArgument("no login attributes");
  std::string any = "(|";
  for (const std::string& a : login_attrs) {
    MV_ASSIGN_OR_RETURN(std::string eq, EqualityFilter(a, login));
    any += eq;
  }
  any += ")";
  if (user_filter.empty()) return any;
  return "(&" + std::string(user_filter) + any + ")";
}

Status CheckFilter(std::string_view filter) {
  if (filter.size() > kMaxFilter) {
    return Status::InvalidArgument("LDAP filter longer than " + std::to_string(kMaxFilter) +
                                   " bytes");
  }
  return FilterChecker(filter).Check();
}

Result<std::string> NormalizeDn(std::string_view dn) {
  if (dn.empty()) return std::string();
  if (dn.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("a DN cannot hold NUL");
  }
  std::string copy(dn);  // ldap_bv2dn reads a NUL-terminated value
  berval in{copy.size(), copy.data()};
  LDAPDN parsed = nullptr;
  if (ldap_bv2dn(&in, &parsed, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS) {
    return Status::InvalidArgument("not a DN: \"" + EscapeFilterValue(dn) + "\"");
  }
  berval out{0, nullptr};
  int rc = ldap_dn2bv(parsed, &out, LDAP_DN_FORMAT_LDAPV3 | LDAP_DN_PRETTY);
  ldap_dnfree(parsed);
  if (rc != LDAP_SUCCESS || out.bv_val == nullptr) {
    return Status::InvalidArgument("not a DN: \"" + EscapeFilterValue(dn) + "\"");
  }
  std::string result(out.bv_val, out.bv_len);
  ber_memfree(out.bv_val);
  for (char& c : result) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return result;
}

std::string AttributeBase(std::string_view description) {
  std::string out(description.substr(0, description.find(';')));
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace mailvault::directory
