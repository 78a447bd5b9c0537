// statemix_peer_onednn: oneDNN's own RNN primitives at a given shape, the CPU peer of
// `statemix bench --layers elman,lstm` (tools/cmd_bench.cpp runs it side by side).
//
// vanilla_rnn (tanh) and lstm, float32, one layer, unidirectional (left to right), input size
// C = H, src_layer [T,B,C] (tnc), zero initial states, a bias. Forward in forward_training mode
// (it fills the workspace the backward reads), backward = diff data + diff weights (one
// primitive). Weights are given to oneDNN in the layout it picks (format_tag::any, reordered
// once, outside the clock). oneDNN's layer includes the input projection W_layer·x_t, which
// statemix's cores take precomputed (u); so its time for that GEMM (all steps at once, a matmul
// primitive of the same size, and its two backward GEMMs) is measured separately and reported
// as input_gemm_ms, to read the recurrent part as (ms - input_gemm_ms).
#include "peer_common.h"

#include <dnnl.hpp>

#include <chrono>
#include <cmath>
#include <random>
#include <unordered_map>

namespace {

using namespace dnnl;
using statemix::peer::Options;
using statemix::peer::Row;
using tag = memory::format_tag;
using dt = memory::data_type;
using Clock = std::chrono::steady_clock;
using Args = std::unordered_map<int, memory>;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

void fill_uniform(memory &m, float scale, std::mt19937 &rng) {
    std::uniform_real_distribution<float> ud(-scale, scale);
    float *p = static_cast<float *>(m.get_data_handle());
    const size_t n = m.get_desc().get_size() / sizeof(float);
    for (size_t i = 0; i < n; i++) p[i] = ud(rng);
}

memory zeros(const memory::desc &d, const engine &eng) {
    memory m(d, eng);
    std::fill_n(static_cast<float *>(m.get_data_handle()), d.get_size() / sizeof(float), 0.f);
    return m;
}

// A memory in `want`'s layout holding `user`'s values (the same memory when the layouts agree).
memory in_layout(const memory &user, const memory::desc &want, const engine &eng, stream &s) {
    if (user.get_desc() == want) return user;
    memory m(want, eng);
    reorder(user, m).execute(s, const_cast<memory &>(user), m);
    s.wait();
    return m;
}

// Times fwd() then bwd() (each waited for): medians in ms.
template <typename F, typename B>
statemix::peer::Timings time_fwd_bwd(int reps, stream &s, F fwd, B bwd) {
    return statemix::peer::time_runs(reps, [&] {
        auto t0 = Clock::now();
        fwd();
        s.wait();
        const double f = ms_since(t0);
        auto t1 = Clock::now();
        bwd();
        s.wait();
        return std::make_pair(f, ms_since(t1));
    });
}

// The input projection alone: dst[TB,GH] = src[TB,C]·W[C,GH] forward; backward diff_src =
// diff_dst·Wᵀ and diff_W = srcᵀ·diff_dst (matmul primitives on strided views).
statemix::peer::Timings time_input_gemm(const Options &o, int64_t G, const engine &eng, stream &s, std::mt19937 &rng) {
    const int64_t M = o.seq * o.batch, K = o.hidden, N = G * o.hidden;
    memory::desc src({M, K}, dt::f32, tag::ab), w({K, N}, dt::f32, tag::ab), dst({M, N}, dt::f32, tag::ab);
    memory::desc wT({N, K}, dt::f32, memory::dims{1, N}), srcT({K, M}, dt::f32, memory::dims{1, K});
    memory msrc(src, eng), mw(w, eng), mdst(dst, eng), mddst(dst, eng), mdsrc(src, eng), mdw(w, eng);
    for (memory *m : {&msrc, &mw, &mddst}) fill_uniform(*m, 1.f, rng);
    matmul fwd(matmul::primitive_desc(matmul::desc(src, w, dst), eng));
    matmul bwd_data(matmul::primitive_desc(matmul::desc(dst, wT, src), eng));
    matmul bwd_w(matmul::primitive_desc(matmul::desc(srcT, dst, w), eng));
    memory mwT(wT, eng, mw.get_data_handle()), msrcT(srcT, eng, msrc.get_data_handle());
    return time_fwd_bwd(
        o.reps, s, [&] { fwd.execute(s, {{DNNL_ARG_SRC, msrc}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DST, mdst}}); },
        [&] {
            bwd_data.execute(s, {{DNNL_ARG_SRC, mddst}, {DNNL_ARG_WEIGHTS, mwT}, {DNNL_ARG_DST, mdsrc}});
            bwd_w.execute(s, {{DNNL_ARG_SRC, msrcT}, {DNNL_ARG_WEIGHTS, mddst}, {DNNL_ARG_DST, mdw}});
        });
}

// One cell ("tanh" or "lstm"): three rows (fwd, bwd, fwd+bwd).
std::vector<Row> run_cell(const Options &o, const std::string &cell, const engine &eng, stream &s) {
    const bool lstm = cell == "lstm";
    const int64_t T = o.seq, B = o.batch, H = o.hidden, C = H, G = lstm ? 4 : 1;
    std::mt19937 rng(1234);

    const memory::desc src_layer({T, B, C}, dt::f32, tag::tnc), dst_layer({T, B, H}, dt::f32, tag::tnc);
    const memory::desc state({1, 1, B, H}, dt::f32, tag::ldnc);
    const memory::desc w_layer_user({1, 1, C, G, H}, dt::f32, tag::ldigo), w_iter_user({1, 1, H, G, H}, dt::f32, tag::ldigo);
    const memory::desc w_layer_any({1, 1, C, G, H}, dt::f32, tag::any), w_iter_any({1, 1, H, G, H}, dt::f32, tag::any);
    const memory::desc bias({1, 1, G, H}, dt::f32, tag::ldgo);
    const auto dir = rnn_direction::unidirectional_left2right;
    const auto fwd_kind = prop_kind::forward_training;

    // Forward and backward primitive descriptors (the backward one hinted by the forward's), and
    // the layouts they chose.
    primitive fwd_prim, bwd_prim;
    memory::desc fwd_wl, fwd_wi, bwd_wl, bwd_wi, dwl, dwi, workspace;
    auto take = [&](const auto &fpd, const auto &bpd, primitive f, primitive b) {
        fwd_prim = f, bwd_prim = b;
        fwd_wl = fpd.weights_layer_desc(), fwd_wi = fpd.weights_iter_desc(), workspace = fpd.workspace_desc();
        bwd_wl = bpd.weights_layer_desc(), bwd_wi = bpd.weights_iter_desc();
        dwl = bpd.diff_weights_layer_desc(), dwi = bpd.diff_weights_iter_desc();
    };
    if (lstm) {
        lstm_forward::primitive_desc fpd(lstm_forward::desc(fwd_kind, dir, src_layer, state, state, w_layer_any,
                                                            w_iter_any, bias, dst_layer, state, state),
                                         eng);
        lstm_backward::primitive_desc bpd(
            lstm_backward::desc(prop_kind::backward, dir, src_layer, state, state, w_layer_any, w_iter_any, bias,
                                dst_layer, state, state, src_layer, state, state, w_layer_any, w_iter_any, bias,
                                dst_layer, state, state),
            eng, fpd);
        take(fpd, bpd, lstm_forward(fpd), lstm_backward(bpd));
    } else {
        const auto act = algorithm::eltwise_tanh;
        vanilla_rnn_forward::primitive_desc fpd(vanilla_rnn_forward::desc(fwd_kind, act, dir, src_layer, state,
                                                                          w_layer_any, w_iter_any, bias, dst_layer,
                                                                          state),
                                                eng);
        vanilla_rnn_backward::primitive_desc bpd(
            vanilla_rnn_backward::desc(prop_kind::backward, act, dir, src_layer, state, w_layer_any, w_iter_any, bias,
                                       dst_layer, state, src_layer, state, w_layer_any, w_iter_any, bias, dst_layer,
                                       state),
            eng, fpd);
        take(fpd, bpd, vanilla_rnn_forward(fpd), vanilla_rnn_backward(bpd));
    }

    // Data: inputs and weights uniform (weights in ±1/√H), zero states and bias.
    memory x(src_layer, eng), y(dst_layer, eng), dy(dst_layer, eng), dx(src_layer, eng);
    memory wl_user(w_layer_user, eng), wi_user(w_iter_user, eng);
    fill_uniform(x, 1.f, rng);
    fill_uniform(dy, 1.f, rng);
    fill_uniform(wl_user, 1.f / std::sqrt((float)H), rng);
    fill_uniform(wi_user, 1.f / std::sqrt((float)H), rng);
    memory wl_f = in_layout(wl_user, fwd_wl, eng, s), wi_f = in_layout(wi_user, fwd_wi, eng, s);
    memory wl_b = in_layout(wl_user, bwd_wl, eng, s), wi_b = in_layout(wi_user, bwd_wi, eng, s);
    memory b = zeros(bias, eng), db = zeros(bias, eng), ws(workspace, eng);
    memory dwl_m = zeros(dwl, eng), dwi_m = zeros(dwi, eng);
    memory h0 = zeros(state, eng), c0 = zeros(state, eng), hT(state, eng), cT(state, eng);
    memory dh0(state, eng), dc0(state, eng), dhT = zeros(state, eng), dcT = zeros(state, eng);

    Args fargs{{DNNL_ARG_SRC_LAYER, x},     {DNNL_ARG_SRC_ITER, h0},     {DNNL_ARG_WEIGHTS_LAYER, wl_f},
               {DNNL_ARG_WEIGHTS_ITER, wi_f}, {DNNL_ARG_BIAS, b},          {DNNL_ARG_DST_LAYER, y},
               {DNNL_ARG_DST_ITER, hT},      {DNNL_ARG_WORKSPACE, ws}};
    Args bargs{{DNNL_ARG_SRC_LAYER, x},           {DNNL_ARG_SRC_ITER, h0},
               {DNNL_ARG_WEIGHTS_LAYER, wl_b},     {DNNL_ARG_WEIGHTS_ITER, wi_b},
               {DNNL_ARG_BIAS, b},                 {DNNL_ARG_DST_LAYER, y},
               {DNNL_ARG_DST_ITER, hT},            {DNNL_ARG_WORKSPACE, ws},
               {DNNL_ARG_DIFF_DST_LAYER, dy},      {DNNL_ARG_DIFF_DST_ITER, dhT},
               {DNNL_ARG_DIFF_SRC_LAYER, dx},      {DNNL_ARG_DIFF_SRC_ITER, dh0},
               {DNNL_ARG_DIFF_WEIGHTS_LAYER, dwl_m}, {DNNL_ARG_DIFF_WEIGHTS_ITER, dwi_m},
               {DNNL_ARG_DIFF_BIAS, db}};
    if (lstm) {
        fargs.insert({{DNNL_ARG_SRC_ITER_C, c0}, {DNNL_ARG_DST_ITER_C, cT}});
        bargs.insert({{DNNL_ARG_SRC_ITER_C, c0},
                      {DNNL_ARG_DST_ITER_C, cT},
                      {DNNL_ARG_DIFF_DST_ITER_C, dcT},
                      {DNNL_ARG_DIFF_SRC_ITER_C, dc0}});
    }
    // oneDNN's RNN backward accumulates into the weight gradients; that only changes values.
    const statemix::peer::Timings t = time_fwd_bwd(o.reps, s, [&] { fwd_prim.execute(s, fargs); },
                                                   [&] { bwd_prim.execute(s, bargs); });
    const statemix::peer::Timings g = time_input_gemm(o, G, eng, s, rng);
    const std::string peer = fmt::format("oneDNN {}.{}.{} {}", dnnl_version()->major, dnnl_version()->minor,
                                         dnnl_version()->patch, lstm ? "lstm" : "vanilla_rnn tanh");
    return statemix::peer::rows_of(Row{peer, cell, "cpu", "", "with input GEMM", B, T, H}, t, g);
}

}  // namespace

int main(int argc, char **argv) {
    Options o;
    const int rc = statemix::peer::parse_options(
        argc, argv, "statemix_peer_onednn: oneDNN vanilla_rnn (tanh) / lstm, forward and backward, float32", o);
    if (rc >= 0) return rc;
    std::vector<Row> rows;
    int failures = 0;
    try {
        engine eng(engine::kind::cpu, 0);
        stream s(eng);
        fmt::print("statemix_peer_onednn: oneDNN {}.{}.{}, B={} T={} H={} (C=H) float32, median of {} runs\n",
                   dnnl_version()->major, dnnl_version()->minor, dnnl_version()->patch, o.batch, o.seq, o.hidden,
                   o.reps);
        for (const std::string &cell : o.cells) {
            statemix::peer::attempt("statemix_peer_onednn", "cell " + cell, rows, failures,
                                    [&] { return run_cell(o, cell, eng, s); });
        }
    } catch (const std::exception &e) {
        fmt::print(stderr, "statemix_peer_onednn: error: {}\n", e.what());
        return 2;
    }
    return statemix::peer::finish(o, rows, failures);
}
