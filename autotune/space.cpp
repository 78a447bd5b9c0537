#include "space.h"

#include "error.h"
#include "generators/scan_knob_defaults.h"

#include <algorithm>

namespace statemix::tune {

// Where generators/CMakeLists.txt compiles chunked kernels (forward and backward): every H-LRU m,
// BD-LRU m <= 4 (its summaries cost m³ per step).
bool chunked_allowed(const KernelKey &k) { return k.layer == "hlru" || k.m <= 4; }

bool is_rnn(const std::string &layer) { return layer == "elman" || layer == "wcrnn" || layer == "lstm"; }

namespace {

// The kernel direction of an RNN op's implementation (generators/rnn_kernels.cmake).
std::string rnn_kernel_direction(const KernelKey &k, bool stepped) {
    if (k.direction == "backward") return stepped ? "bstep" : "backward";
    if (k.direction == "forward_train") return stepped ? "step_train" : "forward_train";
    return stepped ? "step" : "forward";
}

bool is_stepped(const Params &p) {
    auto it = p.find("impl");
    return it != p.end() && it->second == "stepped";
}

std::vector<Params> enumerate_rnn_space(const KernelKey &k, const Params &default_params, const std::string &wide) {
    if (k.device != "cpu") throw Error("tune: the RNN cores are tuned on the CPU only, got device '" + k.device + "'");
    const bool ok_dir = k.direction == "forward" || k.direction == "backward" ||
                        (k.layer == "lstm" && k.direction == "forward_train");
    if (!ok_dir) {
        throw Error("tune: " + k.layer + " direction must be forward or backward" +
                    std::string(k.layer == "lstm" ? " or forward_train" : "") + ", got '" + k.direction + "'");
    }
    if (!(k.m == 0 || (k.m == 2 && k.layer == "wcrnn"))) {
        throw Error("tune: " + k.layer + " has m = " + (k.layer == "wcrnn" ? "2 or 0" : "0") + " (got " + std::to_string(k.m) + ")");
    }
    if (k.layer == "wcrnn" && k.direction == "backward") {
        throw Error("tune: the WCRNN backward is not tuned (its stepped form is never chosen; rnn_stepped.cpp)");
    }
    std::vector<Params> out;
    auto add = [&](const Params &p) {
        const Params n = normalize_rnn_params(p);
        if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
    };
    if (!default_params.empty()) add(default_params);
    for (const char *bt : {"0", "1", "2", "4", "8"}) {
        for (const char *strip : {"1", "2", "4"}) {
            for (const std::string &w : {std::string("0"), wide}) {
                add({{"impl", "stepped"}, {"batch_tile", bt}, {"strip", strip}, {"vector_width", w}});
            }
        }
    }
    for (const char *ku : {"4", "8"}) {
        for (const char *bt : {"1", "2", "4"}) add({{"impl", "scan"}, {"k_unroll", ku}, {"batch_tile", bt}});
    }
    return out;
}

}  // namespace

Params normalize_rnn_params(const Params &p) {
    Params n = p;
    const bool stepped = is_stepped(p);
    n["impl"] = stepped ? "stepped" : "scan";
    n.erase("algorithm");
    if (stepped) {
        n.emplace("batch_tile", "0");
        n.emplace("strip", "1");
        n.emplace("vector_width", "0");
    } else {
        n.emplace("k_unroll", "8");
        n.emplace("batch_tile", "4");
        n.emplace("vector_width", "0");
        n.erase("tile");  // CUDA only
    }
    return n;
}

std::string generator_name(const KernelKey &k, const Params &p) {
    if (!is_rnn(k.layer)) return k.generator();
    return k.layer + "_" + rnn_kernel_direction(k, is_stepped(p));
}

Params generator_params(const KernelKey &k, const Params &p) {
    Params g = p;
    if (is_rnn(k.layer)) {
        g.erase("impl");
        g["algorithm"] = "sequential";
    }
    return g;
}

std::vector<Params> enumerate_space(const KernelKey &k, const Params &default_params, int natural_lanes) {
    if (natural_lanes < 1) throw Error("tune: natural_lanes must be >= 1, got " + std::to_string(natural_lanes));
    // The second vector width: twice the target's natural one (vector_width 0). The third, half
    // of it, where that is still a whole SIMD register of 4 floats or more: a CPU whose vector
    // units are narrower than its ISA (Zen 1's 128-bit units for AVX2, Zen 4's 256-bit ones for
    // AVX-512) runs the half width as native vectors, and LLVM lowers the strided loads and
    // stores of z and dz (stride m+1) without cross-lane shuffles there (docs/benchmarks.md,
    // 2026-12-05: 1.2-1.3x at H-LRU m = 3 on the AVX2 EPYC).
    const std::string wide = std::to_string(2 * natural_lanes);
    const std::string half = natural_lanes >= 8 ? std::to_string(natural_lanes / 2) : std::string();
    if (is_rnn(k.layer)) return enumerate_rnn_space(k, default_params, wide);
    if (k.device != "cpu" && k.device != "cuda") throw Error("tune: device must be cpu or cuda, got '" + k.device + "'");
    if (k.layer != "bdlru" && k.layer != "hlru") {
        throw Error("tune: layer must be bdlru, hlru, elman, wcrnn or lstm, got '" + k.layer + "'");
    }
    if (k.direction != "forward" && k.direction != "backward") {
        throw Error("tune: direction must be forward or backward, got '" + k.direction + "'");
    }
    std::vector<Params> out;
    auto add = [&](const Params &p) {
        if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
    };
    if (!default_params.empty()) add(default_params);
    if (k.device == "cuda") {
        // tile = threads per block; unroll = time steps unrolled in the serial loop. The backward:
        // the two-pass form (the CUDA default) and the one-pass form (never run on a GPU yet).
        for (const char *t : {"64", "128", "256", "512"}) {
            for (const char *u : {"1", "2", "4"}) {
                Params p{{"algorithm", "sequential"}, {"tile", t}, {"unroll", u}};
                if (k.direction == "backward") p["two_pass"] = "true";
                add(p);
            }
        }
        if (k.direction == "backward") {
            for (const char *t : {"64", "128", "256"}) add({{"algorithm", "sequential"}, {"tile", t}, {"unroll", "1"}});
        }
        if (chunked_allowed(k)) {
            for (const char *c : {"32", "64", "128"}) {
                // The chunked backward keeps m x (chunk + 1) floats per channel in shared memory,
                // 32 channels at least, within 48 KiB (schedules/cuda_scan_schedules.h refuses more).
                if (k.direction == "backward" && 32 * 4 * k.m * (std::stoi(c) + 1) > 48 * 1024) continue;
                for (const char *t : {"128", "256"}) add({{"algorithm", "chunked"}, {"chunk", c}, {"tile", t}});
            }
        }
        return out;
    }
    const char *tiles[] = {"64", "128", "256", "512", "1024"};
    std::vector<std::string> widths{"0", wide};  // 0: the target's natural width
    if (!half.empty()) widths.push_back(half);
    // BD-LRU's rows in the lanes (m x vector_width lanes): the natural width and its half, and
    // the forward also the block counts whose m x w lanes fill one or two natural vectors
    // (w = ceil(natural / m), ceil(2 natural / m); below). At m = 8 and 16 on the Intel Xeon (AVX-512)
    // those ran 1.4x and 1.6x faster than the best without vector_rows, where the natural width's
    // 128 and 256 lanes did not (docs/benchmarks.md, 2026-12-05). Past m = 8 only those: the
    // natural width's m x 16 lanes outgrow the registers.
    std::vector<std::string> row_widths;
    if (k.m <= 8) {
        row_widths.push_back("0");
        if (!half.empty()) row_widths.push_back(half);
    }
    // Also the block counts whose lanes just fit in one, two or (m < 8) three natural vectors
    // (w = floor(lanes / m), and ceil(3 natural / m)): at m = 5 on the Intel Xeon (AVX-512),
    // 6 and 9 blocks (30 and 45 lanes) ran 1.05-1.08x faster than 7 (35 lanes in three vectors)
    // and 10 (50 lanes in four) slower (2026-12-06, docs/benchmarks.md).
    std::vector<std::string> fwd_row_widths = row_widths;
    std::vector<int> lane_counts{natural_lanes, 2 * natural_lanes};
    if (k.m < 8) lane_counts.push_back(3 * natural_lanes);
    for (int lanes : lane_counts) {
        for (int w : {(lanes + k.m - 1) / k.m, lanes / k.m}) {
            const std::string ws = std::to_string(w);
            if (w >= 1 && w < natural_lanes &&
                std::find(fwd_row_widths.begin(), fwd_row_widths.end(), ws) == fwd_row_widths.end()) {
                fwd_row_widths.push_back(ws);
            }
        }
    }
    if (k.direction == "forward") {
        // BD-LRU past m = 8: not twice the natural width. One such kernel (m = 16, AVX-512, 32
        // lanes) had not compiled after 4 minutes, and on AVX2 it ran 1.38x slower than the
        // natural width (the database's m = 16 entry, 2026-11-30).
        std::vector<std::string> fwd_widths = widths;
        if (k.layer == "bdlru" && k.m > 8) fwd_widths.erase(std::find(fwd_widths.begin(), fwd_widths.end(), wide));
        // Each width also with 2 and 4 vectors per iteration of a tile's vector loop (unroll;
        // schedules/cpu_scan_schedules.h, split_unrolled_vectors) where one vector's lanes fit in
        // two natural vectors and the unrolled ones in four: on the Intel Xeon (AVX-512) the H-LRU
        // m = 4 forward ran 1.15x at 16 lanes x 4, and the BD-LRU forwards with their rows in the
        // lanes (below) 1.13-1.18x at 16-30 lanes x 2-4 (2026-12-06, docs/benchmarks.md).
        // The code of a vector's step is unrolled over a block's m x (m + 1) logits (BD-LRU; H-LRU
        // m + 1), and the unrolled copies multiply it: at BD-LRU m = 16 (AVX-512) 2 copies compiled
        // in 3 s, 3 or 4 did not within 60-300 s; m = 8 with 4 took 20 s. So at most 600 logits.
        const int logits = k.layer == "bdlru" ? k.m * (k.m + 1) : k.m + 1;
        auto unrolls = [&](int lanes) {
            std::vector<std::string> u{"1"};
            for (int f : {2, 4}) {
                if (lanes <= 2 * natural_lanes && lanes * f <= 4 * natural_lanes && logits * f <= 600) {
                    u.push_back(std::to_string(f));
                }
            }
            return u;
        };
        auto width_lanes = [&](const std::string &w) { return w == "0" ? natural_lanes : std::stoi(w); };
        for (const char *t : tiles) {
            for (const std::string &w : fwd_widths) {
                for (const std::string &u : unrolls(width_lanes(w))) {
                    Params p{{"algorithm", "sequential"}, {"tile", t}, {"vector_width", w}};
                    if (u != "1") p["unroll"] = u;
                    add(p);
                }
            }
        }
        // BD-LRU with a block's rows in the SIMD lanes too (m x vector_width lanes): dense h stores.
        if (k.layer == "bdlru" && k.m >= 2 && k.m <= 16) {
            const bool pow2 = (k.m & (k.m - 1)) == 0;
            // Also tiles of 16 blocks (8 at m = 16): the narrow bucket (B = 1, state 256) has
            // 256 / m blocks and a task is a tile of one batch row, so with tiles of 64 and up
            // its forward ran on one core from m = 4 (m = 8 on the 2-core Xeon, 2026-12-06: the
            // wide entry's knobs at tile 16 2.4x the narrow entry's kernel, 1.6x the same at 256).
            std::vector<const char *> row_tiles{k.m >= 16 ? "8" : "16"};
            row_tiles.insert(row_tiles.end(), std::begin(tiles), std::end(tiles));
            // Unrolled as above, the lanes being m x vector_width.
            for (const std::string &w : fwd_row_widths) {
                for (const std::string &u : unrolls(k.m * width_lanes(w))) {
                    for (const char *t : row_tiles) {
                        Params p{{"algorithm", "sequential"}, {"tile", t}, {"vector_rows", "true"}, {"vector_width", w}};
                        if (u != "1") p["unroll"] = u;
                        add(p);
                        // One block per vector (m lanes): its logits transposed in registers, where
                        // Halide loads them one lane at a time (bdlru_generator.cpp, transposed_logits;
                        // m = 16 on AVX-512 1.5x in cache, 1.03-1.21x at B 16, docs/benchmarks.md).
                        if (w == "1" && pow2) {
                            p["transpose_logits"] = "true";
                            add(p);
                        }
                    }
                }
            }
        }
        if (chunked_allowed(k)) {
            for (const char *c : {"64", "128", "256", "512"}) {
                for (const char *t : {"64", "256"}) {
                    add({{"algorithm", "chunked"}, {"chunk", c}, {"tile", t}, {"vector_width", "0"}});
                }
            }
        }
        // Every sequential candidate also with the next step's z and v software-prefetched
        // (ScanKnobs::prefetch = 1; generators/step_prefetch.h). The tuner's re-ranking on the
        // Intel Xeon (AVX-512, 2026-12-06, docs/benchmarks.md "The CPU forwards prefetch the next
        // step"): 1.05-1.51x at H-LRU m = 1-8 and BD-LRU m = 2, 3, 4, 5, 8; slower at BD-LRU
        // m = 1 (0.94x) and 16 (0.80x), so both forms stay in the space. (This is the CPU branch:
        // CUDA returned above, and its schedules refuse the knob.)
        const size_t plain = out.size();
        for (size_t i = 0; i < plain; i++) {
            if (out[i].count("algorithm") && out[i].at("algorithm") != "sequential") continue;
            Params p = out[i];
            p["prefetch"] = "1";
            add(p);
        }
    } else {
        // BD-LRU from m = 3 also a quarter of the natural width (4 floats or more): a channel's
        // m x (m + 1) gate values and m adjoints per lane outgrow the registers at the wider ones
        // (on the Intel Xeon, 2026-12-06: m = 4, tile 128: 4 lanes 1.18x over 16; m = 5, tile 64:
        // 4 lanes 1.10x over 8 and 1.23x over 16; m = 8, tile 128: 4 lanes 1.25x over 16; m = 3
        // and 16: 4 lanes within 1% of the others at the same tile). Not H-LRU: its m = 8
        // backward ran 0.53x at 4 lanes.
        std::vector<std::string> bwd_widths = widths;
        if (k.layer == "bdlru" && k.m >= 3 && natural_lanes >= 16) bwd_widths.push_back(std::to_string(natural_lanes / 4));
        // Also tiles of 32: the narrow bucket (B = 1, state 256) has 256 / m blocks (BD-LRU) and
        // a task is a tile of one batch row, so from 64 channels up its backward ran on one core
        // (BD-LRU m = 4 on the 2-core Xeon, 2026-12-06: tile 32 1.62x tile 128, 1.77x at 4 lanes).
        std::vector<const char *> bwd_tiles{"32"};
        bwd_tiles.insert(bwd_tiles.end(), std::begin(tiles), std::end(tiles));
        for (const char *form : {"false", "true"}) {
            for (const char *t : bwd_tiles) {
                for (const std::string &w : bwd_widths) {
                    Params p{{"algorithm", "sequential"}, {"tile", t}, {"vector_width", w}};
                    if (std::string(form) == "true") p["two_pass"] = "true";
                    add(p);
                }
            }
        }
        // The one-pass form walking each step's channels the other way: downwards where the
        // generator walks them upwards by default, and back (scan_knob_defaults.h). Which is faster
        // depends on the machine's prefetchers and on m (1.3x either way on the AMD EPYC).
        const char *other_walk = reverse_channels_by_default(k.layer == "hlru", k.m, false) ? "0" : "1";
        for (const char *t : tiles) {
            for (const std::string &w : bwd_widths) {
                add({{"algorithm", "sequential"}, {"tile", t}, {"vector_width", w}, {"reverse_channels", other_walk}});
            }
        }
        // The chunked backward (adjoint summaries, carry, re-scan, then the pointwise pass).
        if (chunked_allowed(k)) {
            for (const char *c : {"64", "256"}) {
                for (const char *t : {"64", "256"}) {
                    add({{"algorithm", "chunked"}, {"chunk", c}, {"tile", t}, {"vector_width", "0"}});
                }
            }
        }
        // BD-LRU's one-pass form with the rows of a block in the SIMD lanes too (m x vector_width lanes).
        if (k.layer == "bdlru" && k.m >= 2 && k.m <= 8) {
            for (const std::string &w : row_widths) {
                for (const char *t : tiles) add({{"algorithm", "sequential"}, {"tile", t}, {"vector_rows", "true"}, {"vector_width", w}});
            }
        }
        // BD-LRU's one-pass form with a row's logits in the SIMD lanes (vector_logits: one block at
        // a time, min(natural, m) lanes over k; bdlru_generator.cpp), m a power of two from 8. On
        // the Intel Xeon (AVX-512) the m = 16 and 8 backwards ran 2.6x and 1.36x the entries'
        // kernels with the channels in the lanes (2026-12-06, docs/benchmarks.md). Tiles from 8
        // blocks: the narrow bucket (B = 1, state 256) has 16 blocks at m = 16 and 32 at m = 8,
        // and a task is a tile of one batch row, so only tiles under the block count use both
        // cores of the 2-core Xeon (m = 16: tile 8 1.76x tile 16 there, 2026-12-06).
        if (k.layer == "bdlru" && k.m >= 8 && (k.m & (k.m - 1)) == 0) {
            for (const char *t : {"8", "16", "64", "256"}) {
                add({{"algorithm", "sequential"}, {"tile", t}, {"vector_logits", "true"}, {"vector_width", "0"}});
            }
        }
        // The one-pass form with the step's gate buffers in the inputs' order (the default keeps
        // the channels innermost; measured faster on AVX2, not yet on every tier).
        for (const char *t : {"128", "512"}) {
            add({{"algorithm", "sequential"}, {"tile", t}, {"vector_width", "0"}, {"gates_n_inner", "0"}});
        }
    }
    return out;
}

std::vector<Params> select_candidates(std::vector<Params> space, const KernelKey &k, const std::vector<std::string> &only,
                                      int max_candidates) {
    if (!only.empty()) {
        Params want;
        for (const std::string &w : only) {
            const size_t eq = w.find('=');
            if (eq == std::string::npos || eq == 0 || eq + 1 == w.size() || w.find_first_of(" \t") != std::string::npos) {
                throw Error("tune: --only expects knob=value words (e.g. vector_width=8), got '" + w + "'");
            }
            const Params p = parse_params(w);
            want.insert(p.begin(), p.end());
        }
        const auto unwanted = [&](const Params &p) {
            for (const auto &[knob, value] : want) {
                const auto it = p.find(knob);
                if (it == p.end() || it->second != value) return true;
            }
            return false;
        };
        const bool any = std::any_of(space.begin(), space.end(), [&](const Params &p) { return !unwanted(p); });
        // The default (first) stays whatever it sets: the entry's baseline (default_ms).
        if (!space.empty()) space.erase(std::remove_if(space.begin() + 1, space.end(), unwanted), space.end());
        if (!any) {
            throw Error("tune: no candidate of " + k.label() + " sets " + params_key(want) +
                        " (statemix_tune space lists them)");
        }
    }
    if (max_candidates > 0 && (int)space.size() > max_candidates) space.resize((size_t)max_candidates);
    return space;
}

}  // namespace statemix::tune
