// Sender (see sender.h).
#include "delivery/sender.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <tuple>

#include "delivery/outgoing.h"
#include "delivery/service.h"

namespace mailvault::delivery {
namespace {

// Entries claimed per round: small, so that the workers share a burst.
constexpr size_t kClaim = 8;
// Longest sleep: the clock may jump, and housekeeping must run.
constexpr int64_t kMaxSleepMicros = 60'000'000;
constexpr int64_t kErrorPauseMicros = 5'000'000;
constexpr int64_t kHousekeepingMicros = 3'600'000'000;

// Entries that go out in one transaction.
bool SameTransaction(const DeliveryEntry& a, const DeliveryEntry& b) {
  return std::tie(a.request, a.copy_id, a.mail_from, a.format, a.remove_message_id) ==
         std::tie(b.request, b.copy_id, b.mail_from, b.format, b.remove_message_id);
}

void Log(const DeliveryEntry& e, const index::DeliveryOutcome& o) {
  auto level = o.state == DeliveryState::kDelivered ? spdlog::level::info : spdlog::level::warn;
  spdlog::log(level, "delivery {} (copy {} to <{}>, attempt {}): {}: {}", e.id, e.copy_id, e.rcpt,
              e.attempts + 1, DeliveryStateName(o.state), o.reply);
}

}  // namespace

Result<std::unique_ptr<Sender>> Sender::Start(Env& env, Store& store,
                                              const policy::Settings& policy, index::QueueDb& queue,
                                              const crypto::ReleaseSigner& signer,
                                              const DeliveryOptions& options,
                                              ClientFactory factory) {
  MV_RETURN_IF_ERROR(CheckDeliveryOptions(options));
  std::unique_ptr<Sender> s(new Sender(env, store, policy, queue, signer, options));
  s->host_ = env.HostName();
  for (int i = 0; i < options.workers; ++i) {
    MV_ASSIGN_OR_RETURN(auto client, factory());
    s->clients_.push_back(std::move(client));
  }
  MV_ASSIGN_OR_RETURN(uint64_t requeued, queue.RequeueInterrupted(env.NowMicros()));
  if (requeued > 0) {
    spdlog::warn("delivery: {} entries were being sent when mailvaultd stopped; sending them again",
                 requeued);
  }
  for (int i = 0; i < options.workers; ++i) {
    s->workers_.emplace_back(&Sender::Work, s.get(), std::ref(*s->clients_[i]), i == 0);
  }
  return s;
}

Sender::~Sender() { Stop(); }

void Sender::Wake() {
  std::lock_guard l(mu_);
  ++wakes_;
  cv_.notify_all();
}

void Sender::Stop() {
  {
    std::lock_guard l(mu_);
    if (stopping_ && workers_.empty()) return;
    stopping_ = true;
    cv_.notify_all();
  }
  for (auto& client : clients_) client->Cancel();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  clients_.clear();  // QUIT on connections still open
  // Every worker recorded what it sent before it returned (the recording
  // worker loops until nothing is pending), so nothing is left here.
  auto requeued = queue_.RequeueInterrupted(env_.NowMicros());
  if (!requeued.ok()) spdlog::error("delivery: requeue at stop: {}", requeued.status().ToString());
}

void Sender::Record(std::vector<index::DeliveryOutcome> outcomes) {
  std::unique_lock l(mu_);
  pending_.insert(pending_.end(), std::make_move_iterator(outcomes.begin()),
                  std::make_move_iterator(outcomes.end()));
  if (recording_) return;  // the worker recording now takes these next
  recording_ = true;
  while (!pending_.empty()) {
    std::vector<index::DeliveryOutcome> batch;
    batch.swap(pending_);
    l.unlock();
    Status recorded = queue_.Record(batch, env_.NowMicros());
    if (!recorded.ok()) {
      // The entries stay `sending` and are sent again after a restart.
      spdlog::error("delivery: cannot record {} outcomes: {}", batch.size(), recorded.ToString());
    }
    l.lock();
  }
  recording_ = false;
}

void Sender::Sleep(int64_t deadline_micros, uint64_t seen_wakes) {
  std::unique_lock l(mu_);
  int64_t wait = std::clamp<int64_t>(deadline_micros - env_.NowMicros(), 0, kMaxSleepMicros);
  cv_.wait_for(l, std::chrono::microseconds(wait),
               [&] { return stopping_ || wakes_ != seen_wakes; });
}

void Sender::Work(SmtpClient& client, bool housekeeper) {
  int64_t next_housekeeping = env_.NowMicros() + kHousekeepingMicros / 60;
  for (;;) {
    uint64_t seen;
    {
      std::lock_guard l(mu_);
      if (stopping_) return;
      seen = wakes_;
    }
    int64_t now = env_.NowMicros();
    if (housekeeper && now >= next_housekeeping) {
      Housekeep();
      next_housekeeping = now + kHousekeepingMicros;
    }
    auto claimed = queue_.ClaimDue(now, kClaim);
    if (!claimed.ok()) {
      spdlog::error("delivery: cannot read the queue: {}", claimed.status().ToString());
      Sleep(now + kErrorPauseMicros, seen);
      continue;
    }
    if (claimed->empty()) {
      auto due = queue_.NextDue();
      int64_t deadline = now + kMaxSleepMicros;
      if (due.ok() && due->has_value()) deadline = std::min(deadline, **due);
      if (housekeeper) deadline = std::min(deadline, next_housekeeping);
      Sleep(deadline, seen);
      continue;
    }
    // ClaimDue orders by request and copy: each run of entries that share a
    // transaction is one group.
    const std::vector<DeliveryEntry>& all = *claimed;
    for (size_t begin = 0; begin < all.size();) {
      size_t end = begin + 1;
      while (end < all.size() && SameTransaction(all[begin], all[end])) ++end;
      {
        std::lock_guard l(mu_);
        if (stopping_) return;  // the rest stays `sending`; Stop requeues it
      }
      std::vector<DeliveryEntry> group(all.begin() + begin, all.begin() + end);
      Record(SendGroup(group, client));
      begin = end;
    }
  }
}

std::vector<index::DeliveryOutcome> Sender::AllFail(const std::vector<DeliveryEntry>& group,
                                                    const std::string& why, bool temporary) {
  // As if the relay had answered `why`: permanently (5xx, failed) or not at
  // all (deferred, retried with back-off until the lifetime ends).
  const SmtpReply reply{temporary ? 0 : 554, why};
  const Status transport = temporary ? Status::Unavailable(why) : Status::Ok();
  const int64_t now = env_.NowMicros();
  std::vector<index::DeliveryOutcome> out;
  for (const DeliveryEntry& e : group) {
    out.push_back(Classify(e, reply, transport, now, options_));
    Log(e, out.back());
  }
  return out;
}

std::vector<index::DeliveryOutcome> Sender::SendGroup(const std::vector<DeliveryEntry>& group,
                                                      SmtpClient& client) {
  const DeliveryEntry& first = group.front();
  const std::string copy = "copy " + std::to_string(first.copy_id);
  auto meta = store_.Get(first.copy_id);
  if (!meta.ok()) {
    if (meta.status().IsNotFound()) {
      return AllFail(group, copy + " is no longer in the Backup (deleted or evicted)", false);
    }
    return AllFail(group, copy + ": " + meta.status().message(), true);
  }
  if (IsInfected(*meta) && !policy_.policy().allow_infected_delivery) {
    return AllFail(group,
                   copy +
                       " is infected and delivery of infected messages is no longer allowed "
                       "(setting allow_infected_delivery)",
                   false);
  }
  auto raw = store_.Read(first.copy_id);
  if (!raw.ok()) {
    if (raw.status().IsNotFound()) {
      return AllFail(group, copy + " is no longer in the Backup (deleted or evicted)", false);
    }
    bool damaged = raw.status().IsCorruption();
    return AllFail(group, copy + " cannot be read: " + raw.status().message(), !damaged);
  }
  OutgoingMessage m;
  m.meta = *meta;
  m.raw = *raw;
  m.format = first.format;
  m.remove_message_id = first.remove_message_id;
  m.mail_from = options_.sender.empty() ? first.mail_from : options_.sender;
  for (const DeliveryEntry& e : group) m.rcpt.push_back(e.rcpt);
  m.wrapper_from =
      options_.from.empty() ? "Mail gateway <postmaster@" + host_ + ">" : options_.from;
  m.host = host_;
  m.now_micros = env_.NowMicros();
  auto message = BuildOutgoing(m, signer_);
  if (!message.ok()) return AllFail(group, copy + ": " + message.status().message(), false);

  SmtpEnvelope envelope{m.mail_from, m.rcpt};
  SmtpResult result = client.Send(envelope, *message);
  if (!result.transport.ok()) {
    std::lock_guard l(mu_);
    if (stopping_) {
      // Cut short by Stop (or failed as it began): not an attempt. The
      // entries stay `sending` and Stop puts them back to queued.
      spdlog::info("delivery: {} to {} recipients interrupted by the stop; queued again", copy,
                   group.size());
      return {};
    }
  }
  std::vector<index::DeliveryOutcome> out;
  const int64_t now = env_.NowMicros();
  for (size_t i = 0; i < group.size(); ++i) {
    out.push_back(Classify(group[i], result.ForRecipient(i), result.transport, now, options_));
    Log(group[i], out.back());
  }
  return out;
}

index::DeliveryOutcome Sender::Classify(const DeliveryEntry& e, const SmtpReply& reply,
                                        const Status& transport, int64_t now,
                                        const DeliveryOptions& o) {
  index::DeliveryOutcome out;
  out.id = e.id;
  if (reply.code >= 200 && reply.code < 300) {
    out.state = DeliveryState::kDelivered;
    out.reply = reply.text;
    return out;
  }
  if (reply.permanent()) {
    out.state = DeliveryState::kFailed;
    out.reply = reply.text;
    return out;
  }
  out.reply = reply.code != 0   ? reply.text
              : !transport.ok() ? transport.message()
                                : "the relay did not answer";
  // Back-off: retry_min doubled per earlier attempt, at most retry_max.
  int64_t backoff = o.retry_min_micros;
  for (uint32_t i = 0; i < e.attempts && backoff < o.retry_max_micros; ++i) backoff *= 2;
  backoff = std::min(backoff, o.retry_max_micros);
  if (now >= e.expires_at) {
    out.state = DeliveryState::kFailed;
    out.reply = "gave up after " + std::to_string(e.attempts + 1) + " attempts: " + out.reply;
    return out;
  }
  out.state = DeliveryState::kDeferred;
  out.next_attempt_at = std::min(now + backoff, e.expires_at);
  return out;
}

void Sender::Housekeep() {
  auto copies = queue_.FinishedCopies();
  if (!copies.ok()) return;
  std::vector<CopyId> gone;
  for (CopyId id : *copies) {
    auto meta = store_.Get(id);
    if (!meta.ok() && meta.status().IsNotFound()) gone.push_back(id);
  }
  if (gone.empty()) return;
  auto removed = queue_.ForgetFinished(gone);
  if (removed.ok()) {
    spdlog::info("delivery: forgot {} finished entries of {} copies no longer in the Backup",
                 *removed, gone.size());
  }
}

}  // namespace mailvault::delivery
