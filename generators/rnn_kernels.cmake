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
set(RNN_CPU_KNOBS vector_width=0 k_unroll=8)
set(RNN_CUDA_KNOBS tile=512 k_unroll=8)

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
  foreach (layer elman lstm)
    statemix_kernel(sm_${layer}_fwd_${dev} ${layer} forward sequential 0 ${dev} FROM statemix_rnn_generators PARAMS ${knobs})
    statemix_kernel(sm_${layer}_bwd_${dev} ${layer} backward sequential 0 ${dev} FROM statemix_rnn_generators PARAMS ${knobs})
  endforeach ()
  # The LSTM's training forward also writes the gate pre-activations z for the backward.
  statemix_kernel(sm_lstm_fwdtrain_${dev} lstm forward_train sequential 0 ${dev} FROM statemix_rnn_generators PARAMS ${knobs})
endforeach ()
