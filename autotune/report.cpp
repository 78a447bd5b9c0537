#include "report.h"
#include "space.h"

#include "file_io.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace statemix::tune {

namespace {

struct Series {
    std::string name;
    std::vector<std::pair<double, double>> pts;  // (x, y), sorted by x
    bool dashed = false;
    bool band = false;  // a wide translucent line under the others (the chosen one)
};

const char *kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"};

std::string esc(const std::string &s) {
    std::string o;
    for (char c : s) {
        if (c == '<') o += "&lt;";
        else if (c == '>') o += "&gt;";
        else if (c == '&') o += "&amp;";
        else o += c;
    }
    return o;
}

// A line chart with points; x on a log2 axis when log2x (m, chunk lengths), y from 0.
std::string line_chart(const std::string &title, const std::string &xlabel, const std::string &ylabel,
                       const std::vector<Series> &series, bool log2x) {
    const double W = 580, H = 320, L = 60, R = 170, Tp = 30, Bt = 45;
    std::set<double> xs;
    double ymax = 0;
    for (const Series &s : series) {
        for (auto [x, y] : s.pts) {
            xs.insert(x);
            ymax = std::max(ymax, y);
        }
    }
    if (xs.empty()) return "";
    ymax = ymax > 0 ? ymax * 1.1 : 1;
    auto fx = [&](double x) { return log2x ? std::log2(x) : x; };
    double x0 = fx(*xs.begin()), x1 = fx(*xs.rbegin());
    if (x1 == x0) {
        x0 -= 1;
        x1 += 1;
    }
    auto px = [&](double x) { return L + (fx(x) - x0) / (x1 - x0) * (W - L - R); };
    auto py = [&](double y) { return H - Bt - y / ymax * (H - Tp - Bt); };
    std::string s = fmt::format("<svg xmlns='http://www.w3.org/2000/svg' width='{}' height='{}' font-family='sans-serif' font-size='11'>\n", W, H);
    s += fmt::format("<text x='{}' y='18' font-size='13' font-weight='bold'>{}</text>\n", L, esc(title));
    s += fmt::format("<line x1='{}' y1='{}' x2='{}' y2='{}' stroke='black'/>\n", L, H - Bt, W - R, H - Bt);
    s += fmt::format("<line x1='{}' y1='{}' x2='{}' y2='{}' stroke='black'/>\n", L, Tp, L, H - Bt);
    for (int i = 0; i <= 5; i++) {
        const double y = ymax * i / 5;
        s += fmt::format("<line x1='{}' y1='{:.1f}' x2='{}' y2='{:.1f}' stroke='#ddd'/>\n", L, py(y), W - R, py(y));
        s += fmt::format("<text x='{}' y='{:.1f}' text-anchor='end'>{:.3g}</text>\n", L - 4, py(y) + 4, y);
    }
    for (double x : xs) {
        s += fmt::format("<text x='{:.1f}' y='{}' text-anchor='middle'>{:g}</text>\n", px(x), H - Bt + 14, x);
    }
    s += fmt::format("<text x='{}' y='{}' text-anchor='middle'>{}</text>\n", (L + W - R) / 2, H - 8, esc(xlabel));
    s += fmt::format("<text x='14' y='{}' text-anchor='middle' transform='rotate(-90 14 {})'>{}</text>\n",
                     (Tp + H - Bt) / 2, (Tp + H - Bt) / 2, esc(ylabel));
    for (size_t i = 0; i < series.size(); i++) {
        const Series &se = series[i];
        const char *col = kColors[i % 8];
        std::string path;
        for (auto [x, y] : se.pts) path += fmt::format("{:.1f},{:.1f} ", px(x), py(y));
        s += fmt::format("<polyline fill='none' stroke='{}' stroke-width='{}' {} {} points='{}'/>\n", col,
                         se.band ? 9 : 2, se.band ? "stroke-opacity='0.3' stroke-linejoin='round'" : "",
                         se.dashed ? "stroke-dasharray='5,4'" : "", path);
        for (auto [x, y] : se.pts) {
            s += fmt::format("<circle cx='{:.1f}' cy='{:.1f}' r='3' fill='{}'><title>{}: {:g} -> {:.3g}</title></circle>\n",
                             px(x), py(y), col, esc(se.name), x, y);
        }
        const double ly = Tp + 16 * i + 6;
        s += fmt::format("<line x1='{}' y1='{}' x2='{}' y2='{}' stroke='{}' stroke-width='{}' {} {}/>\n", W - R + 10, ly,
                         W - R + 30, ly, col, se.band ? 9 : 2, se.band ? "stroke-opacity='0.3'" : "",
                         se.dashed ? "stroke-dasharray='5,4'" : "");
        s += fmt::format("<text x='{}' y='{}'>{}</text>\n", W - R + 34, ly + 4, esc(se.name));
    }
    s += "</svg>\n";
    return s;
}

double gbs(const Entry &e, double ms) { return ms > 0 ? e.bytes / (ms / 1e3) / 1e9 : 0; }

// The fastest ok candidate of the tuned space whose params satisfy `pred`.
template <typename P>
double best_ms(const Entry &e, P pred) {
    double best = 0;
    for (const Measurement &c : e.candidates) {
        if (c.status == "ok" && c.source == "tuned" && pred(c.params) && (best == 0 || c.ms < best)) best = c.ms;
    }
    return best;
}

std::string param(const Params &p, const char *k, const char *dflt = "") {
    auto it = p.find(k);
    return it == p.end() ? dflt : it->second;
}

}  // namespace

std::string render_report(const Database &db, const std::string &db_name) {
    std::string html = "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>statemix tuning report</title>\n"
                       "<style>body{font-family:sans-serif;max-width:1200px;margin:1em auto}"
                       "table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px}"
                       "svg{margin:6px;border:1px solid #eee}</style></head><body>\n";
    html += "<h1>statemix tuning report</h1>\n<p>Source: <code>" + esc(db_name) + "</code>. Throughput is bytes " +
            "that must move (spec §6) over the median time; the ceiling is the best copy sample taken between the " +
            "same entry's runs. Tuned: the fastest candidate; default: the build's own knobs; Adams2019, " +
            "Mullapudi2016: Halide's autoschedulers on the same algorithm (for comparison).</p>\n";
    // Group entries: (target, layer, direction, bucket) -> by m.
    std::map<std::string, std::vector<const Entry *>> groups;
    std::vector<const Entry *> rnn;  // the RNN cores: their own section (m is no order there)
    for (const Entry &e : db.entries) {
        if (!e.complete) continue;
        if (is_rnn(e.layer)) rnn.push_back(&e);
        else groups[e.target + "|" + e.layer + "|" + e.direction + "|" + e.bucket].push_back(&e);
    }
    html += "<h2>Throughput against m</h2>\n";
    for (auto &[key, es] : groups) {
        std::sort(es.begin(), es.end(), [](const Entry *a, const Entry *b) { return a->m < b->m; });
        const Entry &f = *es.front();
        Series tuned{"tuned (chosen)", {}, false, true}, dflt{"default"}, ceil{"copy ceiling", {}, true};
        Series alg_a{f.direction == "forward" ? "best sequential" : "best one-pass"};
        Series alg_b{f.direction == "forward" ? "best chunked" : "best two-pass"};
        std::map<std::string, Series> autos;
        for (const Entry *e : es) {
            tuned.pts.push_back({e->m, gbs(*e, e->ms)});
            if (e->default_ms > 0) dflt.pts.push_back({e->m, gbs(*e, e->default_ms)});
            ceil.pts.push_back({e->m, e->ceiling_gbs});
            const bool fwd = e->direction == "forward";
            double a = best_ms(*e, [&](const Params &p) {
                return fwd ? param(p, "algorithm") == "sequential" : param(p, "two_pass", "false") != "true";
            });
            double b = best_ms(*e, [&](const Params &p) {
                return fwd ? param(p, "algorithm") == "chunked" : param(p, "two_pass", "false") == "true";
            });
            if (a > 0) alg_a.pts.push_back({e->m, gbs(*e, a)});
            if (b > 0) alg_b.pts.push_back({e->m, gbs(*e, b)});
            for (const Measurement &c : e->candidates) {
                if (c.status == "ok" && c.source.rfind("autoscheduler", 0) == 0) {
                    autos[c.source].name = c.source.substr(c.source.find(':') + 1);  // "Adams2019"
                    autos[c.source].pts.push_back({e->m, gbs(*e, c.ms)});
                }
            }
        }
        std::vector<Series> ss = {tuned, dflt, alg_a, alg_b, ceil};
        for (auto &[n, s] : autos) ss.push_back(s);
        ss.erase(std::remove_if(ss.begin(), ss.end(), [](const Series &s) { return s.pts.empty(); }), ss.end());
        const Bucket *b = nullptr;
        for (const Bucket &x : db.buckets) {
            if (x.name == f.bucket) b = &x;
        }
        const std::string shape = b ? fmt::format("B={} T={} state {}", b->B, b->T, b->state) : "";
        html += line_chart(fmt::format("{} {}, bucket {} ({})", f.layer, f.direction, f.bucket, shape),
                           f.layer == "bdlru" ? "block size m" : "order m", "GB/s", ss, true);
    }
    html += "<h2>Chunk length (chunked forward)</h2>\n";
    for (auto &[key, es] : groups) {
        const Entry &f = *es.front();
        if (f.direction != "forward") continue;
        std::vector<Series> ss;
        for (const Entry *e : es) {
            std::map<double, double> by_chunk;  // chunk -> best ms over the other knobs
            for (const Measurement &c : e->candidates) {
                if (c.status != "ok" || c.source != "tuned" || param(c.params, "algorithm") != "chunked") continue;
                const double ch = std::stod(param(c.params, "chunk", "64"));
                if (!by_chunk.count(ch) || c.ms < by_chunk[ch]) by_chunk[ch] = c.ms;
            }
            if (by_chunk.empty()) continue;
            Series s{"m = " + std::to_string(e->m)};
            for (auto [ch, ms] : by_chunk) s.pts.push_back({ch, gbs(*e, ms)});
            ss.push_back(s);
        }
        if (!ss.empty()) {
            html += line_chart(fmt::format("{} chunked forward, bucket {}", f.layer, f.bucket), "chunk length", "GB/s",
                               ss, true);
        }
    }
    if (!rnn.empty()) {
        html += "<h2>RNN cores: step kernels against one launch</h2>\n<p>GFLOP/s of the recurrent mat-vecs "
                "(compute-bound) against the step kernels' batch_tile (0: from the register budget), one line per "
                "strip (the better vector width), and the one-launch kernel against its batch_tile; the chosen "
                "candidate and the build's default (the runtime's rule of thumb without an entry) as lines.</p>\n";
        for (const Entry *e : rnn) {
            auto gf = [&](double ms) { return ms > 0 ? e->flops / (ms / 1e3) / 1e9 : 0; };
            std::map<std::string, Series> lines;
            for (const Measurement &c : e->candidates) {
                if (c.status != "ok" || c.source != "tuned") continue;
                const bool st = param(c.params, "impl") == "stepped";
                const std::string name = st ? "stepped, strip " + param(c.params, "strip", "1")
                                            : "one launch, k_unroll " + param(c.params, "k_unroll", "8");
                Series &l = lines[name];
                l.name = name;
                const double x = std::stod(param(c.params, "batch_tile", "0")), y = gf(c.ms);
                auto it = std::find_if(l.pts.begin(), l.pts.end(), [&](const auto &pt) { return pt.first == x; });
                if (it == l.pts.end()) l.pts.push_back({x, y});
                else it->second = std::max(it->second, y);
            }
            std::vector<Series> ss;
            for (auto &[n, l] : lines) {
                std::sort(l.pts.begin(), l.pts.end());
                ss.push_back(l);
            }
            std::vector<double> xs = {0, 8};
            ss.push_back({"chosen: " + param(e->params, "impl"), {{xs[0], gf(e->ms)}, {xs[1], gf(e->ms)}}, false, true});
            if (e->default_ms > 0) ss.push_back({"default", {{xs[0], gf(e->default_ms)}, {xs[1], gf(e->default_ms)}}, true});
            const Bucket *b = nullptr;
            for (const Bucket &x : db.buckets) {
                if (x.name == e->bucket) b = &x;
            }
            const std::string shape = b ? fmt::format("B={} T={} H={}", b->B, std::max<int64_t>(1, b->T / kRnnTimeScale), b->state) : "";
            html += line_chart(fmt::format("{} {}{}, bucket {} ({})", e->layer, e->direction,
                                           e->layer == "wcrnn" ? (e->m == 2 ? " (2x2 residual)" : " (dense residual)") : "",
                                           e->bucket, shape),
                               "batch_tile", "GFLOP/s", ss, false);
        }
    }
    html += "<h2>Entries</h2>\n<table><tr><th>target</th><th>kernel</th><th>m</th><th>bucket</th><th>search</th>"
            "<th>candidates</th><th>tuned knobs</th><th>tuned ms</th><th>default ms</th><th>speed-up</th>"
            "<th>GB/s</th><th>% of ceiling</th><th>measured</th></tr>\n";
    for (const Entry &e : db.entries) {
        html += fmt::format("<tr><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
                            "<td>{:.2f}</td><td>{:.2f}</td><td>{:.2f}x</td><td>{:.1f}</td><td>{:.0f}%</td><td>{}</td></tr>\n",
                            esc(e.target), e.layer, e.direction, e.m, e.bucket, e.complete ? e.search : "incomplete",
                            e.candidates.size(), esc(params_key(e.params)), e.ms, e.default_ms,
                            e.ms > 0 ? e.default_ms / e.ms : 0, gbs(e, e.ms),  // RNN cores: see their section
                            e.ceiling_gbs > 0 ? 100 * gbs(e, e.ms) / e.ceiling_gbs : 0, e.date);
    }
    html += "</table>\n</body></html>\n";
    return html;
}

void write_report(const Database &db, const std::string &db_name, const std::string &out) {
    write_file_atomic(out, render_report(db, db_name));
}

}  // namespace statemix::tune
