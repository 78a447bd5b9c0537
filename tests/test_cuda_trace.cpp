// STATEMIX_CUDA_TRACE (runtime/cuda/launch_trace.h): the wrappers it hands Halide's CUDA runtime
// name each launch by the entry name its function was looked up by, time it between two
// synchronizations and pass every result through. Driven here with stand-in driver functions, so
// it runs without a GPU.
#include "runtime/cuda/launch_trace.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace {

using namespace statemix::cuda_trace;

int g_launches = 0, g_syncs = 0, g_launch_rc = 0;
char g_functions[2];  // two distinct CUfunction handles

int fake_get_function(void **f, void * /*module*/, const char *name) {
    *f = std::strcmp(name, "kernel_summary_s0") == 0 ? &g_functions[0] : &g_functions[1];
    return 0;
}
int fake_launch(void *, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, void *, void **, void **) {
    g_launches++;
    return g_launch_rc;
}
int fake_sync() {
    g_syncs++;
    return 0;
}

TEST(CudaTrace, NamesTimesAndPassesThroughEachLaunch) {
    if (enabled()) GTEST_SKIP() << "STATEMIX_CUDA_TRACE is set: this test would replace the driver's entry points";
    reset();
    int other = 0;
    // Entry points other than the two it traces, and missing ones, come back unchanged.
    EXPECT_EQ(wrap("cuMemAlloc_v2", &other), &other);
    EXPECT_EQ(wrap("cuLaunchKernel", nullptr), nullptr);
    auto get_function = reinterpret_cast<GetFunctionFn>(wrap("cuModuleGetFunction", reinterpret_cast<void *>(&fake_get_function)));
    auto launch = reinterpret_cast<LaunchFn>(wrap("cuLaunchKernel", reinterpret_cast<void *>(&fake_launch)));
    ASSERT_NE(reinterpret_cast<void *>(get_function), reinterpret_cast<void *>(&fake_get_function));
    ASSERT_NE(reinterpret_cast<void *>(launch), reinterpret_cast<void *>(&fake_launch));
    install(nullptr, nullptr, &fake_sync);

    void *summary = nullptr, *rescan = nullptr;
    ASSERT_EQ(get_function(&summary, nullptr, "kernel_summary_s0"), 0);
    ASSERT_EQ(get_function(&rescan, nullptr, "kernel_adj_s2"), 0);
    EXPECT_EQ(summary, &g_functions[0]);  // the driver's handle, untouched
    g_launches = g_syncs = 0;
    g_launch_rc = 0;
    for (int i = 0; i < 3; i++) EXPECT_EQ(launch(summary, 1, 1, 1, 128, 1, 1, 0, nullptr, nullptr, nullptr), 0);
    EXPECT_EQ(launch(rescan, 1, 1, 1, 128, 1, 1, 0, nullptr, nullptr, nullptr), 0);
    // A failed launch returns the driver's code and is not waited for after.
    g_launch_rc = 700;
    EXPECT_EQ(launch(rescan, 1, 1, 1, 128, 1, 1, 0, nullptr, nullptr, nullptr), 700);
    // A function looked up some other way still gets a row.
    g_launch_rc = 0;
    int unknown = 0;
    EXPECT_EQ(launch(&unknown, 1, 1, 1, 1, 1, 1, 0, nullptr, nullptr, nullptr), 0);
    EXPECT_EQ(g_launches, 6);
    EXPECT_EQ(g_syncs, 2 * 6 - 1);  // before each launch, and after each that succeeded

    const std::vector<KernelTime> ts = times();
    ASSERT_EQ(ts.size(), 3u);
    int64_t n_summary = -1, n_rescan = -1, n_unknown = -1;
    for (const KernelTime &k : ts) {
        EXPECT_GE(k.total_ms, 0.0) << k.name;
        if (k.name == "kernel_summary_s0") n_summary = k.launches;
        if (k.name == "kernel_adj_s2") n_rescan = k.launches;
        if (k.name.rfind("<function ", 0) == 0) n_unknown = k.launches;
    }
    EXPECT_EQ(n_summary, 3);
    EXPECT_EQ(n_rescan, 2);
    EXPECT_EQ(n_unknown, 1);
    for (size_t i = 1; i < ts.size(); i++) EXPECT_GE(ts[i - 1].total_ms, ts[i].total_ms) << "slowest first";
    reset();
    EXPECT_TRUE(times().empty());
}

}  // namespace
