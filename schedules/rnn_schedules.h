// Entry point the RNN generators (WCRNN, Elman, LSTM) call: picks the target family's schedule.
#pragma once

#include "Halide.h"
#include "cpu_rnn_schedules.h"
#include "cuda_rnn_schedules.h"
#include "../generators/rnn_pipelines.h"

namespace statemix::gen {

inline void schedule_rnn_forward(RnnForward &P, const RnnKnobs &kn) {
    if (kn.gpu) sched::cuda::rnn_forward(P, kn);
    else sched::cpu::rnn_forward(P, kn);
}

inline void schedule_rnn_backward(RnnBackward &P, const RnnKnobs &kn) {
    if (kn.gpu) sched::cuda::rnn_backward(P, kn);
    else sched::cpu::rnn_backward(P, kn);
}

// Step kernels run on the CPU only (CUDA runs the whole sequence in one launch).
inline void schedule_rnn_step(RnnStep &P, const RnnKnobs &kn) { sched::cpu::rnn_step(P, kn); }

}  // namespace statemix::gen
