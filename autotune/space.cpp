#include "space.h"

#include "error.h"

#include <algorithm>

namespace statemix::tune {

bool chunked_allowed(const KernelKey &k) {
    return k.direction == "forward" && (k.layer == "hlru" || k.m <= 4);
}

std::vector<Params> enumerate_space(const KernelKey &k, const Params &default_params) {
    if (k.device != "cpu" && k.device != "cuda") throw Error("tune: device must be cpu or cuda, got '" + k.device + "'");
    if (k.layer != "bdlru" && k.layer != "hlru") throw Error("tune: layer must be bdlru or hlru, got '" + k.layer + "'");
    if (k.direction != "forward" && k.direction != "backward") {
        throw Error("tune: direction must be forward or backward, got '" + k.direction + "'");
    }
    std::vector<Params> out;
    auto add = [&](const Params &p) {
        if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
    };
    if (!default_params.empty()) add(default_params);
    if (k.device == "cuda") {
        // tile = threads per block; unroll = time steps unrolled in the serial loop. The backward
        // is the two-pass form (the one-pass form has no CUDA schedule yet).
        for (const char *t : {"64", "128", "256", "512"}) {
            for (const char *u : {"1", "2", "4"}) {
                Params p{{"algorithm", "sequential"}, {"tile", t}, {"unroll", u}};
                if (k.direction == "backward") p["two_pass"] = "true";
                add(p);
            }
        }
        if (chunked_allowed(k)) {
            for (const char *c : {"32", "64", "128"}) {
                for (const char *t : {"128", "256"}) add({{"algorithm", "chunked"}, {"chunk", c}, {"tile", t}});
            }
        }
        return out;
    }
    const char *tiles[] = {"64", "128", "256", "512", "1024"};
    const char *widths[] = {"0", "16"};  // 0: the target's natural width (8 floats on AVX2)
    if (k.direction == "forward") {
        for (const char *t : tiles) {
            for (const char *w : widths) add({{"algorithm", "sequential"}, {"tile", t}, {"vector_width", w}});
        }
        if (chunked_allowed(k)) {
            for (const char *c : {"64", "128", "256", "512"}) {
                for (const char *t : {"64", "256"}) {
                    add({{"algorithm", "chunked"}, {"chunk", c}, {"tile", t}, {"vector_width", "0"}});
                }
            }
        }
    } else {
        for (const char *form : {"false", "true"}) {
            for (const char *t : tiles) {
                for (const char *w : widths) {
                    Params p{{"algorithm", "sequential"}, {"tile", t}, {"vector_width", w}};
                    if (std::string(form) == "true") p["two_pass"] = "true";
                    add(p);
                }
            }
        }
    }
    return out;
}

}  // namespace statemix::tune
