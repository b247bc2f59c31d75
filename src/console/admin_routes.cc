// Health, ingest, delivery, settings, usage and the audit log.
#include <spdlog/spdlog.h>

#include "base/units.h"
#include "console/query_params.h"
#include "console/server_impl.h"
#include "delivery/delivery_json.h"

namespace mailvault::console {
namespace {

using nlohmann::json;

json SettingsToJson(const policy::SettingValues& s) {
  return {{"max_size", s.max_size},
          {"notify_free_below", s.policy.notify_free_below},
          {"allow_infected_delivery", s.policy.allow_infected_delivery},
          {"unavailable_action", policy::GetSetting(s, "unavailable_action")},
          {"html_preview", s.policy.html_preview}};
}

Result<journal::AuditQuery> ParseAuditQuery(const Params& params) {
  MV_RETURN_IF_ERROR(CheckKnownParams(
      params, {"account", "action", "copy", "result", "since", "until", "limit", "before"}));
  journal::AuditQuery q;
  MV_ASSIGN_OR_RETURN(q.account, SingleParam(params, "account"));
  MV_ASSIGN_OR_RETURN(q.action, SingleParam(params, "action"));
  MV_ASSIGN_OR_RETURN(q.result, SingleParam(params, "result"));
  MV_ASSIGN_OR_RETURN(std::string copy, SingleParam(params, "copy"));
  if (!copy.empty()) {
    MV_ASSIGN_OR_RETURN(q.copy_id, ParsePositive("copy", copy));
  }
  MV_ASSIGN_OR_RETURN(std::string since, SingleParam(params, "since"));
  if (!since.empty()) {
    MV_ASSIGN_OR_RETURN(q.since, ParseQueryTime("since", since));
  }
  MV_ASSIGN_OR_RETURN(std::string until, SingleParam(params, "until"));
  if (!until.empty()) {
    MV_ASSIGN_OR_RETURN(q.until, ParseQueryTime("until", until));
  }
  MV_ASSIGN_OR_RETURN(std::string limit, SingleParam(params, "limit"));
  if (!limit.empty()) {
    MV_ASSIGN_OR_RETURN(uint64_t n, ParsePositive("limit", limit));
    q.limit = static_cast<int>(std::min<uint64_t>(n, 1000));
  }
  MV_ASSIGN_OR_RETURN(std::string before, SingleParam(params, "before"));
  if (!before.empty()) {
    MV_ASSIGN_OR_RETURN(uint64_t n, ParsePositive("before", before));
    q.before = static_cast<int64_t>(std::min<uint64_t>(n, INT64_MAX));
  }
  return q;
}

// For the console: since when copies are refused (RFC 3339), or null.
json UnavailableSince(Store& store) {
  const Availability a = store.availability();
  return a.unavailable_since != 0 ? json(FormatRfc3339(a.unavailable_since)) : json(nullptr);
}

}  // namespace

void ConsoleServer::Impl::Health(Call& c) {
  // Whether copies are refused comes first: a Backup that refuses every
  // copy (a full disk) is unavailable although it can still be read, and
  // monitoring must see it and since when (the gateway's
  // unavailable_action is then in force).
  const Availability avail = store.availability();
  Status writable = store.Writable();
  json body = {{"status", "ok"}};
  if (avail.unavailable_since != 0 || !writable.ok()) {
    body["status"] = "unavailable";
    body["error"] = avail.unavailable_since != 0 ? avail.reason : writable.message();
    body["unavailable_since"] =
        avail.unavailable_since != 0 ? json(FormatRfc3339(avail.unavailable_since)) : json(nullptr);
    body["refused"] = avail.refused;
  }
  auto stats = store.Stats();
  if (stats.ok()) {
    body["copies"] = stats->count;
    body["bytes"] = stats->bytes;
    body["max_bytes"] = stats->max_bytes;
  } else {
    body["status"] = body["status"] == "ok" ? "error" : body["status"];
    if (!body.contains("error")) body["error"] = stats.status().message();
  }
  if (services.engines) {
    // Informational: an engine that is down does not make the Backup
    // unhealthy (mail passes unscanned by it, and the log said so at start).
    json engines = json::array();
    for (const EngineReach& e : services.engines()) {
      json one = {{"engine", e.engine}, {"address", e.address}, {"reachable", e.reachable}};
      if (!e.reachable) one["error"] = e.error;
      engines.push_back(std::move(one));
    }
    body["engines"] = std::move(engines);
  }
  if (services.directory != nullptr) {
    // Informational too: a failed sync keeps the old cache in use (and
    // sign-in works from it); monitoring sees how old it is and why.
    auto st = services.directory->State();
    auto when = [](int64_t micros) {
      return micros != 0 ? json(FormatRfc3339(micros)) : json(nullptr);
    };
    if (st.ok()) {
      body["ldap"] = {{"last_success", when(st->last_success)},
                      {"last_attempt", when(st->last_attempt)},
                      {"last_error", st->last_error.empty() ? json(nullptr) : json(st->last_error)},
                      {"server", st->server},
                      {"users", st->users},
                      {"mailboxes", st->mailboxes},
                      {"groups", st->groups},
                      {"delegations", st->delegations},
                      {"skipped", st->skipped}};
    } else {
      body["ldap"] = {{"error", st.status().message()}};
    }
  }
  SendJson(c.res, body["status"] == "ok" ? 200 : 503, body);
}

void ConsoleServer::Impl::PostDeliveries(Call& c) {
  if (services.deliveries == nullptr) return SendError(c.res, 503, "delivery is not available");
  if (c.who.personal) return PersonalDeliveries(c);
  delivery::DeliveryRequest request;
  Status s = delivery::ParseRequestJson(c.req.body, &request);
  if (!s.ok()) return SendError(c.res, 400, s.message());
  c.copy_ids = request.ids;
  std::string to;
  for (const std::string& a : request.to) to += (to.empty() ? "" : ", ") + a;
  c.detail = std::string(request.original ? "original recipients" : "") +
             (request.original && !to.empty() ? " + " : "") + to + "; " +
             std::string(DeliveryFormatName(request.format));
  if (!request.to.empty() && !Has(c.who.permissions, Permission::kDeliverOther)) {
    return SendError(c.res, 403,
                     "the role " + c.who.role +
                         " may deliver only to the original recipients (not to other addresses)");
  }
  request.requested_by =
      c.who.via_session ? "console:" + c.who.account : "api:" + c.req.remote_addr;
  auto queued = services.deliveries->Enqueue(request);
  if (!queued.ok()) {
    spdlog::warn("delivery request by {}: {}", request.requested_by, queued.status().ToString());
    return SendError(c.res, HttpStatusFor(queued.status()), queued.status().message());
  }
  spdlog::info("delivery request {} by {}: {} entries queued", queued->request,
               request.requested_by, queued->entries.size());
  SendJson(c.res, 202, delivery::EnqueuedToJson(*queued, request.ids.size()));
}

void ConsoleServer::Impl::GetDeliveries(Call& c) {
  if (services.deliveries == nullptr) return SendError(c.res, 503, "delivery is not available");
  auto query = ParseDeliveryQuery(c.req.params);
  if (!query.ok()) return SendError(c.res, 400, query.status().message());
  auto page = services.deliveries->List(*query);
  if (!page.ok()) return SendStatus(c.res, page.status());
  auto counts = services.deliveries->Counts();
  if (!counts.ok()) return SendStatus(c.res, counts.status());
  json body = delivery::PageToJson(*page);
  body["counts"] = delivery::CountsToJson(*counts);
  SendJson(c.res, 200, body);
}

namespace {

// The personal Backup's settings as the settings API shows them: flat
// "personal.*" keys, booleans and the format name.
Status AddPersonalSettings(directory::Accounts* accounts, json* out) {
  if (accounts == nullptr) return Status::Ok();
  MV_ASSIGN_OR_RETURN(directory::PersonalSettings p, accounts->GetPersonalSettings());
  for (const std::string& key : directory::PersonalSettingNames()) {
    const std::string v = directory::GetPersonalSetting(p, key);
    (*out)[key] = v == "yes" ? json(true) : v == "no" ? json(false) : json(v);
  }
  return Status::Ok();
}

}  // namespace

void ConsoleServer::Impl::GetSettings(Call& c) {
  json out = SettingsToJson(settings.Values(store));
  if (Status s = AddPersonalSettings(services.accounts, &out); !s.ok()) {
    return SendStatus(c.res, s);
  }
  SendJson(c.res, 200, out);
}

void ConsoleServer::Impl::PutSettings(Call& c) {
  json body = json::parse(c.req.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object() || body.empty()) {
    return SendError(c.res, 400, "send a JSON object with the settings to change");
  }
  const policy::SettingValues before = settings.Values(store);
  policy::SettingValues next = before;
  // personal.* keys live in the accounts database (directory), not in the
  // store's settings.
  directory::PersonalSettings personal_before;
  if (services.accounts != nullptr) {
    auto p = services.accounts->GetPersonalSettings();
    if (!p.ok()) return SendStatus(c.res, p.status());
    personal_before = *p;
  }
  directory::PersonalSettings personal_next = personal_before;
  bool personal_changed = false;
  std::vector<std::string> warnings;
  std::string changes;
  for (const auto& [key, value] : body.items()) {
    std::string text;
    if (value.is_string()) {
      text = value.get<std::string>();
    } else if (value.is_boolean()) {
      text = value.get<bool>() ? "yes" : "no";
    } else if (value.is_number_unsigned()) {
      text = std::to_string(value.get<uint64_t>());
    } else {
      return SendError(c.res, 400, key + ": give a string, a boolean or a byte count");
    }
    std::string warning;
    if (key.rfind("personal.", 0) == 0) {
      if (services.accounts == nullptr) {
        return SendError(c.res, 503, "no accounts database: personal settings are not available");
      }
      Status s = directory::SetPersonalSetting(&personal_next, key, text, &warning);
      if (!s.ok()) return SendError(c.res, 400, s.message());
      if (!warning.empty()) warnings.push_back(warning);
      const std::string old_value = directory::GetPersonalSetting(personal_before, key);
      const std::string new_value = directory::GetPersonalSetting(personal_next, key);
      if (old_value != new_value) {
        personal_changed = true;
        changes += (changes.empty() ? "" : ", ") + key + ": " + old_value + " -> " + new_value;
      }
      continue;
    }
    Status s = policy::SetSetting(&next, key, text, &warning);
    if (!s.ok()) return SendError(c.res, 400, s.message());
    if (!warning.empty()) warnings.push_back(warning);
    const std::string old_value = policy::GetSetting(before, key),
                      new_value = policy::GetSetting(next, key);
    if (old_value != new_value) {
      changes += (changes.empty() ? "" : ", ") + key + ": " + old_value + " -> " + new_value;
    }
  }
  c.detail = changes.empty() ? "no change" : changes;
  Status s = settings.Apply(store, next);
  if (!s.ok()) return SendStatus(c.res, s);
  if (personal_changed) {
    s = services.accounts->PutPersonalSettings(personal_next);
    if (!s.ok()) return SendStatus(c.res, s);
  }
  spdlog::info("console: {} changed settings: {}", c.who.account, c.detail);
  json out = SettingsToJson(settings.Values(store));
  if (Status ps = AddPersonalSettings(services.accounts, &out); !ps.ok()) {
    return SendStatus(c.res, ps);
  }
  out["warnings"] = warnings;
  SendJson(c.res, 200, out);
}

void ConsoleServer::Impl::GetUsage(Call& c) {
  auto stats = store.Stats();
  if (!stats.ok()) return SendStatus(c.res, stats.status());
  SendJson(c.res, 200,
           {{"copies", stats->count},
            {"bytes", stats->bytes},
            {"max_bytes", stats->max_bytes},
            {"message_bytes", stats->message_bytes},
            {"free_bytes", stats->free_bytes},
            {"segments", stats->segments},
            {"oldest", stats->oldest ? json(FormatRfc3339(stats->oldest)) : json(nullptr)},
            {"newest", stats->newest ? json(FormatRfc3339(stats->newest)) : json(nullptr)},
            {"unavailable_since", UnavailableSince(store)}});
}

void ConsoleServer::Impl::GetAudit(Call& c) {
  auto query = ParseAuditQuery(c.req.params);
  if (!query.ok()) return SendError(c.res, 400, query.status().message());
  c.detail = "list";
  auto page = services.audit->List(*query);
  if (!page.ok()) return SendStatus(c.res, page.status());
  json items = json::array();
  for (const journal::AuditEvent& e : page->items) items.push_back(journal::AuditEventToJson(e));
  SendJson(c.res, 200,
           {{"items", std::move(items)}, {"next", page->next ? json(*page->next) : json(nullptr)}});
}

void ConsoleServer::Impl::ExportAudit(Call& c) {
  auto query = ParseAuditQuery(c.req.params);
  if (!query.ok()) return SendError(c.res, 400, query.status().message());
  c.detail = "export";
  if (!AuditBeforeSending(c, "audit")) return;
  c.res.set_header("Content-Disposition", "attachment; filename=\"mailvault-audit.jsonl\"");
  journal::AuditLog* log = services.audit;
  c.res.set_chunked_content_provider("application/x-ndjson",
                                     [log, q = *query](size_t, httplib::DataSink& sink) {
                                       Status s = log->Export(q, [&sink](std::string_view line) {
                                         std::string l(line);
                                         l += '\n';
                                         if (!sink.write(l.data(), l.size()))
                                           return Status::IOError("the client went away");
                                         return Status::Ok();
                                       });
                                       if (!s.ok()) {
                                         spdlog::error("console: audit export: {}", s.ToString());
                                         return false;
                                       }
                                       sink.done();
                                       return true;
                                     });
}

}  // namespace mailvault::console
