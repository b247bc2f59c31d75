// deliver and queue: putting copies into the delivery queue and looking at
// it. `deliver` goes through a running mailvaultd's API when the daemon holds
// the store (so its sender starts at once), and straight into the data dir
// otherwise; `queue` reads the queue database directly, which works either
// way. A direct `deliver` is recorded in the audit log (cli_audit.h); through
// the API, the daemon records it.
#include <memory>

#include "base/json_text.h"
#include "cli/api_client.h"
#include "cli/cli_audit.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "delivery/delivery_json.h"
#include "delivery/open_queue.h"
#include "delivery/options.h"
#include "delivery/service.h"
#include "env/data_dir.h"
#include "env/env.h"
#include "journal/audit_log.h"

namespace mailvault::cli {
namespace {

struct DeliverArgs {
  std::string data = kDefaultDataDir;
  std::vector<uint64_t> ids;
  bool original = false;
  std::vector<std::string> to;
  std::string format = "as-is";
  bool remove_message_id = false;
  bool again = false;
  std::string api;
  std::string token_file;
  bool json = false;
};

struct QueueArgs {
  std::string data = kDefaultDataDir;
  std::vector<std::string> states;
  uint64_t copy = 0;
  size_t limit = 50;
  uint64_t after = 0;
  bool json = false;
};

int PrintEnqueued(const nlohmann::json& result, bool json, const std::string& note) {
  if (json) return WriteStdout(JsonText(result, 2) + "\n").ok() ? kExitOk : kExitFailure;
  std::string out = result.value("message", std::string("Queued")) + " (request " +
                    std::to_string(result.value("request", uint64_t{0})) + "):\n";
  for (const nlohmann::json& e : result["entries"]) {
    out += "  delivery " + std::to_string(e["id"].get<uint64_t>()) + ": copy " +
           std::to_string(e["copy_id"].get<uint64_t>()) + " to " + e["rcpt"].get<std::string>() +
           (e["original"].get<bool>() ? " (original recipient)" : "") + "\n";
  }
  if (!note.empty()) out += note + "\n";
  Status s = WriteStdout(out);
  return s.ok() ? kExitOk : ReportError(s);
}

int RunDeliver(const DeliverArgs& a) {
  delivery::DeliveryRequest request;
  request.ids = a.ids;
  request.original = a.original;
  request.to = a.to;
  auto format = ParseDeliveryFormat(a.format);
  if (!format) return ReportError("--format must be as-is or as-attachment");
  request.format = *format;
  request.remove_message_id = a.remove_message_id;
  request.again = a.again;
  request.requested_by = CliAccount();
  if (!request.original && request.to.empty()) {
    return ReportError("no target: give --original and/or --to ADDR");
  }

  // Without an explicit --api, the data dir is used directly unless the
  // daemon holds it.
  if (a.api.empty()) {
    auto store = OpenForWriting(a.data);
    if (store.ok()) {
      auto keys = CommandKeys(a.data);
      if (!keys.ok()) return ReportError(keys.status());
      auto queue = delivery::OpenQueue(*PosixEnv(), DataDir(a.data), **keys, /*read_only=*/false);
      if (!queue.ok()) return ReportError(queue.status());
      auto policy = OpenSettings(a.data, /*read_only=*/true);
      if (!policy.ok()) return ReportError(policy.status());
      // The retry lifetime is the daemon's config; the default applies to
      // what is queued here.
      delivery::DeliveryService service(*PosixEnv(), **store, **policy, **queue,
                                        delivery::DeliveryOptions().lifetime_micros, nullptr);
      auto queued = service.Enqueue(request);
      std::string targets = a.original ? "original recipients" : "";
      for (const std::string& to : a.to) targets += (targets.empty() ? "" : ", ") + to;
      Status audited = AuditCli(a.data, journal::kActionDeliver, a.ids, queued.status(),
                                "to " + targets + " (" + a.format + ")");
      if (!queued.ok()) return ReportError(queued.status());
      if (!audited.ok()) return ReportError(audited);
      return PrintEnqueued(delivery::EnqueuedToJson(*queued, a.ids.size()), a.json,
                           "mailvaultd is not running: they are sent when it starts.");
    }
    if (store.status().code() != Code::kUnavailable) return ReportError(store.status());
  }
  auto api = FindApi(a.data, a.api, a.token_file);
  if (!api.ok()) return ReportError(api.status());
  auto response = PostJson(*api, "/api/v1/deliveries", delivery::RequestToJson(request));
  if (!response.ok()) return ReportError(response.status());
  if (response->status != 202) return ReportError(ResponseStatus(*response));
  return PrintEnqueued(response->body, a.json, "");
}

int RunQueue(const QueueArgs& a) {
  DeliveryQuery query;
  for (const std::string& s : a.states) {
    auto state = ParseDeliveryState(s);
    if (!state) {
      return ReportError("--state " + s + ": use queued, sending, delivered, deferred or failed");
    }
    query.states.push_back(*state);
  }
  if (a.copy != 0) query.copy_id = a.copy;
  query.limit = a.limit;
  if (a.after != 0) query.before = a.after;
  auto keys = CommandKeys(a.data);
  if (!keys.ok()) return ReportError(keys.status());
  auto queue = delivery::OpenQueue(*PosixEnv(), DataDir(a.data), **keys, /*read_only=*/true);
  DeliveryPage page;
  DeliveryCounts counts;
  if (queue.ok()) {
    auto listed = (*queue)->List(query);
    if (!listed.ok()) return ReportError(listed.status());
    page = std::move(*listed);
    auto c = (*queue)->Counts();
    if (!c.ok()) return ReportError(c.status());
    counts = *c;
  } else if (!queue.status().IsNotFound()) {
    return ReportError(queue.status());
  }
  std::string out;
  if (a.json) {
    nlohmann::json body = delivery::PageToJson(page);
    body["counts"] = delivery::CountsToJson(counts);
    out = JsonText(body, 2) + "\n";
  } else {
    out = FormatQueueTable(page, counts);
  }
  Status s = WriteStdout(out);
  return s.ok() ? kExitOk : ReportError(s);
}

}  // namespace

void AddDeliverCommands(CLI::App& app, Action* action) {
  {
    auto a = std::make_shared<DeliverArgs>();
    CLI::App* sub = app.add_subcommand(
        "deliver", "Queue copies for delivery to their original recipients and/or other addresses");
    AddDataOption(sub, &a->data);
    sub->add_option("ids", a->ids, "Copy ids")->required();
    sub->add_flag("--original", a->original, "Deliver to the copy's original recipients");
    sub->add_option("--to", a->to, "Also deliver to this address (repeatable)")
        ->allow_extra_args(false);
    sub->add_option("--format", a->format, "as-is (default) or as-attachment")
        ->check(CLI::IsMember({"as-is", "as-attachment"}));
    sub->add_flag("--remove-message-id", a->remove_message_id,
                  "as-is without the Message-ID header (may break a DKIM signature)");
    sub->add_flag("--again", a->again, "Deliver even to recipients it was already delivered to");
    sub->add_option("--api", a->api,
                    "Send the request to mailvaultd at http://HOST:PORT (default: the daemon "
                    "running on the data dir, if any)");
    sub->add_option("--token-file", a->token_file, "API token file (default DATA/api.token)");
    sub->add_flag("--json", a->json, "Print JSON");
    sub->callback([a, action] { *action = [a] { return RunDeliver(*a); }; });
  }
  {
    auto a = std::make_shared<QueueArgs>();
    CLI::App* sub = app.add_subcommand("queue", "Show the delivery queue, newest first");
    AddDataOption(sub, &a->data);
    sub->add_option("--state", a->states,
                    "Only entries in this state: queued, sending, delivered, deferred, failed "
                    "(repeatable)")
        ->allow_extra_args(false);
    sub->add_option("--copy", a->copy, "Only entries of this copy");
    sub->add_option("--limit", a->limit, "Entries per page (1-1000)")->check(CLI::Range(1, 1000));
    sub->add_option("--after", a->after, "The next page: entries older than this entry id");
    sub->add_flag("--json", a->json, "Print JSON");
    sub->callback([a, action] { *action = [a] { return RunQueue(*a); }; });
  }
}

}  // namespace mailvault::cli
