// The lowering pass that runs chosen loops backwards (generators/reverse_loops.h), on a scan whose
// result depends on the order of its loop: f(r) = f(r - 1) + r over r in [3, 13) gives the
// running sums walked upwards and f(r) = r walked downwards (each f(r - 1) still its initial 0).
#include "generators/reverse_loops.h"

#include <gtest/gtest.h>

#include <functional>
#include <regex>

using namespace Halide;
using statemix::gen::regex_literal;
using statemix::gen::ReverseLoops;
using statemix::gen::with_reversed_loops;

namespace {

constexpr int kFirst = 3, kCount = 10;

// The scan, its update's loop named "<f>.s1.r$x" (lowered: "<f>.s1.r$x.rebased", from 0), where
// <f> is the Func's name as Halide made it unique; `patterns(<f>)` as a schedule gives them
// (schedules/cpu_scan_schedules.h: reverse_channel_loops).
Buffer<int> run_scan(const std::function<std::vector<std::string>(const std::string &)> &patterns) {
    Func f("scan");
    Var x("x");
    RDom r(kFirst, kCount, "r");
    f(x) = 0;
    f(r) = f(r - 1) + r;
    Pipeline p = with_reversed_loops(Pipeline(f), patterns(regex_literal(f.name())));
    return p.realize({kFirst + kCount});
}

int running_sum(int i) { return i * (i + 1) / 2 - kFirst * (kFirst - 1) / 2; }

TEST(ReverseLoops, NamedLoopRunsFromItsLastIterationToItsFirst) {
    Buffer<int> up = run_scan([](const std::string &) { return std::vector<std::string>{}; });
    Buffer<int> down = run_scan([](const std::string &f) { return std::vector<std::string>{f + "\\.s1\\.r\\$x(\\..+)?"}; });
    for (int i = 0; i < kFirst; i++) {
        EXPECT_EQ(up(i), 0);
        EXPECT_EQ(down(i), 0);
    }
    for (int i = kFirst; i < kFirst + kCount; i++) {
        EXPECT_EQ(up(i), running_sum(i)) << "upwards, i = " << i;
        EXPECT_EQ(down(i), i) << "downwards, i = " << i;
    }
}

TEST(ReverseLoops, OtherLoopsKeepTheirOrder) {
    // A pattern must match the whole loop name: a prefix of it, another stage's loop or another
    // Func's leaves the scan's loop alone.
    for (const std::string suffix : {"\\.s1", "\\.s0\\.x(\\..+)?", "_other\\.s1\\.r\\$x(\\..+)?"}) {
        Buffer<int> out = run_scan([&](const std::string &f) { return std::vector<std::string>{f + suffix}; });
        for (int i = kFirst; i < kFirst + kCount; i++) EXPECT_EQ(out(i), running_sum(i)) << "suffix " << suffix << ", i = " << i;
    }
}

TEST(ReverseLoops, RegexLiteralMatchesOnlyTheName) {
    const std::string name = "grad.s2.v1.nm$x";
    std::regex re(regex_literal(name));
    EXPECT_TRUE(std::regex_match(name, re));
    EXPECT_FALSE(std::regex_match(std::string("gradXs2.v1.nm$x"), re));
    EXPECT_FALSE(std::regex_match(std::string("grad.s2.v1.nm"), re));
}

}  // namespace
