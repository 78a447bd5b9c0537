// A custom lowering pass that runs chosen serial loops from their last iteration to their first.
// Halide has no scheduling directive for a descending loop; the CPU backward schedules use this
// one (ScanKnobs::reverse_channels) so that a reverse-time step also walks its channels
// downwards in memory. The schedule names the loops (regular expressions over Halide's loop
// names, ScanBackward::reversed_loops); the generator adds the pass to its pipeline
// (with_reversed_loops, from its build_pipeline). Only loops whose iterations are independent
// may be named: the pass substitutes min + extent - 1 - (i - min) for the loop variable i.
#pragma once

#include "Halide.h"

#include <cctype>
#include <regex>
#include <string>
#include <vector>

namespace statemix::gen {

// Serial loops named by regular expressions over Halide's loop names (a schedule's patterns,
// each matching a whole name), for the custom lowering passes here and in step_prefetch.h.
class NamedLoops {
public:
    explicit NamedLoops(const std::vector<std::string> &patterns) {
        for (const auto &p : patterns) res_.emplace_back(p);
    }
    bool named(const Halide::Internal::For *op) const {
        if (op->for_type != Halide::Internal::ForType::Serial) return false;
        for (const auto &re : res_) {
            if (std::regex_match(op->name, re)) return true;
        }
        return false;
    }

private:
    std::vector<std::regex> res_;
};

// `op` with `body` in place of its own (op itself if that is unchanged).
inline Halide::Internal::Stmt with_body(const Halide::Internal::For *op, const Halide::Internal::Stmt &body) {
    using namespace Halide::Internal;
    if (body.same_as(op->body)) return op;
    return For::make(op->name, op->min, op->extent, op->for_type, op->partition_policy, op->device_api, body);
}

class ReverseLoops : public Halide::Internal::IRMutator {
public:
    explicit ReverseLoops(const std::vector<std::string> &patterns) : loops_(patterns) {}

protected:
    using Halide::Internal::IRMutator::visit;
    Halide::Internal::Stmt visit(const Halide::Internal::For *op) override {
        using namespace Halide::Internal;
        Stmt body = mutate(op->body);
        if (loops_.named(op)) {
            Halide::Expr i = Variable::make(Halide::Int(32), op->name);
            body = substitute(op->name, (op->min + op->extent - 1) - (i - op->min), body);
        }
        return with_body(op, body);
    }

private:
    NamedLoops loops_;
};

// `name` as a regular expression that matches only itself (Halide names: letters, digits, '_',
// '.', '$').
inline std::string regex_literal(const std::string &name) {
    std::string out;
    for (char ch : name) {
        if (!std::isalnum((unsigned char)ch) && ch != '_') out += '\\';
        out += ch;
    }
    return out;
}

inline Halide::Pipeline with_reversed_loops(Halide::Pipeline p, const std::vector<std::string> &patterns) {
    if (!patterns.empty()) p.add_custom_lowering_pass(new ReverseLoops(patterns));
    return p;
}

}  // namespace statemix::gen
