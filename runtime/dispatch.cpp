#include "dispatch.h"

#include "HalideRuntime.h"
#include "HalideRuntimeCuda.h"
#include "scratch.h"
#include "cuda/launch_trace.h"

#include <algorithm>
#include <atomic>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace statemix::dispatch {

void check_shape(const std::string &op, const char *arg, const Tensor &t, const Shape &want, const char *layout) {
    if (!t.defined()) throw Error(op + ": argument '" + arg + "' is undefined; expected " + layout + " = " + shape_str(want));
    if (t.shape() != want) {
        throw Error(op + ": argument '" + arg + "' must have shape " + layout + " = " + shape_str(want) + ", got " +
                    shape_str(t.shape()));
    }
}

void check_device(const std::string &op, const char *arg, const Tensor &t, Device device, const char *device_arg) {
    if (t.device() != device) {
        throw Error(op + ": argument '" + arg + "' is on " + device_name(t.device()) + " but '" + device_arg + "' is on " +
                    device_name(device) + "; copy it with Tensor::to first");
    }
}

namespace {

// Halide reports failures through one global handler. Keep this thread's last message so the
// Error names what went wrong inside the kernel, and pass it on to a handler someone else
// installed before (scan_ops.cpp installs its own once), so both keep working whichever was
// installed last: run_kernel re-installs this one on every call.
thread_local std::string t_halide_error;
std::atomic<halide_error_handler_t> g_chained{nullptr};

void capture_halide_error(void *ctx, const char *msg) {
    t_halide_error = msg ? msg : "";
    if (halide_error_handler_t next = g_chained.load()) next(ctx, msg);
}

void install_error_handler() {
    halide_error_handler_t prev = halide_set_error_handler(capture_halide_error);
    // Halide's default handler prints to stderr: not chained (the Error carries the message).
    if (prev != capture_halide_error && prev != halide_default_error) g_chained.store(prev);
}

}  // namespace

std::vector<void *> bind_args(const KernelEntry &k, const std::vector<KernelArg> &args) {
    const halide_filter_metadata_t *md = k.meta();
    std::vector<void *> argv((size_t)md->num_arguments, nullptr);
    std::vector<bool> used(args.size(), false);
    for (int i = 0; i < md->num_arguments; i++) {
        const char *want = md->arguments[i].name;
        for (size_t a = 0; a < args.size(); a++) {
            if (args[a].name == want) {
                argv[(size_t)i] = args[a].value;
                used[a] = true;
            }
        }
        if (!argv[(size_t)i]) throw Error(std::string("kernel ") + k.name + ": no value for its argument '" + want + "'");
    }
    for (size_t a = 0; a < args.size(); a++) {
        if (!used[a]) throw Error(std::string("kernel ") + k.name + " has no argument '" + args[a].name + "'");
    }
    return argv;
}

void set_kernel_error_message(const char *msg) { t_halide_error = msg ? msg : ""; }

bool runs_on_tier(int max_cpu_tier, int hw_tier) { return max_cpu_tier < 0 || hw_tier <= max_cpu_tier; }

namespace {
// The tier whose code Halide's dispatch runs on this CPU, read once (not the environment's choice).
int hardware_cpu_tier() {
    static const int hw = running_cpu_tier();
    return hw;
}
}  // namespace

bool runs_here(const KernelEntry &k) { return runs_on_tier(k.max_cpu_tier, hardware_cpu_tier()); }

int cpu_float_lanes() {
    const CpuTier &t = kCpuTiers[hardware_cpu_tier()];
    return t.n_features ? natural_float_lanes(t.target) : 16;
}

void call_kernel(const KernelEntry &k, std::vector<void *> &argv) {
    // Halide's multi-target wrapper runs its last target on a CPU that has none of their features:
    // an illegal instruction where that CPU lacks AVX2, so refuse before, by name.
    static const bool cpu_runs_a_tier = cpu_tier_in(kCpuTiers, kCpuTiersSize) >= 0;
    if (!cpu_runs_a_tier && std::strcmp(k.device, "cpu") == 0) {
        throw Error("kernel " + std::string(k.name) + ": " + unsupported_cpu_message(kCpuTiers, kCpuTiersSize));
    }
    if (!runs_here(k)) {
        std::string tiers;
        for (int i = 0; i <= k.max_cpu_tier && i < kCpuTiersSize; i++) tiers += std::string(i ? ", " : "") + kCpuTiers[i].target;
        throw Error(std::string("kernel ") + k.name + " is compiled only for the CPU targets " + tiers +
                    " (a tuning database winner of those tiers), and this CPU runs " +
                    kCpuTiers[hardware_cpu_tier()].target + "; run the layer's default kernel instead");
    }
    install_error_handler();
    install_scratch_cache();
    // Also what links launch_trace.cpp into every program that runs kernels (its
    // halide_cuda_get_symbol replaces the Halide runtime's weak one only if the object is linked).
    if (std::strcmp(k.device, "cuda") == 0) cuda_trace::enabled();
    t_halide_error.clear();
    int rc = k.call ? k.call(k.ctx, argv.data()) : k.argv(argv.data());
    if (rc != 0) {
        std::string msg = t_halide_error;
        while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
        throw Error(std::string("kernel ") + k.name + " failed (Halide error " + std::to_string(rc) + "): " + msg);
    }
}

void run_kernel(const KernelEntry &k, const std::vector<KernelArg> &args) {
    std::vector<void *> argv = bind_args(k, args);
    call_kernel(k, argv);
}

bool has_argument(const KernelEntry &k, const char *name) {
    const halide_filter_metadata_t *md = k.meta();
    for (int i = 0; i < md->num_arguments; i++) {
        if (std::strcmp(md->arguments[i].name, name) == 0) return true;
    }
    return false;
}

halide_buffer_t strided_view(Tensor &t, const std::vector<halide_dimension_t> &dims) {
    halide_buffer_t b{};
    b.host = (uint8_t *)t.raw()->host;
    if (t.device() == Device::cuda) {
        // The tensor's device allocation (as Tensor::slice does); the caller marks t written.
        b.device = (uint64_t)(uintptr_t)t.device_data();
        b.device_interface = halide_cuda_device_interface();
    }
    b.type = t.raw()->type;
    b.dimensions = (int32_t)dims.size();
    b.dim = const_cast<halide_dimension_t *>(dims.data());
    return b;
}

halide_buffer_t time_major_view(Tensor &t, std::vector<halide_dimension_t> &dims) {
    const halide_buffer_t *r = t.raw();
    dims.assign(r->dim, r->dim + r->dimensions);
    if (dims.size() >= 2) std::swap(dims[dims.size() - 1], dims[dims.size() - 2]);
    return strided_view(t, dims);
}

namespace {
std::atomic<const KernelEntry *> g_override{nullptr};

bool same_kernel(const KernelEntry &k, const char *layer, const char *direction, Device device, int m) {
    return !std::strcmp(k.layer, layer) && !std::strcmp(k.direction, direction) &&
           !std::strcmp(k.device, device_name(device)) && k.m == m;
}
}  // namespace

ScopedKernelOverride::ScopedKernelOverride(const KernelEntry &k) : prev_(g_override.exchange(&k)) {}
ScopedKernelOverride::~ScopedKernelOverride() { g_override.store(prev_); }

const KernelEntry *kernel_override(const char *layer, Device device, int m) {
    const KernelEntry *o = g_override.load();
    return o && !std::strcmp(o->layer, layer) && !std::strcmp(o->device, device_name(device)) && o->m == m ? o : nullptr;
}

int natural_float_lanes(const std::string &target) {
    bool avx = false, avx512 = false;
    size_t pos = 0;
    while (pos <= target.size()) {
        const size_t end = std::min(target.find('-', pos), target.size());
        const std::string f = target.substr(pos, end - pos);
        avx512 |= f.rfind("avx512", 0) == 0;
        avx |= f == "avx" || f == "avx2";
        pos = end + 1;
    }
    return avx512 ? 16 : avx ? 8 : 4;
}

int cpu_tier_in(const CpuTier *tiers, int n) {
    for (int i = 0; i < n; i++) {
        const CpuTier &t = tiers[i];
        std::vector<uint64_t> mask((halide_target_feature_end + 63) / 64, 0);
        for (int f = 0; f < t.n_features; f++) mask[(size_t)t.features[f] / 64] |= uint64_t(1) << (t.features[f] % 64);
        if (halide_can_use_target_features((int)mask.size(), mask.data())) return i;
    }
    return -1;
}

std::string unsupported_cpu_message(const CpuTier *tiers, int n) {
    std::string list;
    for (int i = 0; i < n; i++) list += std::string(i ? ", " : "") + tiers[i].target;
    return "this CPU lacks the features of every CPU target the kernels were compiled for (" + list +
           "); rebuild for it: add x86-64-linux-sse41 to STATEMIX_CPU_TARGETS (a CPU without AVX2 and FMA) or "
           "configure with -DSTATEMIX_CPU_TARGETS=host on it";
}

int running_cpu_tier() {
    const int t = cpu_tier_in(kCpuTiers, kCpuTiersSize);
    // None: call_kernel refuses the CPU kernels; the choices are those of the smallest tier.
    return t >= 0 ? t : kCpuTiersSize - 1;
}

int parse_tuned_tier(const char *v) {
    if (!v || !*v) return running_cpu_tier();
    char *end = nullptr;
    const long t = std::strtol(v, &end, 10);
    if (*end || t < 0 || t >= kCpuTiersSize) {
        std::string tiers;
        for (int i = 0; i < kCpuTiersSize; i++) tiers += "\n  " + std::to_string(i) + ": " + kCpuTiers[i].target;
        throw Error(std::string("STATEMIX_TUNED_TIER='") + v + "': expected a CPU tier index from 0 to " +
                    std::to_string(kCpuTiersSize - 1) + " (unset: the running CPU's); the tiers:" + tiers);
    }
    return (int)t;
}

int cpu_tier() {
    static const int tier = parse_tuned_tier(std::getenv("STATEMIX_TUNED_TIER"));
    return tier;
}

int choice_rank(int choice_tier, int running_tier) {
    if (choice_tier < 0 || choice_tier == running_tier) return 0;
    if (choice_tier > running_tier) return choice_tier - running_tier;  // a smaller machine's: runs here
    return 1000 + (running_tier - choice_tier);  // tuned on a machine with features this one lacks
}

namespace {

// The processor features of cpu_has_undetected_feature, read once (cpuid traps to the hypervisor
// in a virtual machine: not once per kernel selection).
struct UndetectedFeatures {
    bool avxvnni = true, zen4 = true, zen5 = true, sapphirerapids = true;
};

UndetectedFeatures read_undetected_features() {
    UndetectedFeatures u;
#if defined(__x86_64__) || defined(__i386__)
    unsigned a0 = 0, b0 = 0, c0 = 0, d0 = 0, a1 = 0, b1 = 0, c1 = 0, d1 = 0;
    if (!__get_cpuid_count(7, 0, &a0, &b0, &c0, &d0)) return UndetectedFeatures{false, false, false, false};
    __get_cpuid_count(7, 1, &a1, &b1, &c1, &d1);
    auto bit = [](unsigned reg, int i) { return ((reg >> i) & 1u) != 0; };
    unsigned a = 0, vendor_b = 0, vendor_c = 0, vendor_d = 0, sig = 0, b = 0, c = 0, d = 0;
    __get_cpuid(0, &a, &vendor_b, &vendor_c, &vendor_d);
    __get_cpuid(1, &sig, &b, &c, &d);
    const bool amd = vendor_b == 0x68747541 && vendor_d == 0x69746e65 && vendor_c == 0x444d4163;  // "AuthenticAMD"
    const unsigned family = ((sig >> 8) & 0xF) == 0xF ? 0xF + ((sig >> 20) & 0xFF) : (sig >> 8) & 0xF;
    u.avxvnni = bit(a1, 4);
    // AVX512-VNNI, -BF16, -VBMI2, -BITALG, -VPOPCNTDQ on top of Cannonlake's IFMA and VBMI.
    u.zen4 = bit(c0, 11) && bit(a1, 5) && bit(c0, 6) && bit(c0, 12) && bit(c0, 14) && bit(b0, 21) && bit(c0, 1);
    // A virtual machine may hide one sign (AMX needs the guest's XSAVE state): either will do.
    u.zen5 = u.zen4 && u.avxvnni && (bit(d0, 8) || (amd && family >= 0x1A));  // AVX512-VP2INTERSECT
    u.sapphirerapids = u.zen4 && u.avxvnni && (bit(d0, 24) || bit(d0, 23));   // AMX-TILE, AVX512-FP16
#endif
    return u;
}

}  // namespace

bool cpu_has_undetected_feature(int feature) {
    static const UndetectedFeatures u = read_undetected_features();
    switch (feature) {
    case halide_target_feature_avxvnni: return u.avxvnni;
    case halide_target_feature_avx512_zen4: return u.zen4;
    case halide_target_feature_avx512_zen5: return u.zen5;
    case halide_target_feature_avx512_sapphirerapids: return u.sapphirerapids;
    default: return true;
    }
}

bool on_tuning_machine(const KernelChoice &c) {
    if (!c.machine_features || c.n_machine_features == 0) return true;
    std::vector<uint64_t> mask((halide_target_feature_end + 63) / 64, 0);
    for (int f = 0; f < c.n_machine_features; f++) {
        if (!cpu_has_undetected_feature(c.machine_features[f])) return false;
        mask[(size_t)c.machine_features[f] / 64] |= uint64_t(1) << (c.machine_features[f] % 64);
    }
    return halide_can_use_target_features((int)mask.size(), mask.data()) != 0;
}

int64_t choice_order(const KernelChoice &c, int running_tier) {
    int64_t order = (int64_t)choice_rank(c.cpu_tier, running_tier) * 1000000;
    // A machine smaller than the tier (machine_extra >= 1000, one tier of a build for bigger CPUs
    // only) after the tier's own machines, as the build ranked them.
    if (c.machine_extra >= 1000) order += 500000;
    // A machine this CPU matches: the most specific first (a Zen 5 CPU matches an AVX-512 Skylake's
    // features too). Else the fewest features beyond the tier's, the closest to what its code uses.
    if (on_tuning_machine(c)) return order + 1000 - c.n_machine_features;
    return order + 100000 + c.machine_extra;
}

const char *tuned_choice_in(const KernelChoice *choices, int n, const char *layer, const char *op_direction,
                            Device device, int m, int64_t lanes, int64_t T, int tier, int hw_tier) {
    const KernelChoice *best = nullptr;
    int64_t best_order = 0;
    if (hw_tier < 0 && device == Device::cpu) hw_tier = hardware_cpu_tier();
    for (int i = 0; i < n; i++) {
        const KernelChoice &c = choices[i];
        if (device == Device::cpu && !runs_on_tier(c.kernel_max_tier, hw_tier)) continue;
        if (!std::strcmp(c.layer, layer) && !std::strcmp(c.direction, op_direction) &&
            !std::strcmp(c.device, device_name(device)) && c.m == m && lanes >= c.lanes_min && lanes <= c.lanes_max &&
            T >= c.t_min && T <= c.t_max) {
            const int64_t r = choice_order(c, tier);
            if (!best || r < best_order) best = &c, best_order = r;
        }
    }
    return best ? best->kernel : nullptr;
}

const char *tuned_choice(const char *layer, const char *op_direction, Device device, int m, int64_t lanes, int64_t T,
                         int tier) {
    return tuned_choice_in(kKernelChoices, kKernelChoicesSize, layer, op_direction, device, m, lanes, T, tier);
}

const char *tuned_choice(const char *layer, const char *op_direction, Device device, int m, int64_t lanes, int64_t T) {
    return tuned_choice(layer, op_direction, device, m, lanes, T, device == Device::cpu ? cpu_tier() : -1);
}

const KernelEntry *tuned_kernel(const char *layer, const char *op_direction, Device device, int m, int64_t lanes,
                                int64_t T) {
    const char *name = tuned_choice(layer, op_direction, device, m, lanes, T);
    for (int j = 0; name && j < kKernelTableSize; j++) {
        if (std::strcmp(kKernelTable[j].name, name) == 0) return &kKernelTable[j];
    }
    return nullptr;
}

const KernelEntry *find_kernel_or_null(const char *layer, const char *direction, Device device, int m) {
    if (const KernelEntry *o = g_override.load(); o && same_kernel(*o, layer, direction, device, m)) return o;
    for (int i = 0; i < kKernelTableSize; i++) {
        const KernelEntry &k = kKernelTable[i];
        if (!std::strcmp(k.layer, layer) && !std::strcmp(k.direction, direction) &&
            !std::strcmp(k.device, device_name(device)) && k.m == m) {
            return &k;
        }
    }
    return nullptr;
}

const KernelEntry &find_kernel(const std::string &op, const char *layer, const char *direction, Device device, int m) {
    if (const KernelEntry *o = g_override.load(); o && same_kernel(*o, layer, direction, device, m)) return *o;
    std::string avail;
    for (int i = 0; i < kKernelTableSize; i++) {
        const KernelEntry &k = kKernelTable[i];
        if (std::strcmp(k.layer, layer) || std::strcmp(k.direction, direction)) continue;
        if (std::strcmp(k.device, device_name(device)) == 0 && k.m == m) return k;
        avail += std::string(avail.empty() ? "" : ", ") + k.device + " m=" + std::to_string(k.m);
    }
    if (device == Device::cuda && !cuda_available()) throw Error(op + ": device cuda: " + cuda_unavailable_reason());
    throw Error(op + ": no " + direction + " kernel compiled for " + device_name(device) + " with m = " + std::to_string(m) +
                (avail.empty() ? std::string(" (this build has none for this layer)") : "; compiled: " + avail) +
                (device == Device::cuda ? " (configure with -DSTATEMIX_CUDA=ON for CUDA kernels)" : ""));
}

}  // namespace statemix::dispatch
