// statemix runtime API: tensors and the layer kernels (forward/backward) on CPU or CUDA.
// Include this one header; link statemix_runtime. The generated kernels and the Halide runtime
// come with it; libHalide is not needed.
#pragma once

#include "tensor.h"
#include "scan_ops.h"
#include "rnn_ops.h"
#include "rnn_init.h"
#include "lyapunov.h"
#include "scratch.h"
#include "thread_pool.h"
#include "nn_ops.h"
#include "dense_ops.h"
