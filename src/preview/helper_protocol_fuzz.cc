// libFuzzer target for the preview helper's codecs (helper_protocol.h;
// built by tests/fuzz/CMakeLists.txt, seeds: tests/fuzz/corpus/helper_protocol/).
// The daemon decodes what a possibly compromised helper wrote, the helper
// what the daemon sent: for any bytes the decoders return an error or a
// value, never crash or allocate beyond the input, and whatever they accept
// encodes back to exactly the same bytes (one frame, no slack).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "preview/helper_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace preview = mailvault::preview;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (auto reply = preview::DecodeReply(bytes); reply.ok()) {
    if (preview::EncodeReply(*reply) != bytes) std::abort();
  }
  if (auto request = preview::DecodeRequest(bytes); request.ok()) {
    if (preview::EncodeRequest(*request) != bytes) std::abort();
  }
  return 0;
}
