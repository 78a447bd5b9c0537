#include "jit_kernel.h"

#include "error.h"
#include "scratch.h"

#include <chrono>

namespace statemix::tune {

namespace {

// The JIT pipelines allocate their intermediate stages through the same scratch cache as the AOT
// kernels (runtime/scratch.h), so candidates and built kernels pay the same for memory.
void *jit_malloc(Halide::JITUserContext *ctx, size_t n) { return scratch_malloc(ctx, n); }
void jit_free(Halide::JITUserContext *ctx, void *p) { scratch_free(ctx, p); }

thread_local std::string t_jit_error;
void jit_error(Halide::JITUserContext *, const char *msg) { t_jit_error = msg ? msg : ""; }

}  // namespace

JitKernel::JitKernel(const KernelKey &k, const Params &params, const Halide::Target &target)
    : layer_(k.layer), direction_(k.direction), device_(k.device) {
    auto t0 = std::chrono::steady_clock::now();
    Params p = params;
    algorithm_ = p.count("algorithm") ? p["algorithm"] : "sequential";
    p["m"] = std::to_string(k.m);
    params_str_ = params_key(params);
    name_ = "jit " + k.label() + " [" + params_str_ + "]";
    int chunk = 0;
    if (algorithm_ == "chunked") chunk = p.count("chunk") ? std::stoi(p["chunk"]) : 64;
    try {
        Halide::GeneratorContext context(target);
        auto gen = Halide::Internal::GeneratorRegistry::create(k.generator(), context);
        for (const auto &[key, value] : p) gen->set_generatorparam_value(key, value);
        // Argument names in the order the Callable takes them: inputs, then outputs (a Tuple
        // output's elements as name.0, name.1, ..., as in the AOT kernels' metadata).
        std::vector<halide_filter_argument_t> args;
        for (const auto &a : gen->arginfos()) {
            const bool buffer = a.kind != Halide::Internal::ArgInfoKind::Scalar;
            const bool output = a.dir == Halide::Internal::ArgInfoDirection::Output;
            for (size_t i = 0; i < a.types.size(); i++) {
                arg_names_.push_back(a.types.size() > 1 ? a.name + "." + std::to_string(i) : a.name);
                halide_filter_argument_t fa{};
                fa.kind = output ? halide_argument_kind_output_buffer
                                 : buffer ? halide_argument_kind_input_buffer : halide_argument_kind_input_scalar;
                fa.dimensions = a.dimensions;
                fa.type = a.types[i];
                args.push_back(fa);
            }
        }
        Halide::JITHandlers handlers;
        handlers.custom_malloc = jit_malloc;
        handlers.custom_free = jit_free;
        handlers.custom_error = jit_error;
        callable_ = gen->compile_to_callable(&handlers);
        args_ = std::move(args);
    } catch (const Halide::Error &e) {
        throw Error("tune: " + k.label() + " [" + params_str_ + "] does not compile: " + e.what());
    }
    for (size_t i = 0; i < args_.size(); i++) args_[i].name = arg_names_[i].c_str();
    metadata_.version = halide_filter_metadata_t::VERSION;
    metadata_.num_arguments = (int32_t)args_.size();
    metadata_.arguments = args_.data();
    metadata_.target = nullptr;
    metadata_.name = name_.c_str();
    entry_.name = name_.c_str();
    entry_.layer = layer_.c_str();
    entry_.direction = direction_.c_str();
    entry_.algorithm = algorithm_.c_str();
    entry_.m = k.m;
    entry_.device = device_.c_str();
    entry_.chunk = chunk;
    entry_.argv = nullptr;
    entry_.metadata = nullptr;
    entry_.params = params_str_.c_str();
    entry_.call = &JitKernel::call;
    entry_.ctx = this;
    entry_.jit_metadata = &metadata_;
    compile_s_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int JitKernel::call(const void *self, void **args) {
    const JitKernel &k = *static_cast<const JitKernel *>(self);
    // Callable's argv: a JITUserContext** first, then the arguments as the AOT argv takes them.
    Halide::JITUserContext context;
    Halide::JITUserContext *context_ptr = &context;
    std::vector<const void *> argv;
    argv.reserve(k.args_.size() + 1);
    argv.push_back(&context_ptr);
    for (size_t i = 0; i < k.args_.size(); i++) argv.push_back(args[i]);
    t_jit_error.clear();
    int rc = k.callable_.call_argv_fast(argv.size(), argv.data());
    if (rc != 0 && !t_jit_error.empty()) std::fprintf(stderr, "%s\n", t_jit_error.c_str());
    return rc;
}

}  // namespace statemix::tune
