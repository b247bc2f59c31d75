// The queue database's schema (queue_db.h): creating and checking it, how a
// DeliveryEntry is written to and read from a row of `deliveries`, and the
// List query. Kept apart from queue_db.cc so that file reads as the queue's
// transactions.
//
// Stateless; every db::SqliteDb and statement passed in belongs to the caller,
// who serialises its use.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "db/schema.h"
#include "db/sqlite_db.h"
#include "mailvault/delivery.h"
#include "mailvault/status.h"

namespace mailvault::index {

// The queue's numbered migrations (meta 'queue_schema'). Version 2 added
// the consumed_releases table; a writer upgrades a version 1 file in place,
// a reader reads version 1 as it is (it reads deliveries only, which
// version 2 left as they were).
const db::Schema& QueueSchema();

// Inserts one entry; bind it with BindDelivery.
extern const char kInsertDelivery[];

// "SELECT <every column> FROM deliveries <rest>", rows for ReadDelivery.
std::string SelectDeliveries(std::string_view rest);
// "... RETURNING <every column>" for ReadDelivery.
std::string ReturningDeliveries(std::string_view update);

// States and formats are stored as their enum values, which delivery.h
// numbers explicitly; renumbering there needs a new schema version.
constexpr int64_t StateToSql(DeliveryState s) { return static_cast<int64_t>(s); }
// Whether `v` names a DeliveryState / DeliveryFormat.
bool ValidState(int64_t v);
bool ValidFormat(int64_t v);

// Unsigned values are stored bit for bit in SQLite's signed integers.
inline int64_t ToSql(uint64_t v) { return static_cast<int64_t>(v); }
// For comparisons and limits, an unsigned bound beyond int64 is clamped.
inline int64_t ClampToSql(uint64_t v) {
  return static_cast<int64_t>(std::min<uint64_t>(v, std::numeric_limits<int64_t>::max()));
}

// Binds every column of `e` to kInsertDelivery. The strings are bound
// without copying: `e` must outlive the step.
int BindDelivery(sqlite3_stmt* s, const DeliveryEntry& e);

// Reads the row the statement is on. Corruption for a state or format this
// code does not know.
Status ReadDelivery(sqlite3_stmt* s, DeliveryEntry* e);

// Steps `s` (already bound) to the end, reading every row.
Result<std::vector<DeliveryEntry>> ReadDeliveries(sqlite3_stmt* s, std::string_view what);

// The SELECT for List: q's filters, newest first, limit+1 rows (one more
// tells that a next page exists). Fills `params` with the values for ?1,
// ?2, ... The text depends only on which filters are set and on the set of
// states, so the statement cache stays small.
std::string ListSql(const DeliveryQuery& q, size_t limit, std::vector<int64_t>* params);

}  // namespace mailvault::index
