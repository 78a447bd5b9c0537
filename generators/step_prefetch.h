// A custom lowering pass that software-prefetches what a serial loop (a scan's time loop) will
// read `distance` iterations ahead: at the top of each loop directly inside it (a tile's loop
// over vectors of channels), one prefetch per 64-byte line of the span that loop's iteration
// will load from each named input at time loop iteration i + distance.
//
// Why: a CPU forward step reads a few KB of z and v per task and does ~1000 instructions of
// exponentials and shuffles on them, so the out-of-order window never reaches the next step's
// loads, and where the hardware streamer stops (4 KiB page ends; a tile narrower than the row,
// whose rows are a page or more apart) every step waits a memory latency. Measured on the Intel
// Xeon (AVX-512), H-LRU m = 7 forward, B = 16, T = 2048, N = 146: 1.27-1.5x (docs/benchmarks.md).
//
// The prefetch is LLVM's llvm.prefetch (read, locality 3: prefetcht0 on x86), called directly:
// Halide's own Stage::prefetch emits prefetchnta (Halide 21), which made the same forward 1.6x
// slower instead. The call relies on llvm.prefetch.p0 being declared in the module (Halide's
// runtime modules use it; a missing declaration fails the compile, it cannot go wrong silently).
// Prefetches never fault, so spans past the end of the time range need no guard.
#pragma once

#include "Halide.h"
#include "reverse_loops.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace statemix::gen {

namespace step_prefetch_detail {
using namespace Halide;
using namespace Halide::Internal;

using Lets = std::vector<std::pair<std::string, Expr>>;  // outermost first

// The [min, max] element index each named buffer is loaded at inside a statement, with every let
// between the time loop and the load substituted and every loop inside bounded over its range.
class LoadSpans : public IRVisitor {
public:
    LoadSpans(const std::vector<std::string> &buffers, Lets lets) : buffers_(buffers), lets_(std::move(lets)) {}
    std::map<std::string, Interval> spans;

protected:
    using IRVisitor::visit;
    void visit(const LetStmt *op) override { let(op->name, op->value, op->body); }
    void visit(const Let *op) override { let(op->name, op->value, op->body); }
    void visit(const For *op) override {
        Expr mn = inline_lets(op->min), ex = inline_lets(op->extent);
        ScopedBinding<Interval> bind(loops_, op->name, Interval(mn, mn + ex - 1));
        op->body.accept(this);
    }
    void visit(const Load *op) override {
        IRVisitor::visit(op);
        bool wanted = false;
        for (const auto &b : buffers_) wanted = wanted || b == op->name;
        if (!wanted) return;
        Expr idx = inline_lets(op->index);
        Interval iv;
        if (const Ramp *r = idx.as<Ramp>()) {
            Interval first = bounds_of_expr_in_scope(r->base, loops_);
            Interval last = bounds_of_expr_in_scope(r->base + r->stride * (r->lanes - 1), loops_);
            if (!first.is_bounded() || !last.is_bounded()) return;
            iv = Interval(min(first.min, last.min), max(first.max, last.max));
        } else {
            iv = bounds_of_expr_in_scope(idx, loops_);
        }
        if (!iv.is_bounded()) return;
        auto it = spans.find(op->name);
        if (it == spans.end()) spans.emplace(op->name, iv);
        else it->second.include(iv);
    }

private:
    template<typename T>
    void let(const std::string &name, const Expr &value, const T &body) {
        value.accept(this);
        lets_.emplace_back(name, value);
        body.accept(this);
        lets_.pop_back();
    }
    Expr inline_lets(Expr e) const {
        for (auto it = lets_.rbegin(); it != lets_.rend(); ++it) e = substitute(it->first, it->second, e);
        return e;
    }
    const std::vector<std::string> &buffers_;
    Lets lets_;
    Scope<Interval> loops_;
};

// prefetcht0 of every 64-byte line that elements [lo, lo + count) of float buffer `buffer` touch:
// elements lo, lo + 16, ... and the last one (its line may be one more where lo is not on a line
// start), (count - 1) / 16 + 2 prefetches in a loop named prefetch_line*.
inline Stmt prefetch_lines(const std::string &buffer, Expr lo, Expr count) {
    const std::string i_name = unique_name("prefetch_line");
    Expr i = Variable::make(Int(32), i_name);
    Expr base = reinterpret(UInt(64), Variable::make(Handle(), buffer));
    Expr element = lo + min(i * 16, count - 1);
    Expr addr = reinterpret(Handle(), base + cast<uint64_t>(cast<int64_t>(element) * 4));
    // llvm.prefetch(ptr, rw = 0 read, locality = 3 (T0), cache type 1 = data).
    Stmt one = Evaluate::make(Call::make(Int(32), "llvm.prefetch.p0", {addr, 0, 3, 1}, Call::Extern));
    return For::make(i_name, 0, (count - 1) / 16 + 2, ForType::Serial, Partition::Never, DeviceAPI::None, one);
}
}  // namespace step_prefetch_detail

class StepPrefetch : public Halide::Internal::IRMutator {
public:
    // loops: regular expressions over Halide's loop names (the time loops); buffers: the float
    // inputs to prefetch (each an Input buffer's name).
    StepPrefetch(const std::vector<std::string> &loops, std::vector<std::string> buffers, int distance)
        : loops_(loops), buffers_(std::move(buffers)), distance_(distance) {}

protected:
    using Halide::Internal::IRMutator::visit;
    Halide::Internal::Stmt visit(const Halide::Internal::For *op) override {
        Halide::Internal::Stmt body = mutate(op->body);
        if (loops_.named(op)) body = inject(op->name, body, {});
        return with_body(op, body);
    }

private:
    // Walks the time loop's body through lets and blocks down to its loops.
    Halide::Internal::Stmt inject(const std::string &time, const Halide::Internal::Stmt &s,
                                  const step_prefetch_detail::Lets &lets) {
        using namespace Halide;
        using namespace Halide::Internal;
        if (const LetStmt *l = s.as<LetStmt>()) {
            auto inner = lets;
            inner.emplace_back(l->name, l->value);
            Stmt b = inject(time, l->body, inner);
            return b.same_as(l->body) ? s : LetStmt::make(l->name, l->value, b);
        }
        if (const Block *bl = s.as<Block>()) {
            Stmt a = inject(time, bl->first, lets), b = inject(time, bl->rest, lets);
            return a.same_as(bl->first) && b.same_as(bl->rest) ? s : Block::make(a, b);
        }
        const For *f = s.as<For>();
        if (!f) return s;
        step_prefetch_detail::LoadSpans spans(buffers_, lets);
        f->body.accept(&spans);
        Expr ahead = Variable::make(Int(32), time) + distance_;
        Stmt pre;
        for (const auto &[buffer, iv] : spans.spans) {
            Expr lo = simplify(substitute(time, ahead, iv.min));
            Expr hi = simplify(substitute(time, ahead, iv.max));
            Stmt p = step_prefetch_detail::prefetch_lines(buffer, lo, simplify(hi - lo + 1));
            pre = pre.defined() ? Block::make(pre, p) : p;
        }
        if (!pre.defined()) return s;
        return with_body(f, Block::make(pre, f->body));
    }
    NamedLoops loops_;
    std::vector<std::string> buffers_;
    int distance_;
};

inline Halide::Pipeline with_step_prefetch(Halide::Pipeline p, const std::vector<std::string> &loops,
                                           const std::vector<std::string> &buffers, int distance) {
    if (distance > 0 && !loops.empty() && !buffers.empty()) p.add_custom_lowering_pass(new StepPrefetch(loops, buffers, distance));
    return p;
}

}  // namespace statemix::gen
