#include "intake/spool.h"

#include <algorithm>
#include <cstring>

namespace mailvault::intake {
namespace {

constexpr size_t kSealedPage = Spool::kPage + crypto::PageCipher::kOverhead;

std::unique_ptr<crypto::PageCipher> NewCipher() {
  crypto::SymmetricKey key;
  crypto::RandomBytes(key.data(), key.size());
  auto c = std::make_unique<crypto::PageCipher>(key);
  std::fill(key.begin(), key.end(), 0);
  return c;
}

void Wipe(std::string* s) {
  std::fill(s->begin(), s->end(), '\0');
  s->clear();
}

}  // namespace

Spool::Spool(Env& env, std::string dir) : env_(env), dir_(std::move(dir)) {
  crypto::InitCrypto();
  cipher_ = NewCipher();
}

Spool::~Spool() { Reset(); }

void Spool::Reset() {
  file_.reset();
  file_pages_ = 0;
  Wipe(&tail_);
  size_ = 0;
  disk_error_ = Status::Ok();
  cipher_ = NewCipher();
  std::lock_guard<std::mutex> lock(cache_mu_);
  cached_page_ = UINT64_MAX;
  Wipe(&cached_);
}

Status Spool::Append(std::string_view data) {
  tail_.append(data);
  size_ += data.size();
  if (!disk_error_.ok()) return Status::Ok();
  if (file_ == nullptr && tail_.size() <= kMemoryBytes) return Status::Ok();
  // A failed write leaves tail_ as it was: nothing is lost, it stays here.
  disk_error_ = Spill();
  return Status::Ok();
}

// Seals every full page of tail_ into the temp file.
Status Spool::Spill() {
  if (file_ == nullptr) {
    auto f = env_.NewTempFile(dir_);
    if (!f.ok()) return f.status();
    file_ = std::move(*f);
  }
  size_t full = tail_.size() / kPage;
  if (full == 0) return Status::Ok();
  std::string sealed(full * kSealedPage, '\0');
  for (size_t i = 0; i < full; ++i) {
    cipher_->Seal(reinterpret_cast<const uint8_t*>(tail_.data()) + i * kPage, kPage,
                  file_pages_ + i, reinterpret_cast<uint8_t*>(sealed.data()) + i * kSealedPage);
  }
  MV_RETURN_IF_ERROR(file_->Append(sealed));
  file_pages_ += full;
  std::memset(tail_.data(), 0, full * kPage);
  tail_.erase(0, full * kPage);
  return Status::Ok();
}

Status Spool::ReadPage(uint64_t page, std::string* plain) const {
  std::string sealed(kSealedPage, '\0');
  MV_ASSIGN_OR_RETURN(size_t n, file_->Read(page * kSealedPage, kSealedPage, sealed.data()));
  if (n != kSealedPage) return Status::IOError("spool page " + std::to_string(page) + " is short");
  plain->resize(kPage);
  if (!cipher_->Open(reinterpret_cast<const uint8_t*>(sealed.data()), kPage, page,
                     reinterpret_cast<uint8_t*>(plain->data()))) {
    return Status::Corruption("spool page " + std::to_string(page) + " fails authentication");
  }
  return Status::Ok();
}

Status Spool::ReadAt(uint64_t offset, size_t n, std::string* out) const {
  if (offset > size_) return Status::InvalidArgument("read past the end of the spooled message");
  n = static_cast<size_t>(std::min<uint64_t>(n, size_ - offset));
  const uint64_t file_bytes = file_pages_ * kPage;
  while (n > 0) {
    if (offset >= file_bytes) {
      out->append(tail_.data() + (offset - file_bytes), n);
      return Status::Ok();
    }
    uint64_t page = offset / kPage;
    size_t in_page = static_cast<size_t>(offset % kPage);
    size_t take = std::min(n, kPage - in_page);
    std::lock_guard<std::mutex> lock(cache_mu_);
    if (cached_page_ != page) {
      cached_page_ = UINT64_MAX;
      MV_RETURN_IF_ERROR(ReadPage(page, &cached_));
      cached_page_ = page;
    }
    out->append(cached_.data() + in_page, take);
    offset += take;
    n -= take;
  }
  return Status::Ok();
}

}  // namespace mailvault::intake
