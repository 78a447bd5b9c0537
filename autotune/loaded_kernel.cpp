#include "loaded_kernel.h"

#include "error.h"

#include <dlfcn.h>

namespace statemix::tune {

LoadedKernel::LoadedKernel(const std::string &path, const std::string &function, const KernelKey &k, const Params &p,
                           double compile_s)
    : function_(function), layer_(k.layer), direction_(k.direction), device_(k.device), params_(params_key(p)),
      compile_s_(compile_s) {
    handle_ = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle_) throw Error("cannot load " + path + ": " + ::dlerror());
    auto argv = (int (*)(void **))::dlsym(handle_, (function + "_argv").c_str());
    auto md = (const halide_filter_metadata_t *(*)())::dlsym(handle_, (function + "_metadata").c_str());
    if (!argv || !md) {
        ::dlclose(handle_);
        handle_ = nullptr;
        throw Error(path + " has no " + function + "_argv / _metadata");
    }
    algorithm_ = p.count("algorithm") ? p.at("algorithm") : "sequential";
    entry_.name = function_.c_str();
    entry_.layer = layer_.c_str();
    entry_.direction = direction_.c_str();
    entry_.algorithm = algorithm_.c_str();
    entry_.m = k.m;
    entry_.device = device_.c_str();
    entry_.chunk = algorithm_ == "chunked" ? std::stoi(p.count("chunk") ? p.at("chunk") : "64") : 0;
    entry_.argv = argv;
    entry_.metadata = md;
    entry_.params = params_.c_str();
}

LoadedKernel::~LoadedKernel() {
    if (handle_) ::dlclose(handle_);
}

}  // namespace statemix::tune
