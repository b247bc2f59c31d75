// How the CLI prints copies, pages and store figures: a fixed-width table for
// search, a field list for show, and the JSON forms (--json) built on
// CopyToJson. Pure functions returning text; thread-safe.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "mailvault/copy.h"
#include "mailvault/delivery.h"
#include "mailvault/store.h"

namespace mailvault::cli {

// DisplayText(s) (base/display_text.h: controls, bidi and invisible
// characters and invalid bytes shown as ⟨U+202E⟩ / ⟨0xFC⟩ tokens), cut to at
// most `width` code points ending in "…"; never splits a character or a
// token. Every message-derived value the CLI prints as text goes through
// this, so no terminal escape or bidi control reaches the terminal.
std::string Truncate(std::string_view s, size_t width);

// Size as the console shows it: KB of 1024 bytes, rounded up ("12 KB").
std::string SizeKb(uint64_t bytes);

// "anti-spam=spam, anti-virus=infected".
std::string StatusesText(const std::map<std::string, std::string>& statuses);

// The search table: header, one row per copy, and "next: --after N" when
// there is a next page. An empty page prints "no copies found".
std::string FormatSearchTable(const SearchPage& page);
// {"items": [...], "next": N|null}
nlohmann::json SearchPageToJson(const SearchPage& page);

// Every field of a copy, one "name: value" line each.
std::string FormatCopy(const CopyMeta& meta);

std::string FormatStats(const StoreStats& stats);
nlohmann::json StatsToJson(const StoreStats& stats);

// The delivery queue: a counts line, then one row per entry (id, copy,
// recipient, state, attempts, last change, last reply) and "next: --after
// N" when there is a next page.
std::string FormatQueueTable(const DeliveryPage& page, const DeliveryCounts& counts);

std::string FormatKeys(const std::vector<Store::KeyInfo>& keys);
nlohmann::json KeysToJson(const std::vector<Store::KeyInfo>& keys);

}  // namespace mailvault::cli
