// Writing the CLI's --json outputs atomically (runtime/file_io.h), so an interrupted run never
// leaves a half-written file.
#pragma once

#include "error.h"
#include "file_io.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <string>

namespace statemix::cli {

inline void write_json_atomically(const std::string &path, const nlohmann::json &j) {
    write_file_atomic(path, j.dump(1) + "\n");
}

}  // namespace statemix::cli
