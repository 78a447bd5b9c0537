#include "reference_native.h"

#include "reference/scan_reference.h"

namespace statemix::cli {

void reference_forward(Layer layer, const ScanDims &d, Norm norm, const float *z, const float *v,
                       const float *h0, float *h, float *h_final) {
    auto rn = (ref::Norm)norm;
    if (layer == Layer::bdlru) {
        ref::bdlru_forward<float>((int)d.B, (int)d.T, (int)d.N, d.m, rn, z, v, h0, h, h_final);
    } else {
        ref::hlru_forward<float>((int)d.B, (int)d.T, (int)d.N, d.m, rn, z, v, h0, h, h_final);
    }
}

void reference_backward(Layer layer, const ScanDims &d, Norm norm, const float *z, const float *v,
                        const float *h0, const float *g, const float *g_final, float *dz, float *dv,
                        float *dh0) {
    auto rn = (ref::Norm)norm;
    if (layer == Layer::bdlru) {
        ref::bdlru_backward<float>((int)d.B, (int)d.T, (int)d.N, d.m, rn, z, v, h0, g, g_final, dz, dv, dh0);
    } else {
        ref::hlru_backward<float>((int)d.B, (int)d.T, (int)d.N, d.m, rn, z, v, h0, g, g_final, dz, dv, dh0);
    }
}

}  // namespace statemix::cli
