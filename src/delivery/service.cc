// DeliveryService (see service.h).
#include "delivery/service.h"

#include <algorithm>
#include <set>

#include "base/units.h"
#include "mime/compose.h"

namespace mailvault::delivery {
namespace {

// A request is one administrator's selection; more than this is a script
// gone wrong rather than a selection.
constexpr size_t kMaxIds = 10'000;
constexpr size_t kMaxTargets = 1'000;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

bool Pending(DeliveryState s) {
  return s == DeliveryState::kQueued || s == DeliveryState::kSending ||
         s == DeliveryState::kDeferred;
}

// Every problem found, so one answer lists them all.
class Problems {
 public:
  void Add(Status s) { list_.push_back(std::move(s)); }
  bool empty() const { return list_.empty(); }
  Status Combined() const {
    std::string message;
    for (const Status& s : list_) message += (message.empty() ? "" : "; ") + s.message();
    return Status(list_.front().code(), message);
  }

 private:
  std::vector<Status> list_;
};

// A target not yet seen in `seen` (compared without case).
bool FirstTime(std::set<std::string>* seen, const std::string& addr) {
  return seen->insert(Lower(addr)).second;
}

}  // namespace

bool IsInfected(const CopyMeta& meta) {
  auto it = meta.statuses.find("anti-virus");
  return it != meta.statuses.end() &&
         (it->second == "infected" || it->second == "probably-infected");
}

Result<EnqueueResult> DeliveryService::Enqueue(const DeliveryRequest& r) {
  if (r.ids.empty()) return Status::InvalidArgument("no copy given: name at least one copy id");
  if (r.ids.size() > kMaxIds) {
    return Status::InvalidArgument("too many copies in one request (at most " +
                                   std::to_string(kMaxIds) + ")");
  }
  if (!r.original && r.to.empty()) {
    return Status::InvalidArgument(
        "no target: deliver to the original recipients and/or to additional addresses");
  }
  if (r.to.size() > kMaxTargets) {
    return Status::InvalidArgument("too many additional addresses (at most " +
                                   std::to_string(kMaxTargets) + ")");
  }
  Problems problems;
  std::vector<std::string> extra;
  for (const std::string& t : r.to) {
    auto addr = mime::ParseMailbox(t);
    if (addr.ok()) {
      extra.push_back(*addr);
    } else {
      problems.Add(addr.status());
    }
  }
  if (!problems.empty()) return problems.Combined();

  const policy::Policy policy = policy_.policy();
  const int64_t now = env_.NowMicros();
  std::vector<DeliveryEntry> entries;
  std::set<CopyId> done;
  for (CopyId id : r.ids) {
    if (!done.insert(id).second) continue;
    const std::string copy = "copy " + std::to_string(id);
    auto meta = store_.Get(id);
    if (!meta.ok()) {
      if (!meta.status().IsNotFound()) return meta.status().Annotate(copy);
      problems.Add(Status::NotFound("no copy with id " + std::to_string(id)));
      continue;
    }
    if (IsInfected(*meta) && !policy.allow_infected_delivery) {
      problems.Add(Status::PermissionDenied(
          copy + " is labelled anti-virus: " + meta->statuses.at("anti-virus") +
          "; delivery of infected messages is not allowed (setting allow_infected_delivery)"));
      continue;
    }
    // Targets: the original recipients first, then the additional ones.
    std::vector<std::pair<std::string, bool>> targets;
    std::set<std::string> seen;
    if (r.original) {
      if (meta->rcpt.empty()) {
        problems.Add(Status::InvalidArgument(
            copy +
            " has no original recipients (it came in without an envelope); give an "
            "address to deliver it to"));
        continue;
      }
      for (const std::string& rcpt : meta->rcpt) {
        auto addr = mime::ParseMailbox(rcpt);
        if (!addr.ok()) {
          problems.Add(Status::InvalidArgument(copy +
                                               ": original recipient cannot be delivered "
                                               "to: " +
                                               addr.status().message()));
          continue;
        }
        if (FirstTime(&seen, *addr)) targets.emplace_back(*addr, true);
      }
    }
    for (const std::string& addr : extra) {
      if (FirstTime(&seen, addr)) targets.emplace_back(addr, false);
    }
    MV_ASSIGN_OR_RETURN(std::vector<DeliveryEntry> history, queue_.ForCopy(id));
    for (const auto& [rcpt, original] : targets) {
      if (!r.again) {
        const DeliveryEntry* before = nullptr;
        for (const DeliveryEntry& h : history) {
          if ((h.state == DeliveryState::kDelivered || Pending(h.state)) &&
              Lower(h.rcpt) == Lower(rcpt)) {
            before = &h;
          }
        }
        if (before != nullptr) {
          std::string what = before->state == DeliveryState::kDelivered
                                 ? " was already delivered to " + rcpt + " (" +
                                       FormatRfc3339(before->updated_at) + ")"
                                 : " is already in the queue for " + rcpt;
          problems.Add(Status::AlreadyExists(
              copy + what +
              "; ask for it explicitly (--again, or \"again\": true) to deliver it once more"));
          continue;
        }
      }
      DeliveryEntry e;
      e.copy_id = id;
      e.rcpt = rcpt;
      e.original = original;
      e.mail_from = meta->mail_from;
      e.format = r.format;
      e.remove_message_id = r.remove_message_id;
      e.created_at = now;
      e.next_attempt_at = now;
      e.expires_at = now + lifetime_micros_;
      e.requested_by = r.requested_by;
      entries.push_back(std::move(e));
    }
  }
  if (!problems.empty()) return problems.Combined();
  MV_ASSIGN_OR_RETURN(std::vector<DeliveryEntry> stored, queue_.Enqueue(std::move(entries)));
  if (wake_) wake_();
  EnqueueResult result;
  result.request = stored.empty() ? 0 : stored.front().request;
  result.entries = std::move(stored);
  return result;
}

}  // namespace mailvault::delivery
