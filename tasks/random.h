// Seeded random draws that are identical on every platform. std::mt19937_64's output sequence is
// fixed by the C++ standard, but std::uniform_int_distribution and friends are not (libstdc++
// and libc++ produce different numbers), so every task draws through these helpers, built only
// on the engine's raw 64-bit output.
#pragma once

#include <cstdint>
#include <random>

namespace statemix::tasks {

using Rng = std::mt19937_64;

// Which independent stream of a run seed a draw belongs to.
enum SeedStream : uint64_t {
    kTrainStream = 1,
    kTestStream = 2,
    kPermutationStream = 3,  // seq_image's pixel permutation, shared by both splits
};

// The SplitMix64 finaliser of (seed, stream): nearby seeds and streams give unrelated engine
// seeds, so train and test never share a sequence of draws.
inline uint64_t derive_seed(uint64_t seed, uint64_t stream) {
    uint64_t z = seed + 0x9e3779b97f4a7c15ull * (stream + 1);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// Uniform in [0, n) for n >= 1, without modulo bias: the lowest (2^64 mod n) raw values are
// rejected, so the number of accepted values is a multiple of n.
inline uint64_t uniform_int(Rng &rng, uint64_t n) {
    const uint64_t reject_below = (uint64_t(0) - n) % n;  // 2^64 mod n
    uint64_t x = rng();
    while (x < reject_below) x = rng();
    return x % n;
}

// Uniform in [0, 1) from the top 24 bits, so every value is an exact float (no rounding up to 1).
inline float uniform_float(Rng &rng) { return float(rng() >> 40) * 0x1.0p-24f; }

}  // namespace statemix::tasks
