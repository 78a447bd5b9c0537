// The plain C++ reference loops (reference/scan_reference.h) in float32, compiled with
// -O3 -march=native in their own translation unit: the baseline `statemix bench` compares
// every kernel against ("how much faster than the obvious loop, compiled as well as the compiler
// can for this machine").
#pragma once

#include "scan_ops.h"

namespace statemix::cli {

void reference_forward(Layer layer, const ScanDims &d, Norm norm, const float *z, const float *v,
                       const float *h0, float *h, float *h_final);
void reference_backward(Layer layer, const ScanDims &d, Norm norm, const float *z, const float *v,
                        const float *h0, const float *g, const float *g_final, float *dz, float *dv,
                        float *dh0);

}  // namespace statemix::cli
