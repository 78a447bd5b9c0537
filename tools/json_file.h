// Writing the CLI's --json outputs: to PATH.tmp first, then renamed over PATH, so an interrupted
// run never leaves a half-written file.
#pragma once

#include "error.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <string>

namespace statemix::cli {

inline void write_json_atomically(const std::string &path, const nlohmann::json &j) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream f(tmp);
        f << j.dump(1) << "\n";
        f.flush();
        if (!f) throw Error("--json: cannot write '" + tmp + "'");
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        throw Error("--json: cannot rename '" + tmp + "' onto '" + path + "'");
    }
}

}  // namespace statemix::cli
