// Fuzzes the segment/record reader: arbitrary bytes as a whole record (framing,
// checksums, metadata and body decryption) and as the contents of a segment
// file (scanning with resynchronisation). Nothing may crash, hang or read out
// of bounds; whatever is accepted must decrypt consistently.
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>

#include "crypto/keyring.h"
#include "crypto/page_cipher.h"
#include "env/env.h"
#include "store/codec.h"
#include "store/record.h"
#include "store/segments.h"

using namespace mailvault;

namespace {

struct Fixture {
  std::string dir;
  std::unique_ptr<crypto::KeyRing> keys;
  std::unique_ptr<crypto::PageCipher> cipher;
  std::unique_ptr<store::Segments> segments;
};

Fixture& Get() {
  static Fixture* f = [] {
    auto* fx = new Fixture;
    char tmpl[] = "/tmp/mv_record_fuzz_XXXXXX";
    fx->dir = mkdtemp(tmpl);
    fx->keys = std::move(crypto::KeyRing::Create(*PosixEnv(), fx->dir + "/keys")).value();
    fx->cipher = std::make_unique<crypto::PageCipher>(
        fx->keys->Derived(crypto::KeyPurpose::kRecordMetadata));
    fx->segments =
        std::move(store::Segments::Open(*PosixEnv(), fx->dir + "/segments", true)).value();
    return fx;
  }();
  return *f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Fixture& fx = Get();
  std::string_view in(reinterpret_cast<const char*>(data), size);

  auto h = store::CheckRecord(in);
  if (h.ok()) {
    auto meta = store::OpenMeta(in, *fx.cipher);
    auto body = store::OpenBody(in, *fx.keys);
    (void)meta;
    (void)body;
  }

  // The same bytes behind a valid segment header, scanned.
  std::string path = fx.segments->PathOf(1);
  {
    auto f = PosixEnv()->OpenAppendable(path);
    if (!f.ok()) abort();
    if (!(*f)->Append(store::EncodeSegmentHeader(1, 0)).ok()) abort();
    if (!(*f)->Append(in).ok()) abort();
    (void)(*f)->Close();
  }
  auto reopened = store::Segments::Open(*PosixEnv(), fx.dir + "/segments", false);
  if (reopened.ok()) {
    auto r =
        (*reopened)->Scan(1, 0, [](const store::RecordHeader& rh, uint64_t, std::string_view rec) {
          if (rh.type == store::RecordType::kCopy && !store::CheckRecord(rec).ok()) abort();
          return Status::Ok();
        });
    if (r.ok() && r->end > r->file_size) abort();
  }
  unlink(path.c_str());
  return 0;
}
