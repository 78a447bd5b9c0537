#include "scratch.h"

#include "HalideRuntime.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

namespace statemix {
namespace {

// Every block starts with a header holding its capacity; the kernel gets the address after it,
// aligned as Halide's own halide_malloc aligns (128 bytes covers every vector width).
constexpr size_t kAlign = 128, kHeader = 128, kMinCached = size_t(256) << 10;  // glibc mmaps blocks from 128 KiB up

struct Cache {
    std::mutex m;
    std::multimap<size_t, void *> free_blocks;  // capacity -> block
    size_t cached = 0, limit = 0, hits = 0, misses = 0;
};

Cache &cache() {
    static Cache *c = new Cache;  // never destroyed: kernels may run during static destruction
    return *c;
}

void *block_alloc(size_t capacity) {
    void *p = std::aligned_alloc(kAlign, capacity);
    if (p) std::memcpy(p, &capacity, sizeof capacity);
    return p;
}

}  // namespace

void *scratch_malloc(void *, size_t size) {
    const size_t capacity = (size + kHeader + kAlign - 1) / kAlign * kAlign;
    void *block = nullptr;
    if (capacity >= kMinCached) {
        Cache &c = cache();
        std::lock_guard<std::mutex> lock(c.m);
        // The smallest cached block that fits, unless it is more than twice the request.
        auto it = c.free_blocks.lower_bound(capacity);
        if (it != c.free_blocks.end() && it->first <= 2 * capacity) {
            block = it->second;
            c.cached -= it->first;
            c.free_blocks.erase(it);
            c.hits++;
        } else {
            c.misses++;
        }
    }
    if (!block) block = block_alloc(capacity);
    return block ? static_cast<char *>(block) + kHeader : nullptr;
}

void scratch_free(void *, void *ptr) {
    if (!ptr) return;
    void *block = static_cast<char *>(ptr) - kHeader;
    size_t capacity;
    std::memcpy(&capacity, block, sizeof capacity);
    if (capacity >= kMinCached) {
        Cache &c = cache();
        std::lock_guard<std::mutex> lock(c.m);
        if (c.cached + capacity <= c.limit) {
            c.free_blocks.emplace(capacity, block);
            c.cached += capacity;
            return;
        }
    }
    std::free(block);
}

static size_t limit_from_env() {
    const char *s = std::getenv("STATEMIX_SCRATCH_CACHE_MB");
    if (!s || !*s) return size_t(1024) << 20;
    char *end = nullptr;
    const long long mb = std::strtoll(s, &end, 10);
    if (!end || *end != '\0' || mb < 0) {
        std::fprintf(stderr, "statemix: STATEMIX_SCRATCH_CACHE_MB must be a whole number of MiB (0 = off), got '%s'; "
                             "the scratch cache is off\n", s);
        return 0;
    }
    return size_t(mb) << 20;
}

void install_scratch_cache() {
    static std::once_flag once;
    std::call_once(once, [] {
        const size_t limit = limit_from_env();
        cache().limit = limit;
        if (limit == 0) return;
        halide_set_custom_malloc(scratch_malloc);
        halide_set_custom_free(scratch_free);
        halide_reuse_device_allocations(nullptr, true);
    });
}

namespace {
// Installed at program start as well: scratch_free reads the header scratch_malloc wrote, so no
// block from Halide's own allocator may be freed through it. Halide's runtime allocates before
// any kernel runs (the CUDA runtime, for instance, when the first device buffer is made), so
// waiting for the first kernel call would hand such blocks to scratch_free.
const bool g_installed_at_start = (install_scratch_cache(), true);
}  // namespace

void release_scratch_cache() {
    Cache &c = cache();
    std::lock_guard<std::mutex> lock(c.m);
    for (auto &[cap, block] : c.free_blocks) std::free(block);
    c.free_blocks.clear();
    c.cached = 0;
}

ScratchStats scratch_stats() {
    Cache &c = cache();
    std::lock_guard<std::mutex> lock(c.m);
    return {c.cached, c.limit, c.hits, c.misses};
}

}  // namespace statemix
