// ApiClient: the CLI's way to a running mailvaultd, for commands that
// change what the daemon owns while it holds the store (`deliver`). Finds
// the daemon through DATA/mailvaultd.port (loopback) or an explicit base
// URL, and authenticates with the API token (DATA/api.token by default).
// One request at a time; main thread only.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "mailvault/status.h"

namespace mailvault::cli {

struct ApiEndpoint {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string token;
};

// The endpoint of the daemon on the store in `data_dir`: `url`
// ("http://HOST:PORT", may be empty: DATA/mailvaultd.port on 127.0.0.1) and
// the token from `token_file` ("" = DATA/api.token). Unavailable when the
// daemon's port file is missing (not running); PermissionDenied/NotFound
// when the token cannot be read.
Result<ApiEndpoint> FindApi(const std::string& data_dir, const std::string& url,
                            const std::string& token_file);

struct ApiResponse {
  int status = 0;
  nlohmann::json body;  // null when the body was not JSON
};

// POSTs `body` as JSON; Unavailable when the daemon cannot be reached.
Result<ApiResponse> PostJson(const ApiEndpoint& api, const std::string& path,
                             const nlohmann::json& body);

// The Status for an error response: its "error" text, with a code from the
// HTTP status (400 InvalidArgument, 403 PermissionDenied, 404 NotFound, 409
// AlreadyExists, 503 Unavailable, else IOError).
Status ResponseStatus(const ApiResponse& response);

}  // namespace mailvault::cli
