// Helpers shared by the test files.
#pragma once

#include "error.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace statemix::test {

// Bad input: f must throw statemix::Error whose message contains every phrase (the argument's
// name, what was expected, what was given); never a crash or a silent result.
template <typename F>
void expect_error(F f, const std::vector<std::string> &phrases) {
    try {
        f();
        ADD_FAILURE() << "no error thrown; expected one mentioning " << phrases[0];
    } catch (const Error &e) {
        for (const auto &ph : phrases) EXPECT_NE(std::string(e.what()).find(ph), std::string::npos) << e.what();
    }
}

}  // namespace statemix::test
