// `statemix apply {hlru|bdlru} --m M [--norm ...] [--device cpu|cuda] [--algorithm ...]
//                 --in NAME=FILE.npy ... --out DIR`
// Inputs: v, z, optional h0, optional g (the gradient of the loss w.r.t. h, resp. s). Writes
// DIR/h.npy and DIR/h_final.npy; with g also dv.npy, dz.npy, dh0.npy. The contract NumPy and
// PyTorch users script against: see README.md.
#include "commands.h"
#include "npy.h"
#include "statemix.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace statemix::cli {
namespace {

struct ApplyOptions {
    std::string layer;
    int m = 0;
    std::string norm = "softmax", device = "cpu", algorithm = "auto";
    std::string residual = "identity", act = "tanh";  // wcrnn
    float eps = 0.05f;
    std::vector<std::string> inputs;
    std::string out;
};

void make_dir(const std::string &dir) {
    if (mkdir(dir.c_str(), 0777) != 0 && errno != EEXIST) {
        throw Error("--out: cannot create directory '" + dir + "': " + std::strerror(errno));
    }
    struct stat st;
    if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) throw Error("--out: '" + dir + "' is not a directory");
}

// Arguments that may be one value: a 0-d array (what np.save("a.npy", 0.97) writes) is taken as is.
bool scalar_argument(const std::string &name) { return name == "a"; }

Tensor load(const std::string &name, const std::string &path, Device dev) {
    npy::Array a = npy::read(path);
    if (a.shape.empty() && !scalar_argument(name)) {
        throw Error("--in " + name + "=" + path + ": expected an array, got a 0-d scalar");
    }
    return Tensor::from_host(a.shape, a.data.data()).to(dev);
}

void save(const std::string &dir, const std::string &name, const Tensor &t) {
    Tensor c = t.to(Device::cpu);
    npy::write(dir + "/" + name + ".npy", c.shape(), c.data());
}

std::map<std::string, std::string> parse_inputs(const ApplyOptions &o, const std::vector<std::string> &known,
                                                const std::vector<std::string> &required) {
    std::map<std::string, std::string> files;
    for (const std::string &kv : o.inputs) {
        auto eq = kv.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == kv.size()) {
            throw Error("--in: expected NAME=FILE.npy, got '" + kv + "'");
        }
        std::string name = kv.substr(0, eq);
        if (std::find(known.begin(), known.end(), name) == known.end()) {
            std::string list;
            for (const auto &k : known) list += (list.empty() ? "" : ", ") + k;
            throw Error("--in: unknown input '" + name + "' for " + o.layer + "; expected " + list);
        }
        if (!files.emplace(name, kv.substr(eq + 1)).second) throw Error("--in: input '" + name + "' given twice");
    }
    for (const std::string &req : required) {
        if (!files.count(req)) throw Error("--in: missing required input '" + req + "' (--in " + req + "=FILE.npy)");
    }
    return files;
}

// `apply wcrnn`: inputs u [B,T,H], W [H,H], the residual's parameters (a: scalar [1] or [H],
// theta [H/2], Q [H,H]), optional h0 [B,H] and g [B,T,H]; writes h, h_final and with g: du, dW, dh0.
void run_apply_wcrnn(const ApplyOptions &o, Device dev) {
    auto files = parse_inputs(o, {"u", "W", "a", "theta", "Q", "h0", "g"}, {"u", "W"});
    WcrnnConfig cfg;
    cfg.residual.kind = parse_residual(o.residual);
    cfg.eps = o.eps;
    cfg.act = parse_activation(o.act);
    Tensor u = load("u", files["u"], dev), W = load("W", files["W"], dev);
    if (files.count("a")) cfg.residual.a = load("a", files["a"], Device::cpu);
    if (files.count("theta")) cfg.residual.theta = load("theta", files["theta"], Device::cpu);
    if (files.count("Q")) cfg.residual.Q = load("Q", files["Q"], Device::cpu);
    std::unique_ptr<Tensor> h0, g;
    if (files.count("h0")) h0 = std::make_unique<Tensor>(load("h0", files["h0"], dev));
    if (files.count("g")) g = std::make_unique<Tensor>(load("g", files["g"], dev));
    RnnForwardResult f = wcrnn_forward(cfg, u, W, h0.get());
    WcrnnGrads bw;
    if (g) bw = wcrnn_backward(cfg, u, W, h0.get(), f.h, *g, nullptr);
    make_dir(o.out);
    save(o.out, "h", f.h);
    save(o.out, "h_final", f.h_final);
    if (g) {
        save(o.out, "du", bw.du);
        save(o.out, "dW", bw.dW);
        save(o.out, "dh0", bw.dh0);
    }
}

void run_apply(const ApplyOptions &o) {
    if (o.layer == "wcrnn") {
        const Device dev = parse_device(o.device);
        if (dev == Device::cuda && !cuda_available()) throw Error("--device cuda: " + cuda_unavailable_reason());
        run_apply_wcrnn(o, dev);
        return;
    }
    if (o.m < 1) throw Error("--m: required for " + o.layer + " (order / block size >= 1)");
    ScanConfig cfg;
    cfg.layer = parse_layer(o.layer);
    cfg.m = o.m;
    cfg.norm = parse_norm(o.norm);
    cfg.algorithm = parse_algorithm(o.algorithm);
    const Device dev = parse_device(o.device);
    if (dev == Device::cuda && !cuda_available()) throw Error("--device cuda: " + cuda_unavailable_reason());

    auto files = parse_inputs(o, {"v", "z", "h0", "g"}, {"v", "z"});
    Tensor v = load("v", files["v"], dev), z = load("z", files["z"], dev);
    std::unique_ptr<Tensor> h0, g;
    if (files.count("h0")) h0 = std::make_unique<Tensor>(load("h0", files["h0"], dev));
    if (files.count("g")) g = std::make_unique<Tensor>(load("g", files["g"], dev));

    ScanForwardResult f = scan_forward(cfg, z, v, h0.get());
    ScanBackwardResult bw;
    if (g) bw = scan_backward(cfg, z, v, h0.get(), f.h, *g, nullptr);

    // Only now that everything succeeded is anything written (each file atomically).
    make_dir(o.out);
    save(o.out, "h", f.h);
    save(o.out, "h_final", f.h_final);
    if (g) {
        save(o.out, "dv", bw.dv);
        save(o.out, "dz", bw.dz);
        save(o.out, "dh0", bw.dh0);
    }
}

}  // namespace

void add_apply_command(CLI::App &app, std::function<void()> &run) {
    auto o = std::make_shared<ApplyOptions>();
    CLI::App *cmd = app.add_subcommand("apply", "Run one layer kernel on .npy tensors and write .npy results");
    cmd->add_option("layer", o->layer, "hlru, bdlru or wcrnn")->required()->check(CLI::IsMember({"hlru", "bdlru", "wcrnn"}));
    cmd->add_option("--m", o->m, "order (H-LRU) or block size (BD-LRU)");
    cmd->add_option("--residual", o->residual, "wcrnn residual")
        ->check(CLI::IsMember({"identity", "scalar", "diagonal", "rotation", "orthogonal", "nonlinear"}));
    cmd->add_option("--eps", o->eps, "wcrnn coupling constant");
    cmd->add_option("--act", o->act, "wcrnn nonlinearity")->check(CLI::IsMember({"tanh", "relu"}));
    cmd->add_option("--norm", o->norm, "gate normalization")
        ->check(CLI::IsMember({"softmax", "sigmoid_l1", "relu_l1", "tanh_l1", "lin_l1", "none"}));
    cmd->add_option("--device", o->device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
    cmd->add_option("--algorithm", o->algorithm, "auto, sequential or chunked")
        ->check(CLI::IsMember({"auto", "sequential", "chunked"}));
    cmd->add_option("--in", o->inputs,
                    "NAME=FILE.npy; hlru/bdlru: v, z, h0, g; wcrnn: u, W, a, theta, Q, h0, g (float32 or float64, C order)")
        ->required();
    cmd->add_option("--out", o->out, "output directory (created if absent)")->required();
    cmd->callback([o, &run] { run = [o] { run_apply(*o); }; });
}

}  // namespace statemix::cli
