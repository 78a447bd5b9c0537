// `statemix_tune report`: one self-contained HTML page (inline SVG, no scripts, no network) from
// the tuning database: throughput against m per algorithm next to the copy ceiling, chunk-length
// curves of the chunked forward, and tuned against default (against Halide's autoschedulers,
// where measured) per kernel, plus every entry's winner in a table.
#pragma once

#include "tuning_db.h"

#include <string>

namespace statemix::tune {

// The page as a string; `db_name` is shown as its source.
std::string render_report(const Database &db, const std::string &db_name);
// Writes it atomically to `out`.
void write_report(const Database &db, const std::string &db_name, const std::string &out);

}  // namespace statemix::tune
