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

class ReverseLoops : public Halide::Internal::IRMutator {
public:
    explicit ReverseLoops(const std::vector<std::string> &patterns) {
        for (const auto &p : patterns) res_.emplace_back(p);
    }

protected:
    using Halide::Internal::IRMutator::visit;
    Halide::Internal::Stmt visit(const Halide::Internal::For *op) override {
        using namespace Halide::Internal;
        Stmt body = mutate(op->body);
        bool named = false;
        for (const auto &re : res_) named = named || std::regex_match(op->name, re);
        if (op->for_type == ForType::Serial && named) {
            Halide::Expr i = Variable::make(Halide::Int(32), op->name);
            body = substitute(op->name, (op->min + op->extent - 1) - (i - op->min), body);
        }
        if (body.same_as(op->body)) return op;
        return For::make(op->name, op->min, op->extent, op->for_type, op->partition_policy, op->device_api, body);
    }

private:
    std::vector<std::regex> res_;
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
