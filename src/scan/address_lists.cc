// AddressListEngine (see address_lists.h).
#include "scan/address_lists.h"

#include <algorithm>

#include "mime/parts.h"
#include "mime/text.h"

namespace mailvault::scan {
namespace {

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  size_t e = s.find_last_not_of(" \t");
  return b == std::string_view::npos ? std::string() : std::string(s.substr(b, e - b + 1));
}

// Letters, digits, '-', '_' and non-ASCII (IDN) in non-empty dot-separated
// labels. A trailing root dot is dropped by the caller.
bool ValidDomain(std::string_view d) {
  if (d.empty() || d.size() > 255) return false;
  size_t label = 0;
  for (char c : d) {
    auto u = static_cast<unsigned char>(c);
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
               u >= 0x80) {
      ++label;
    } else {
      return false;
    }
  }
  return label > 0;
}

bool ValidLocal(std::string_view l) {
  if (l.empty() || l.size() > 256) return false;
  return std::none_of(l.begin(), l.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7F || c == '<' || c == '>' || c == ',' || c == ';' || c == '"' ||
           c == '(' || c == ')' || c == '@';
  });
}

std::string StripRootDot(std::string s) {
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

Status AddEntry(std::string_view written, AddressListEngine::List* list) {
  std::string e = StripRootDot(mime::AsciiLower(Trim(written)));
  auto bad = [&] {
    return Status::InvalidArgument("address list entry \"" + mime::CleanText(written, 256) +
                                   "\" is not an address, a domain or @domain");
  };
  size_t at = e.rfind('@');
  if (at == std::string::npos) {
    if (!ValidDomain(e)) return bad();
    list->domains.emplace(e, Trim(written));
  } else if (at == 0) {
    if (!ValidDomain(e.substr(1))) return bad();
    list->exact_domains.emplace(e.substr(1), Trim(written));
  } else {
    if (!ValidLocal(e.substr(0, at)) || !ValidDomain(e.substr(at + 1))) return bad();
    list->addresses.emplace(e, Trim(written));
  }
  return Status::Ok();
}

// The entry of `list` that `address` (lower case) matches, "" if none.
std::string Match(const AddressListEngine::List& list, std::string_view address) {
  if (address.empty()) return {};
  std::string addr = StripRootDot(std::string(address));
  if (auto it = list.addresses.find(addr); it != list.addresses.end()) return it->second;
  size_t at = addr.rfind('@');
  if (at == std::string::npos) return {};
  std::string_view domain = std::string_view(addr).substr(at + 1);
  if (auto it = list.exact_domains.find(std::string(domain)); it != list.exact_domains.end()) {
    return it->second;
  }
  for (std::string_view d = domain; !d.empty();) {
    if (auto it = list.domains.find(std::string(d)); it != list.domains.end()) return it->second;
    size_t dot = d.find('.');
    if (dot == std::string_view::npos) break;
    d.remove_prefix(dot + 1);
  }
  return {};
}

struct Identity {
  std::string source;  // "sender" (envelope) or "From"
  std::string address;
};

}  // namespace

Status CheckListOptions(const ListOptions& options) {
  AddressListEngine::List scratch;
  for (const std::string& e : options.blacklist) {
    MV_RETURN_IF_ERROR(AddEntry(e, &scratch).Annotate("engines.lists.blacklist"));
  }
  for (const std::string& e : options.whitelist) {
    MV_RETURN_IF_ERROR(AddEntry(e, &scratch).Annotate("engines.lists.whitelist"));
  }
  return Status::Ok();
}

Result<std::unique_ptr<AddressListEngine>> AddressListEngine::Make(const ListOptions& options) {
  MV_RETURN_IF_ERROR(CheckListOptions(options));
  List black, white;
  for (const std::string& e : options.blacklist) MV_RETURN_IF_ERROR(AddEntry(e, &black));
  for (const std::string& e : options.whitelist) MV_RETURN_IF_ERROR(AddEntry(e, &white));
  return std::unique_ptr<AddressListEngine>(
      new AddressListEngine(std::move(black), std::move(white)));
}

std::vector<Verdict> AddressListEngine::Scan(const Message& message) {
  Verdict v;
  v.engine = "blacklist";
  std::string sender = mime::AsciiLower(Trim(message.envelope.mail_from));
  if (sender.size() >= 2 && sender.front() == '<' && sender.back() == '>') {
    sender = sender.substr(1, sender.size() - 2);
  }
  std::vector<Identity> ids;
  if (!sender.empty()) ids.push_back({"sender", sender});
  Result<std::vector<std::string>> from = mime::HeaderFromAddresses(message.raw);
  if (from.ok()) {
    for (const std::string& a : *from) ids.push_back({"From", a});
  } else {
    v.error = "cannot read the header From: " + from.status().ToString();
  }

  // White: the envelope sender and every From, all listed.
  if (!sender.empty() && from.ok()) {
    std::vector<std::string> why;
    for (const Identity& id : ids) {
      std::string entry = Match(white_, id.address);
      if (entry.empty()) {
        why.clear();
        break;
      }
      why.push_back(id.source + " " + id.address + " matches " + entry);
    }
    if (!why.empty()) {
      v.whitelisted = true;
      v.detail = "whitelisted: ";
      for (size_t i = 0; i < why.size(); ++i) v.detail += (i > 0 ? "; " : "") + why[i];
      v.details["whitelisted"] = v.detail.substr(std::string_view("whitelisted: ").size());
      return {v};
    }
  }
  // Black: any of them listed.
  for (const Identity& id : ids) {
    std::string entry = Match(black_, id.address);
    if (entry.empty()) continue;
    v.label = "blacklisted";
    v.detail = "blacklisted: " + id.source + " " + id.address + " matches " + entry;
    v.details["address"] = id.address;
    v.details["entry"] = entry;
    v.details["source"] = id.source == "sender" ? "envelope" : "header";
    break;
  }
  return {v};
}

}  // namespace mailvault::scan
