// Status and Result<T>: how every fallible call in mailvault reports failure.
//
// Errors are values (CONVENTIONS.md §2). A Status is either OK or carries a
// named code and a one-line message meant for an operator ("segment
// 000003.seg: record at 4096 fails its checksum"). Result<T> holds either a T
// or a non-OK Status. Both are cheap to move, immutable once built and safe to
// pass between threads. No exception crosses a component boundary.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace mailvault {

enum class Code {
  kOk = 0,
  kNotFound,
  kCorruption,
  kIOError,
  kInvalidArgument,
  kUnavailable,  // the resource is held or not ready (lock, full disk)
  kPermissionDenied,
  kAlreadyExists,
  kNoSpace,  // the file system is full
};

// Lower-case name of a code ("not found"), for messages and logs.
std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status Corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
  static Status IOError(std::string m) { return {Code::kIOError, std::move(m)}; }
  static Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status PermissionDenied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
  static Status NoSpace(std::string m) { return {Code::kNoSpace, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }

  // "corruption: segment 3: bad checksum at 4096"
  std::string ToString() const;

  // Prefixes the message with context ("open store: ..."); OK stays OK.
  Status Annotate(std::string_view context) const;

  // Marks a status that is deliberately dropped.
  void IgnoreError() const {}

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok() && "Result built from an OK Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  // The error; OK when the result holds a value.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }

  T& value() & {
    assert(ok());
    return std::get<T>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<T>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<T>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace mailvault

// Returns early from the enclosing function when `expr` (a Status) is not OK.
#define MV_RETURN_IF_ERROR(expr)             \
  do {                                       \
    ::mailvault::Status mv_status_ = (expr); \
    if (!mv_status_.ok()) return mv_status_; \
  } while (0)

#define MV_CONCAT_INNER_(a, b) a##b
#define MV_CONCAT_(a, b) MV_CONCAT_INNER_(a, b)

// `MV_ASSIGN_OR_RETURN(auto x, Foo());` declares x from a Result or returns
// its Status.
#define MV_ASSIGN_OR_RETURN(lhs, expr) \
  MV_ASSIGN_OR_RETURN_IMPL_(MV_CONCAT_(mv_result_, __LINE__), lhs, expr)
#define MV_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
