// The rules of ldap_mapping.h. Nested groups: every group's parents come
// from its own memberOf (the group search); a user's groups are the
// closure of its direct ones over that graph, walked breadth-first with a
// visited set, so cycles (A in B in A) end and a group is listed once.
#include "directory/ldap_mapping.h"

#include <algorithm>
#include <deque>
#include <set>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "base/utf8.h"
#include "directory/ldap_filter.h"

namespace mailvault::directory {
namespace {

constexpr size_t kMaxAddress = 320;
constexpr size_t kMaxLogin = 256;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool HasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

// A shown value in a skip line: escaped like a filter value, so NUL, CR/LF
// and bidi controls never reach a log raw.
std::string Shown(std::string_view s) {
  return "\"" + EscapeFilterValue(s.substr(0, 200)) + (s.size() > 200 ? "..." : "") + "\"";
}

class Builder {
 public:
  Builder(const LdapOptions& o, Snapshot* out) : o_(o), out_(out) {}

  void Skip(std::string line) {
    ++out_->skipped_count;
    if (out_->skipped.size() < kMaxSkipLines) out_->skipped.push_back(std::move(line));
  }

  // The entry of `e`, created on first sight; nullptr if its DN is bad.
  CachedEntry* EntryOf(const LdapEntry& e) {
    auto norm = NormalizeDn(e.dn);
    if (!norm.ok() || norm->empty()) {
      Skip("entry " + Shown(e.dn) + ": not a DN");
      return nullptr;
    }
    auto [it, fresh] = index_.emplace(*norm, out_->entries.size());
    if (fresh) {
      CachedEntry c;
      c.dn = e.dn;
      c.dn_norm = *norm;
      c.name = e.dn;
      for (const char* a : {"cn", "displayname"}) {
        const auto* v = e.Values(a);
        if (v != nullptr && !v->empty() && !(*v)[0].empty() && !HasControl((*v)[0])) {
          c.name = (*v)[0];
        }
      }
      out_->entries.push_back(std::move(c));
      directs_.emplace_back();
    }
    CachedEntry* c = &out_->entries[it->second];
    AddAddresses(e, c);
    AddDirectGroups(e, it->second);
    return c;
  }

  void AddUser(const LdapEntry& e) {
    CachedEntry* c = EntryOf(e);
    if (c == nullptr) return;
    c->is_user = true;
    for (const std::string& attr : o_.login_attributes) {
      const auto* values = e.Values(AttributeBase(attr));
      if (values == nullptr) continue;
      for (const std::string& v : *values) {
        if (v.empty() || v.size() > kMaxLogin || HasControl(v)) {
          Skip("user " + Shown(e.dn) + ": login " + attr + " " + Shown(v) + " skipped");
          continue;
        }
        std::string login = Lower(v);
        if (std::find(c->logins.begin(), c->logins.end(), login) == c->logins.end()) {
          c->logins.push_back(std::move(login));
        }
      }
    }
    MaybeMailbox(e, c);
  }

  void AddMailbox(const LdapEntry& e) {
    CachedEntry* c = EntryOf(e);
    if (c != nullptr) MaybeMailbox(e, c);
  }

  void AddGroup(const LdapEntry& e) {
    auto norm = NormalizeDn(e.dn);
    if (!norm.ok() || norm->empty()) {
      Skip("group " + Shown(e.dn) + ": not a DN");
      return;
    }
    group_dn_.emplace(*norm, e.dn);
    std::vector<std::string>& parents = parents_[*norm];
    const auto* values = e.Values(AttributeBase(o_.group_attribute));
    if (values == nullptr) return;
    for (const std::string& v : *values) {
      auto p = NormalizeDn(v);
      if (!p.ok() || p->empty()) {
        Skip("group " + Shown(e.dn) + ": " + o_.group_attribute + " " + Shown(v) + " not a DN");
        continue;
      }
      group_dn_.emplace(*p, v);
      parents.push_back(*p);
    }
  }

  void Finish() {
    ExpandGroups();
    Delegate();
    CheckLogins();
    // Sorted by key; the indexes into entries are not used after this.
    std::sort(out_->entries.begin(), out_->entries.end(),
              [](const CachedEntry& a, const CachedEntry& b) { return a.dn_norm < b.dn_norm; });
    out_->groups = group_dn_.size();
  }

 private:
  void AddAddresses(const LdapEntry& e, CachedEntry* c) {
    for (const std::string& attr : o_.address_attributes) {
      const auto* values = e.Values(AttributeBase(attr));
      if (values == nullptr) continue;
      for (const std::string& v : *values) {
        auto a = AddressOf(attr, v);
        if (!a.ok()) {
          Skip("entry " + Shown(e.dn) + ": " + attr + " " + Shown(v) + ": " + a.status().message());
          continue;
        }
        if (a->empty()) continue;  // x500:, sip:, ...
        if (std::find(c->addresses.begin(), c->addresses.end(), *a) == c->addresses.end()) {
          c->addresses.push_back(std::move(*a));
        }
      }
    }
  }

  void AddDirectGroups(const LdapEntry& e, size_t i) {
    const auto* values = e.Values(AttributeBase(o_.group_attribute));
    if (values == nullptr) return;
    for (const std::string& v : *values) {
      auto g = NormalizeDn(v);
      if (!g.ok() || g->empty()) {
        Skip("entry " + Shown(e.dn) + ": " + o_.group_attribute + " " + Shown(v) + " not a DN");
        continue;
      }
      group_dn_.emplace(*g, v);
      auto& d = directs_[i];
      if (std::find(d.begin(), d.end(), *g) == d.end()) d.push_back(*g);
    }
  }

  void MaybeMailbox(const LdapEntry& e, CachedEntry* c) {
    const auto* values = e.Values(AttributeBase(o_.delegation_attribute));
    if (values == nullptr || values->empty()) return;
    c->is_mailbox = true;
    auto& list = delegates_[c->dn_norm];
    for (const std::string& v : *values) list.push_back(v);
  }

  void ExpandGroups() {
    for (size_t i = 0; i < out_->entries.size(); ++i) {
      CachedEntry& c = out_->entries[i];
      const std::vector<std::string>& direct = directs_[i];
      std::unordered_set<std::string> seen(direct.begin(), direct.end());
      std::deque<std::string> todo(direct.begin(), direct.end());
      std::vector<std::string> all(direct.begin(), direct.end());
      while (!todo.empty()) {
        std::string g = std::move(todo.front());
        todo.pop_front();
        auto p = parents_.find(g);
        if (p == parents_.end()) continue;
        for (const std::string& parent : p->second) {
          if (seen.insert(parent).second) {
            all.push_back(parent);
            todo.push_back(parent);
          }
        }
      }
      c.direct_groups = direct.size();
      for (const std::string& g : all) {
        if (c.is_user) members_[g].push_back(c.dn_norm);
        c.groups.push_back(group_dn_.at(g));
      }
    }
  }

  void Delegate() {
    std::set<std::tuple<std::string, std::string, std::string>> seen;
    for (const auto& [mailbox, values] : delegates_) {
      const std::string& mailbox_dn = out_->entries[index_.at(mailbox)].dn;
      for (const std::string& v : values) {
        auto who = NormalizeDn(v);
        if (!who.ok() || who->empty()) {
          Skip("mailbox " + Shown(mailbox_dn) + ": " + o_.delegation_attribute + " " + Shown(v) +
               " not a DN");
          continue;
        }
        auto add = [&](const std::string& user, const std::string& via) {
          if (user == mailbox) return;
          if (seen.emplace(user, mailbox, via).second) {
            out_->delegations.push_back({user, mailbox, via});
          }
        };
        auto entry = index_.find(*who);
        if (entry != index_.end() && out_->entries[entry->second].is_user) {
          add(*who, "");
        } else if (group_dn_.contains(*who)) {
          auto m = members_.find(*who);
          if (m == members_.end()) continue;  // an empty group: nobody
          for (const std::string& user : m->second) add(user, group_dn_.at(*who));
        } else {
          Skip("mailbox " + Shown(mailbox_dn) + ": delegated to " + Shown(v) +
               ", which is no user or group of the cache");
        }
      }
    }
  }

  void CheckLogins() {
    std::unordered_map<std::string, int> count;
    for (const CachedEntry& c : out_->entries) {
      for (const std::string& l : c.logins) ++count[l];
      if (c.is_user && c.addresses.empty()) Skip("user " + Shown(c.dn) + ": no address");
    }
    for (const auto& [login, n] : count) {
      if (n > 1) {
        Skip("login " + Shown(login) + " names " + std::to_string(n) +
             " users: sign-in with it is refused");
      }
    }
  }

  const LdapOptions& o_;
  Snapshot* out_;
  std::unordered_map<std::string, size_t> index_;          // dn_norm -> entries[i]
  std::vector<std::vector<std::string>> directs_;          // per entry: direct group dn_norms
  std::unordered_map<std::string, std::string> group_dn_;  // dn_norm -> DN as spelled
  std::unordered_map<std::string, std::vector<std::string>> parents_;
  std::unordered_map<std::string, std::vector<std::string>> members_;  // transitive users
  std::map<std::string, std::vector<std::string>> delegates_;          // mailbox -> values
};

}  // namespace

const std::vector<std::string>* LdapEntry::Values(std::string_view attribute) const {
  auto it = attributes.find(std::string(attribute));
  return it == attributes.end() ? nullptr : &it->second;
}

Result<std::string> AddressOf(std::string_view attribute, std::string_view value) {
  std::string_view v = value;
  if (AttributeBase(attribute) == "proxyaddresses") {
    size_t colon = v.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return Status::InvalidArgument("no type prefix (smtp:, x500:, ...)");
    }
    if (Lower(v.substr(0, colon)) != "smtp") return std::string();
    v.remove_prefix(colon + 1);
  }
  if (v.empty() || v.size() > kMaxAddress) return Status::InvalidArgument("not an address");
  if (!IsValidUtf8(v)) return Status::InvalidArgument("not UTF-8");
  size_t at = v.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 == v.size() ||
      v.find('@', at + 1) != std::string_view::npos) {
    return Status::InvalidArgument("not an address");
  }
  for (char c : v) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || std::string_view("<>()[],;:\"\\").find(c) != std::string::npos) {
      return Status::InvalidArgument("not an address");
    }
  }
  std::string_view domain = v.substr(at + 1);
  if (domain.front() == '.' || domain.back() == '.' ||
      domain.find("..") != std::string_view::npos) {
    return Status::InvalidArgument("not an address");
  }
  return Lower(v);
}

Result<Snapshot> BuildSnapshot(const LdapOptions& options, const SyncInput& input) {
  MV_RETURN_IF_ERROR(CheckLdapOptions(options));
  Snapshot out;
  Builder b(options, &out);
  for (const LdapEntry& g : input.groups) b.AddGroup(g);
  for (const LdapEntry& u : input.users) b.AddUser(u);
  for (const LdapEntry& m : input.mailboxes) b.AddMailbox(m);
  b.Finish();
  return out;
}

}  // namespace mailvault::directory
