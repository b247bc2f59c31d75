// ApiClient over cpp-httplib's client (see api_client.h).
#include "cli/api_client.h"

#include <httplib.h>

#include "base/json_text.h"
#include "config/config.h"
#include "env/data_dir.h"
#include "env/env.h"

namespace mailvault::cli {
namespace {

Status BadUrl(const std::string& url) {
  return Status::InvalidArgument("--api \"" + url + "\": use http://HOST:PORT");
}

}  // namespace

Result<ApiEndpoint> FindApi(const std::string& data_dir, const std::string& url,
                            const std::string& token_file) {
  Env* env = PosixEnv();
  ApiEndpoint api;
  if (!url.empty()) {
    std::string_view rest = url;
    if (!rest.starts_with("http://")) return BadUrl(url);
    rest.remove_prefix(7);
    while (rest.ends_with("/")) rest.remove_suffix(1);
    if (!config::ParseListen(rest, &api.host, &api.port).ok() || api.port == 0) return BadUrl(url);
  } else {
    const std::string port_file = DataDir(data_dir).daemon_port();
    auto text = env->ReadFile(port_file);
    if (!text.ok()) {
      return Status::Unavailable("mailvaultd does not seem to run on " + data_dir + " (no " +
                                 port_file + "); give its address with --api");
    }
    std::string t = *text;
    while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
    std::string host;
    if (!config::ParseListen(api.host + ":" + t, &host, &api.port).ok() || api.port == 0) {
      return Status::Corruption(port_file + " does not hold a port");
    }
  }
  const std::string path = token_file.empty() ? DataDir(data_dir).api_token() : token_file;
  auto token = env->ReadFile(path);
  if (!token.ok()) return token.status().Annotate("read the API token");
  api.token = *token;
  while (!api.token.empty() &&
         (api.token.back() == '\n' || api.token.back() == ' ' || api.token.back() == '\r')) {
    api.token.pop_back();
  }
  if (api.token.empty()) return Status::InvalidArgument(path + " is empty");
  return api;
}

Result<ApiResponse> PostJson(const ApiEndpoint& api, const std::string& path,
                             const nlohmann::json& body) {
  httplib::Client client(api.host, api.port);
  client.set_connection_timeout(10, 0);
  client.set_read_timeout(120, 0);
  client.set_bearer_token_auth(api.token);
  auto res = client.Post(path, JsonText(body), "application/json");
  if (!res) {
    return Status::Unavailable("cannot reach mailvaultd at " + api.host + ":" +
                               std::to_string(api.port) + ": " + httplib::to_string(res.error()));
  }
  ApiResponse out;
  out.status = res->status;
  out.body = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (out.body.is_discarded()) out.body = nullptr;
  return out;
}

Status ResponseStatus(const ApiResponse& r) {
  std::string message = "mailvaultd answered HTTP " + std::to_string(r.status);
  if (r.body.is_object() && r.body.contains("error") && r.body["error"].is_string()) {
    message = r.body["error"].get<std::string>();
  }
  switch (r.status) {
    case 400:
      return Status::InvalidArgument(message);
    case 401:
    case 403:
      return Status::PermissionDenied(message);
    case 404:
      return Status::NotFound(message);
    case 409:
      return Status::AlreadyExists(message);
    case 503:
      return Status::Unavailable(message);
    default:
      return Status::IOError(message);
  }
}

}  // namespace mailvault::cli
