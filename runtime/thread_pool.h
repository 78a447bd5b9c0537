// Threads of the two pools a process runs: Halide's (the generated kernels) and OpenMP's (oneDNN,
// the dense products), and the floating-point mode they compute in.
//
// Routing Halide's parallel loops onto OpenMP's workers (halide_set_custom_do_par_for) was tried
// and measured on the 2-core dev machine (2026-11-29), BD-LRU m = 2 sequential forward at
// B = 128, T = 256, N·m = 256: 1166 ms with OpenMP's default spinning wait, about 40 ms with
// OMP_WAIT_POLICY=passive, against 29-34 ms on Halide's own pool. So each library keeps its own
// pool, and OpenMP's idle workers are kept from spinning (use_passive_openmp_wait, dense_ops.h).
#pragma once

namespace statemix {

// Threads for both the kernels and the dense products (n <= 0: leave the defaults, every core).
void set_num_threads(int n);

// Denormal floats (|x| < 1.2e-38) flushed to zero in every thread that computes: the calling
// thread, OpenMP's workers and Halide's (whose pool is restarted so its workers inherit the mode;
// call this while no kernel runs). On x86 this sets FTZ and DAZ in MXCSR; elsewhere it does
// nothing and returns false. Returns whether the mode is now as asked.
//
// Why: a recurrence's adjoint decays geometrically backward in time, so a training step's dz, dv
// and the weight gradients built from them hold denormals; an Intel core takes a microcode assist
// per denormal operand. On the 2-core Intel Xeon (AVX-512) dev machine, 2026-11-30, #9's
// selective-copy step took 4.41 s with denormals kept and 1.28 s flushed (docs/benchmarks.md);
// the AMD EPYC machine of earlier sessions showed no such penalty. TensorFlow flushes by default
// too. The command-line tools flush unless STATEMIX_DENORMALS=keep (flush_denormals_from_env).
bool set_flush_denormals(bool on);

// Whether the calling thread flushes denormals (FTZ and DAZ both set).
bool flush_denormals_enabled();

// The CLI's default: flush denormals unless the environment has STATEMIX_DENORMALS=keep (any
// other value but "flush" is an Error naming the variable). Returns whether it flushes.
bool flush_denormals_from_env();

}  // namespace statemix
