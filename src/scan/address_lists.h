// AddressListEngine: the site's sender black and white lists, the built-in
// "blacklist" scan type.
//
// Entries (ListOptions) are addresses ("user@example.com"), domains
// ("example.com": that domain and its subdomains) and exact domains
// ("@example.com": only that domain), matched case-insensitively.
//
// Which sender is checked. Both the envelope sender (MAIL FROM) and the
// address(es) of the header From field, because each alone is easy to
// forge and they are forged independently:
//   - black: the message is blacklisted if ANY of them is on the black list
//     (a spammer cannot hide a listed From behind a clean envelope, or the
//     other way round);
//   - white: the message is whitelisted only if the envelope sender AND
//     every header From address are on the white list, so forging one of
//     them onto a trusted address does not bypass the other engines
//     (whitelisting drops Anti-Spam verdicts). Mail relayed by a list
//     server whose envelope sender is the list's needs the list whitelisted
//     too; that is the price.
//   - white wins over black. The null sender ("") matches nothing, so a
//     bounce is never whitelisted, but its header From can be blacklisted.
// If the header cannot be read (I/O error of the source), only the envelope
// is checked for black, nothing is whitelisted, and `error` says why (the
// label stays "" or "blacklisted": "blacklist" has no not-scanned label).
//
// Verdicts: {engine "blacklist", label "blacklisted", detail naming the
// address and the entry} or {label "", whitelisted = true, detail
// "whitelisted: ..."} or clean. Thread-safe: the lists are immutable.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mailvault/status.h"
#include "scan/engine.h"
#include "scan/options.h"

namespace mailvault::scan {

// What Make refuses, without building anything; `mailvault config check`
// calls it too. InvalidArgument naming the key ("engines.lists.blacklist:
// ...").
Status CheckListOptions(const ListOptions& options);

class AddressListEngine final : public Engine {
 public:
  // InvalidArgument naming the first entry that is not an address, a domain
  // or "@domain" (empty, spaces, control characters, <>,;"(), empty labels).
  static Result<std::unique_ptr<AddressListEngine>> Make(const ListOptions& options);

  std::string_view name() const override { return "lists"; }
  std::vector<std::string> covers() const override { return {"blacklist"}; }
  std::vector<Verdict> Scan(const Message& message) override;

  // Parsed, lower-cased entries; each map goes from the lookup key to the
  // entry as written in the options (for details).
  struct List {
    std::unordered_map<std::string, std::string> addresses;      // "user@example.com"
    std::unordered_map<std::string, std::string> domains;        // "example.com" + subdomains
    std::unordered_map<std::string, std::string> exact_domains;  // "@example.com"
  };

 private:
  AddressListEngine(List black, List white) : black_(std::move(black)), white_(std::move(white)) {}

  const List black_;
  const List white_;
};

}  // namespace mailvault::scan
