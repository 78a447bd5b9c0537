// The software-prefetch lowering pass (generators/step_prefetch.h): where it puts its prefetches
// and what they cover, on hand-built IR, and that a JIT-compiled scan with it computes exactly what
// it computes without it (the prefetches are hints; llvm.prefetch must resolve in the module).
#include "generators/reverse_loops.h"
#include "generators/step_prefetch.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace Halide;
using namespace Halide::Internal;
using statemix::gen::regex_literal;
using statemix::gen::StepPrefetch;
using statemix::gen::with_step_prefetch;

namespace {

// Each prefetch loop the pass made: the loops it sits in, its extent, and the element index its
// first iteration prefetches (the Int(64) cast in its address).
struct Found {
    std::vector<std::string> enclosing;
    Expr extent, first_element;
    std::string buffer;
};
class FindPrefetches : public IRVisitor {
public:
    std::vector<Found> found;

protected:
    using IRVisitor::visit;
    void visit(const For *op) override {
        if (op->name.rfind("prefetch_line", 0) == 0) {
            Found f{loops_, op->extent, Expr(), ""};
            const Evaluate *ev = op->body.as<Evaluate>();
            const Call *c = ev ? ev->value.as<Call>() : nullptr;
            if (c && c->name == "llvm.prefetch.p0") {
                Expr index = first_int64_cast(c->args[0]);
                if (index.defined()) f.first_element = simplify(substitute(op->name, 0, index));
                f.buffer = buffer_of(c->args[0]);
            }
            found.push_back(f);
            return;
        }
        loops_.push_back(op->name);
        IRVisitor::visit(op);
        loops_.pop_back();
    }

private:
    static Expr first_int64_cast(const Expr &e) {
        struct V : IRVisitor {
            Expr out;
            using IRVisitor::visit;
            void visit(const Cast *op) override {
                if (!out.defined() && op->type == Int(64) && op->value.type() == Int(32)) out = op->value;
                IRVisitor::visit(op);
            }
        } v;
        e.accept(&v);
        return v.out;
    }
    static std::string buffer_of(const Expr &e) {
        struct V : IRVisitor {
            std::string out;
            using IRVisitor::visit;
            void visit(const Variable *op) override {
                if (op->type.is_handle()) out = op->name;
            }
        } v;
        e.accept(&v);
        return v.out;
    }
    std::vector<std::string> loops_;
};

// for (t, 0, 10) { let base = t*100 in for (x, 0, 4) { out[ramp(t*32 + x*8)] = in[ramp(base + x*8)] + w[ramp(x*8)] } }
Stmt hand_built_scan() {
    Expr t = Variable::make(Int(32), "t"), x = Variable::make(Int(32), "x"), base = Variable::make(Int(32), "base");
    auto load = [](const std::string &buf, Expr index) {
        return Load::make(Float(32, 8), buf, Ramp::make(index, 1, 8), Buffer<>(), Parameter(), const_true(8), ModulusRemainder());
    };
    Expr value = load("in", base + x * 8) + load("w", x * 8);
    Stmt store = Store::make("out", value, Ramp::make(t * 32 + x * 8, 1, 8), Parameter(), const_true(8), ModulusRemainder());
    Stmt inner = For::make("x", 0, 4, ForType::Serial, Partition::Auto, DeviceAPI::None, store);
    return For::make("t", 0, 10, ForType::Serial, Partition::Auto, DeviceAPI::None, LetStmt::make("base", t * 100, inner));
}

}  // namespace

TEST(StepPrefetch, PrefetchesTheNamedInputDistanceIterationsAhead) {
    Stmt s = StepPrefetch({"t"}, {"in"}, 2).mutate(hand_built_scan());
    FindPrefetches f;
    s.accept(&f);
    ASSERT_EQ(f.found.size(), 1u);  // only "in": "w" is not named
    const Found &p = f.found[0];
    EXPECT_EQ(p.buffer, "in");
    // Inside the loop directly inside the time loop, for that loop's own iteration x.
    EXPECT_EQ(p.enclosing, (std::vector<std::string>{"t", "x"}));
    // 8 floats from (t + 2)*100 + x*8: (8 - 1)/16 + 2 = 2 prefetches (the span may cross a line).
    EXPECT_TRUE(is_const(simplify(p.extent), 2)) << p.extent;
    ASSERT_TRUE(p.first_element.defined());
    Expr t = Variable::make(Int(32), "t"), x = Variable::make(Int(32), "x");
    EXPECT_TRUE(can_prove(p.first_element == (t + 2) * 100 + x * 8)) << p.first_element;
}

TEST(StepPrefetch, LeavesOtherLoopsAlone) {
    for (const char *pattern : {"x", "t2", "tt"}) {
        Stmt s = StepPrefetch({pattern}, {"in"}, 1).mutate(hand_built_scan());
        FindPrefetches f;
        s.accept(&f);
        EXPECT_TRUE(f.found.empty()) << pattern;  // "x" has no loop inside; the others match nothing
    }
    Stmt none = StepPrefetch({"t"}, {"absent"}, 1).mutate(hand_built_scan());
    FindPrefetches f;
    none.accept(&f);
    EXPECT_TRUE(f.found.empty());
}

// A JIT scan over an input read once per step: s(x, r) = 0.5 s(x, r - 1) + in(x, r), its channels
// in vectors of 8 inside the time loop, with the pass on the time loop and without.
TEST(StepPrefetch, ScanComputesTheSameWithPrefetch) {
    const int W = 37, T = 29;  // ragged: a partial vector, a prime length
    Buffer<float> in(W, T);
    for (int t = 0; t < T; t++)
        for (int x = 0; x < W; x++) in(x, t) = float((x * 7 + t * 3) % 11) - 5.0f;
    auto run = [&](bool prefetch, std::string *stmt) {
        ImageParam ip(Float(32), 2, "in");
        Func s("scan");
        Var x("x"), t("t");
        RDom r(1, T - 1, "r");
        s(x, t) = select(t == 0, ip(x, 0), 0.0f);
        s(x, r) = 0.5f * s(x, r - 1) + ip(x, r);
        Var xo("xo"), xi("xi");
        s.update().split(x, xo, xi, 8, TailStrategy::GuardWithIf).reorder(xi, xo, r.x).vectorize(xi);
        std::vector<std::string> loops;
        if (prefetch) loops.push_back(regex_literal(s.name()) + "\\.s[0-9]+\\.r\\$x(\\..+)?");
        Pipeline p = with_step_prefetch(Pipeline(s), loops, {"in"}, 1);
        if (stmt) {
            const std::string file = testing::TempDir() + "step_prefetch_test.stmt";
            p.compile_to_lowered_stmt(file, {ip}, StmtOutputFormat::Text);
            std::ifstream ifs(file);
            std::stringstream ss;
            ss << ifs.rdbuf();
            *stmt = ss.str();
            std::remove(file.c_str());
        }
        ip.set(in);
        Buffer<float> out = p.realize({W, T});
        return out;
    };
    std::string with_stmt, without_stmt;
    Buffer<float> a = run(false, &without_stmt), b = run(true, &with_stmt);
    EXPECT_EQ(without_stmt.find("llvm.prefetch.p0"), std::string::npos);
    EXPECT_NE(with_stmt.find("llvm.prefetch.p0"), std::string::npos) << with_stmt;
    for (int t = 0; t < T; t++)
        for (int x = 0; x < W; x++) ASSERT_EQ(a(x, t), b(x, t)) << "x " << x << " t " << t;
    // The reference: the recurrence itself.
    for (int x = 0; x < W; x++) {
        float v = in(x, 0);
        for (int t = 1; t < T; t++) {
            v = 0.5f * v + in(x, t);
            ASSERT_FLOAT_EQ(b(x, t), v) << "x " << x << " t " << t;
        }
    }
}
