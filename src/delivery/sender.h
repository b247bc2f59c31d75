// Sender: the worker threads in mailvaultd that empty the delivery queue.
//
// Each worker owns an SmtpClient (one connection to the relay, reused) and
// loops: claim a few due entries (QueueDb::ClaimDue marks them sending), send
// the entries of one copy and request as one SMTP transaction with a RCPT
// per recipient, and record each recipient's outcome:
//   2xx            delivered, with the relay's reply
//   5xx            failed, with the reply (the relay refused for good)
//   4xx, no reply  deferred (relay down, timeout, temporary refusal) and
//                  retried after retry_min, doubling up to retry_max, until
//                  the entry's lifetime ends; then failed with the last reply
// A copy deleted or evicted meanwhile fails its entries; a copy that is
// infected while allow_infected_delivery was turned off since fails them too.
// Workers sleep until the earliest next attempt or until Wake().
//
// Crash safety: an entry is recorded only after the relay answered. A crash
// before that leaves it in `sending`; Start() puts such entries back to
// queued, so they are sent (again). The only duplicate this allows is a
// message the relay accepted just before the crash, before its outcome was
// recorded (docs/delivery.md). Outcomes are group-committed: whatever the
// workers finished while one transaction ran goes into the next, so the
// window is one queue transaction long and the queue does not cost a
// transaction per message.
//
// Shutdown: Stop cancels the transactions in progress, so a relay that
// hangs does not hold it up for `[delivery] timeout`; what they were sending
// goes back to queued as after a crash.
//
// Thread-safety: Wake and Stop may be called from any thread. The borrowed
// env, store, policy, queue and signer must outlive the Sender.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "crypto/release.h"
#include "delivery/options.h"
#include "delivery/queue_db.h"
#include "delivery/smtp_client.h"
#include "env/env.h"
#include "mailvault/store.h"
#include "policy/settings.h"

namespace mailvault::delivery {

class Sender {
 public:
  using ClientFactory = std::function<Result<std::unique_ptr<SmtpClient>>()>;

  // Requeues interrupted entries and starts options.workers threads, each
  // with a client from `factory` (a test passes a fake; mailvaultd the
  // libcurl client). Fails if the queue cannot be read or a client cannot
  // be made.
  static Result<std::unique_ptr<Sender>> Start(
      Env& env, Store& store, const policy::Settings& policy, index::QueueDb& queue,
      const crypto::ReleaseSigner& signer, const DeliveryOptions& options, ClientFactory factory);
  ~Sender();  // Stop()s
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  // Something was queued: look now instead of at the next due time.
  void Wake();
  // Cancels the SMTP transactions in progress (SmtpClient::Cancel: a hung
  // relay does not hold up a shutdown), joins the workers and puts claimed
  // but unsent entries back to queued, among them the entries whose
  // transaction was cut short (unless the relay's replies had already
  // decided them). Idempotent.
  void Stop();

  // The outcome for a recipient given its reply (exposed for tests).
  static index::DeliveryOutcome Classify(const DeliveryEntry& entry, const SmtpReply& reply,
                                         const Status& transport, int64_t now,
                                         const DeliveryOptions& options);

 private:
  Sender(Env& env, Store& store, const policy::Settings& policy, index::QueueDb& queue,
         const crypto::ReleaseSigner& signer, DeliveryOptions options)
      : env_(env),
        store_(store),
        policy_(policy),
        queue_(queue),
        signer_(signer),
        options_(std::move(options)) {}

  void Work(SmtpClient& client, bool housekeeper);
  // Sends one copy to the entries (same request, copy, sender and format).
  std::vector<index::DeliveryOutcome> SendGroup(const std::vector<DeliveryEntry>& group,
                                                SmtpClient& client);
  std::vector<index::DeliveryOutcome> AllFail(const std::vector<DeliveryEntry>& group,
                                              const std::string& why, bool temporary);
  // Hands outcomes to the group commit: the first worker to find none in
  // progress records everything pending (its own and others') in one
  // transaction, repeating while more arrived; the others go on sending.
  void Record(std::vector<index::DeliveryOutcome> outcomes);
  void Housekeep();
  // Sleeps until `deadline_micros`, a wake or stop.
  void Sleep(int64_t deadline_micros, uint64_t seen_wakes);

  Env& env_;
  Store& store_;
  const policy::Settings& policy_;
  index::QueueDb& queue_;
  const crypto::ReleaseSigner& signer_;
  const DeliveryOptions options_;
  std::string host_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;                        // guarded by mu_
  uint64_t wakes_ = 0;                           // guarded by mu_
  std::vector<index::DeliveryOutcome> pending_;  // sent, not yet recorded; guarded by mu_
  bool recording_ = false;                       // a worker is recording; guarded by mu_
  // One per worker; they outlive the workers (Stop cancels them while the
  // workers may still use them). Set before the workers start.
  std::vector<std::unique_ptr<SmtpClient>> clients_;
  std::vector<std::thread> workers_;
};

}  // namespace mailvault::delivery
