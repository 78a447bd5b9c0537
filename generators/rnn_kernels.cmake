# The nonlinear recurrent cores (WCRNN, Elman, LSTM; spec §7-§8), included by CMakeLists.txt
# before the registry is written. Generators: wcrnn_generator.cpp, lstm_generator.cpp.
#
# H is a run-time size. For wcrnn, M is the residual's block size: 2 = per-unit coefficients on
# 2×2 blocks (identity, scalar, diagonal, rotation, nonlinear), 0 = a dense H×H residual
# (orthogonal); the runtime (rnn_ops.cpp) picks it from the residual kind. elman/lstm: M = 0.
add_halide_generator(statemix_rnn_generators SOURCES wcrnn_generator.cpp lstm_generator.cpp)
target_include_directories(statemix_rnn_generators PRIVATE ${PROJECT_SOURCE_DIR})

# Default knobs per device (the tuner's): k_unroll = mat-vec terms per accumulator load/store;
# CUDA tile = threads per block over hidden units (one block per batch row). On the H200, tile=512
# ran 1.8-3.5x faster than 128 at H = 256 and 1024 (a thread's serial dot products are the step's
# critical path, and with one block per batch row the extra threads cost nothing).
# The CPU LSTM uses k_unroll = 4: its four gate accumulators per unit make 8 columns per chunk
# too many live registers. In interleaved A/B runs on the dev machine (min of 3 runs each, T = 128,
# B = 16/64, H = 256/1024; docs/benchmarks.md) k_unroll = 4 ran the LSTM forward 0.64-0.93x and its
# backward 0.74-0.93x the time of k_unroll = 8, while Elman and WCRNN were within the noise
# (0.85-1.18x), so they keep 8.
# The lists are cache variables, so a build can try other knobs without editing this file
# (-DSTATEMIX_RNN_CPU_KNOBS="vector_width=0;k_unroll=4").
set(STATEMIX_RNN_CPU_KNOBS "vector_width=0;k_unroll=8" CACHE STRING "Generator params of the CPU WCRNN/Elman kernels")
set(STATEMIX_LSTM_CPU_KNOBS "vector_width=0;k_unroll=4" CACHE STRING "Generator params of the CPU LSTM kernels")
set(STATEMIX_RNN_CUDA_KNOBS "tile=512;k_unroll=8" CACHE STRING "Generator params of the CUDA RNN kernels")
set(RNN_CPU_KNOBS ${STATEMIX_RNN_CPU_KNOBS})
set(RNN_CUDA_KNOBS ${STATEMIX_RNN_CUDA_KNOBS})

foreach (dev cpu cuda)
  if (dev STREQUAL "cpu")
    set(knobs ${RNN_CPU_KNOBS})
  else ()
    set(knobs ${RNN_CUDA_KNOBS})
  endif ()
  foreach (m 2 0)
    statemix_kernel(sm_wcrnn_fwd_m${m}_${dev} wcrnn forward sequential ${m} ${dev} FROM statemix_rnn_generators PARAMS ${knobs})
    statemix_kernel(sm_wcrnn_bwd_m${m}_${dev} wcrnn backward sequential ${m} ${dev} FROM statemix_rnn_generators PARAMS ${knobs})
  endforeach ()
  statemix_kernel(sm_elman_fwd_${dev} elman forward sequential 0 ${dev} FROM statemix_rnn_generators PARAMS ${knobs})
  statemix_kernel(sm_elman_bwd_${dev} elman backward sequential 0 ${dev} FROM statemix_rnn_generators PARAMS ${knobs})
  if (dev STREQUAL "cpu")
    set(knobs ${STATEMIX_LSTM_CPU_KNOBS})
  endif ()
  # lstm forward = inference (h, c); forward_train also writes the gate pre-activations z that
  # the backward reads.
  statemix_kernel(sm_lstm_fwd_${dev} lstm forward sequential 0 ${dev} FROM statemix_rnn_generators PARAMS ${knobs})
  statemix_kernel(sm_lstm_fwdtrain_${dev} lstm forward_train sequential 0 ${dev} FROM statemix_rnn_generators PARAMS ${knobs})
  statemix_kernel(sm_lstm_bwd_${dev} lstm backward sequential 0 ${dev} FROM statemix_rnn_generators PARAMS ${knobs})
endforeach ()

# Step kernels: one step of a forward, called T times by the runtime (the stepped CPU forward,
# runtime/rnn_stepped.cpp); CPU only. Knobs: batch_tile (0 = from the register budget), strip.
set(STATEMIX_STEP_CPU_KNOBS "vector_width=0" CACHE STRING "Generator params of the CPU step kernels")
foreach (m 2 0)
  statemix_kernel(sm_wcrnn_step_m${m}_cpu wcrnn step sequential ${m} cpu FROM statemix_rnn_generators PARAMS ${STATEMIX_STEP_CPU_KNOBS})
endforeach ()
statemix_kernel(sm_elman_step_cpu elman step sequential 0 cpu FROM statemix_rnn_generators PARAMS ${STATEMIX_STEP_CPU_KNOBS})
statemix_kernel(sm_lstm_step_cpu lstm step sequential 0 cpu FROM statemix_rnn_generators PARAMS ${STATEMIX_STEP_CPU_KNOBS})
statemix_kernel(sm_lstm_steptrain_cpu lstm step_train sequential 0 cpu FROM statemix_rnn_generators PARAMS ${STATEMIX_STEP_CPU_KNOBS})
# The stepped backward: an adjoint step per core (Elman's also gives dh0 = Wᵀ d for both), then
# one weight-gradient GEMM.
statemix_kernel(sm_elman_bstep_cpu elman bstep sequential 0 cpu FROM statemix_rnn_generators PARAMS ${STATEMIX_STEP_CPU_KNOBS})
statemix_kernel(sm_lstm_bstep_cpu lstm bstep sequential 0 cpu FROM statemix_rnn_generators PARAMS ${STATEMIX_STEP_CPU_KNOBS})
statemix_kernel(sm_elman_weight_grad_cpu elman weight_grad sequential 0 cpu FROM statemix_rnn_generators PARAMS ${STATEMIX_STEP_CPU_KNOBS})
# The WCRNN's: ε f'(a_t) for all steps first (bstep_pre), the adjoint step per residual path, and
# the paired residual's gradients (bstep_rho).
statemix_kernel(sm_wcrnn_bstep_pre_cpu wcrnn bstep_pre sequential 0 cpu FROM statemix_rnn_generators PARAMS ${STATEMIX_STEP_CPU_KNOBS})
foreach (m 2 0)
  statemix_kernel(sm_wcrnn_bstep_m${m}_cpu wcrnn bstep sequential ${m} cpu FROM statemix_rnn_generators PARAMS ${STATEMIX_STEP_CPU_KNOBS})
endforeach ()
statemix_kernel(sm_wcrnn_bstep_rho_cpu wcrnn bstep_rho sequential 2 cpu FROM statemix_rnn_generators PARAMS ${STATEMIX_STEP_CPU_KNOBS})

# The tuning database's variants of the CPU ops (cmake/StatemixTuning.cmake; autotune/README.md):
# per bucket, the step kernels or the one-launch kernel with the tuned knobs. The WCRNN backward
# and the LSTM's inference forward keep the rule of thumb (rnn_stepped.cpp).
statemix_tuned_rnn_kernels(elman forward 0)
statemix_tuned_rnn_kernels(elman backward 0)
statemix_tuned_rnn_kernels(lstm forward_train 0)
statemix_tuned_rnn_kernels(lstm backward 0)
foreach (m 2 0)
  statemix_tuned_rnn_kernels(wcrnn forward ${m})
endforeach ()
# The persistent CUDA forward's tuned run-time knobs (`statemix tune --layer elman|wcrnn ... --db`, on a GPU).
statemix_tuned_rnn_cuda_choices(elman 0)
statemix_tuned_rnn_cuda_choices(wcrnn 2)
