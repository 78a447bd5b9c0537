# The training runtime's pointwise, normalization, loss and optimizer ops (LayerNorm, SwiGLU,
# GELU, add / scale / Σx², embedding, cross-entropy, AdamW, H-LRU's lag stack), included by
# CMakeLists.txt before the registry is written. Generator: nn_generator.cpp; runtime:
# runtime/nn_ops.cpp. Every op on the CPU and on CUDA; M = 0 (no order parameter).
add_halide_generator(statemix_nn_generators SOURCES nn_generator.cpp)
target_include_directories(statemix_nn_generators PRIVATE ${PROJECT_SOURCE_DIR})

# rows: rows per parallel task and per partial sum of a reduction over rows (dgamma/dbeta, the
# embedding gradient): a fixed partition, so results do not depend on the thread count.
# The CPU embedding backward uses one chunk (rows=0): a task per block of columns walks all rows.
set(STATEMIX_NN_CPU_KNOBS "vector_width=0;rows=64" CACHE STRING "Generator params of the CPU nn kernels")
set(STATEMIX_NN_CUDA_KNOBS "rows=64;tile=128" CACHE STRING "Generator params of the CUDA nn kernels")

foreach (dev cpu cuda)
  if (dev STREQUAL "cpu")
    set(knobs ${STATEMIX_NN_CPU_KNOBS})
    set(emb_rows rows=0)
  else ()
    set(knobs ${STATEMIX_NN_CUDA_KNOBS})
    set(emb_rows rows=256)  # chunks of the scatter-add: 128 partial tables at 32K rows
  endif ()
  set(nn FROM statemix_nn_generators PARAMS ${knobs})
  set(emb_knobs ${knobs})
  list(FILTER emb_knobs EXCLUDE REGEX "^rows=")
  set(emb FROM statemix_nn_generators PARAMS ${emb_knobs} ${emb_rows})
  statemix_kernel(sm_layernorm_fwd_${dev} layernorm forward sequential 0 ${dev} ${nn})
  statemix_kernel(sm_layernorm_bwd_${dev} layernorm backward sequential 0 ${dev} ${nn})
  statemix_kernel(sm_layernorm_bwd_acc_${dev} layernorm backward_acc sequential 0 ${dev} ${nn})
  statemix_kernel(sm_swiglu_fwd_${dev} swiglu forward sequential 0 ${dev} ${nn})
  statemix_kernel(sm_swiglu_bwd_${dev} swiglu backward sequential 0 ${dev} ${nn})
  statemix_kernel(sm_gelu_fwd_${dev} gelu forward sequential 0 ${dev} ${nn})
  statemix_kernel(sm_gelu_bwd_${dev} gelu backward sequential 0 ${dev} ${nn})
  statemix_kernel(sm_tensor_add_${dev} tensor add sequential 0 ${dev} ${nn})
  statemix_kernel(sm_tensor_scale_${dev} tensor scale sequential 0 ${dev} ${nn})
  statemix_kernel(sm_tensor_sum_squares_${dev} tensor sum_squares sequential 0 ${dev} ${nn})
  statemix_kernel(sm_adamw_update_${dev} adamw update sequential 0 ${dev} ${nn})
  statemix_kernel(sm_embedding_fwd_${dev} embedding forward sequential 0 ${dev} ${nn})
  statemix_kernel(sm_embedding_fwd_pos_${dev} embedding forward_pos sequential 0 ${dev} ${nn})
  statemix_kernel(sm_embedding_bwd_${dev} embedding backward sequential 0 ${dev} ${emb})
  statemix_kernel(sm_embedding_bwd_pos_${dev} embedding backward_pos sequential 0 ${dev} ${emb})
  statemix_kernel(sm_cross_entropy_${dev} cross_entropy fused sequential 0 ${dev} ${nn})
  statemix_kernel(sm_lag_stack_fwd_${dev} lag_stack forward sequential 0 ${dev} ${nn})
  statemix_kernel(sm_lag_stack_bwd_${dev} lag_stack backward sequential 0 ${dev} ${nn})
endforeach ()
