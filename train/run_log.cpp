// Metrics JSONL and the SVG plot of a run. See run_log.h for the contract.
#include "train/run_log.h"

#include "runtime/error.h"
#include "runtime/file_io.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

#include <unistd.h>

namespace statemix::train {

// ---------------------------------------------------------------------------------------------
// metrics.jsonl

namespace {

[[noreturn]] void fail_errno(const std::string &path, const std::string &what, int e) {
    throw Error("metrics log '" + path + "': " + what + ": " + std::strerror(e));
}

struct Line {
    std::string text;  // without the '\n'
    bool terminated;   // ended with '\n'
};

std::vector<Line> split_lines(const std::string &text) {
    std::vector<Line> lines;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t nl = text.find('\n', pos);
        if (nl == std::string::npos) {
            lines.push_back({text.substr(pos), false});
            break;
        }
        lines.push_back({text.substr(pos, nl - pos), true});
        pos = nl + 1;
    }
    return lines;
}

bool blank(const std::string &s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

// The record on a line; nullopt for a blank line or for an unterminated last line that does not
// parse (cut off by a crash); Error for any other line that is not a JSON object.
std::optional<nlohmann::json> parse_line(const std::string &path, const Line &line, size_t number, bool last) {
    if (blank(line.text)) return std::nullopt;
    nlohmann::json j = nlohmann::json::parse(line.text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() && last && !line.terminated) return std::nullopt;
    if (j.is_discarded() || !j.is_object())
        throw Error("metrics log '" + path + "': line " + std::to_string(number) + " is not a JSON object: " +
                    line.text.substr(0, 120));
    return j;
}

}  // namespace

MetricsLog::MetricsLog(const std::string &path, bool append) : path_(path) {
    if (append && ::access(path.c_str(), F_OK) == 0) {
        const std::string text = read_file(path);
        if (!text.empty() && text.back() != '\n') {
            const size_t keep = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
            if (::truncate(path.c_str(), static_cast<off_t>(keep)) != 0)
                fail_errno(path, "cannot cut off the unterminated last line", errno);
        }
    }
    file_ = std::fopen(path.c_str(), append ? "a" : "w");
    if (!file_) fail_errno(path, "cannot open", errno);
}

MetricsLog::~MetricsLog() {
    if (file_) std::fclose(file_);
}

void MetricsLog::write(const nlohmann::json &record) {
    if (!record.is_object()) throw Error("metrics log '" + path_ + "': a record must be a JSON object, got " + record.dump());
    // replace: a stray invalid UTF-8 byte in a string must not lose the record.
    const std::string line = record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0)
        fail_errno(path_, "cannot append a record", errno);
}

std::vector<nlohmann::json> read_metrics(const std::string &path) {
    const std::vector<Line> lines = split_lines(read_file(path));
    std::vector<nlohmann::json> records;
    for (size_t i = 0; i < lines.size(); ++i)
        if (auto r = parse_line(path, lines[i], i + 1, i + 1 == lines.size())) records.push_back(std::move(*r));
    return records;
}

void truncate_metrics_after(const std::string &path, int64_t step) {
    if (::access(path.c_str(), F_OK) != 0) {
        if (errno == ENOENT) return;
        fail_errno(path, "cannot access", errno);
    }
    const std::vector<Line> lines = split_lines(read_file(path));
    std::string kept;
    for (size_t i = 0; i < lines.size(); ++i) {
        std::optional<nlohmann::json> r = parse_line(path, lines[i], i + 1, i + 1 == lines.size());
        if (!r) continue;
        const nlohmann::json &s = (*r)["step"];
        if (s.is_number() && s.get<double>() > static_cast<double>(step)) continue;
        kept += lines[i].text + "\n";
    }
    write_file_atomic(path, kept);
}

// ---------------------------------------------------------------------------------------------
// SVG plot

namespace {

struct Point {
    double x, y;
};

// One axis: data range [lo, hi], mapped to pixels [p0, p1] (p1 < p0 for a y axis, which grows
// upwards). A log axis works in log10 space.
struct Axis {
    double lo = 0, hi = 1;
    bool log = false;
    double p0 = 0, p1 = 1;
    double to_px(double v) const {
        double t = log ? (std::log10(v) - lo) / (hi - lo) : (v - lo) / (hi - lo);
        return p0 + t * (p1 - p0);
    }
};

struct Tick {
    double value;
    std::string label;  // empty: a minor tick (grid line only)
};

// The series of `key` over the records, in step order, finite values only (and positive ones for
// a log axis, which cannot show the rest). `scale` converts units (fractions to percent).
std::vector<Point> series(const std::vector<nlohmann::json> &records, const char *key, double scale = 1.0) {
    std::vector<Point> out;
    for (const nlohmann::json &r : records) {
        if (!r.is_object()) continue;
        auto s = r.find("step");
        auto v = r.find(key);
        if (s == r.end() || v == r.end() || !s->is_number() || !v->is_number()) continue;
        const double x = s->get<double>(), y = v->get<double>() * scale;
        if (std::isfinite(x) && std::isfinite(y)) out.push_back({x, y});
    }
    std::stable_sort(out.begin(), out.end(), [](const Point &a, const Point &b) { return a.x < b.x; });
    return out;
}

// Centered moving average over about 4 % of the points (the window shrinks where it runs past an
// end). Centered rather than an exponential average because the plot is drawn after the fact: a
// causal average lags a falling loss or a rising accuracy by half its window, which reads as
// "smoothed is worse than raw". Prefix sums keep it O(n) for any window.
std::vector<Point> smooth(const std::vector<Point> &pts) {
    const size_t n = pts.size();
    const size_t half = n / 50;
    std::vector<double> prefix(n + 1, 0.0);
    for (size_t i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + pts[i].y;
    std::vector<Point> out(n);
    for (size_t i = 0; i < n; ++i) {
        const size_t lo = i >= half ? i - half : 0, hi = std::min(n, i + half + 1);
        out[i] = {pts[i].x, (prefix[hi] - prefix[lo]) / static_cast<double>(hi - lo)};
    }
    return out;
}

// 1, 2, 2.5 or 5 times a power of ten, the smallest at least `raw`.
double nice_step(double raw) {
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
        if (m * mag >= raw * (1 - 1e-9)) return m * mag;
    return 10 * mag;
}

// Step counts read best as 0, 2.5k, 5k, 1.2M.
std::string format_step(double v) {
    const double a = std::abs(v);
    if (a >= 1e6) return fmt::format("{:g}M", v / 1e6);
    if (a >= 1e4) return fmt::format("{:g}k", v / 1e3);
    return fmt::format("{:g}", v);
}

std::vector<Tick> linear_ticks(double lo, double hi, int target, bool is_step) {
    const double step = nice_step((hi - lo) / target);
    // Enough decimals that 0.25 and 0.5 label distinctly, the same for every tick.
    const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)) +
                                         (std::abs(step / std::pow(10.0, std::floor(std::log10(step))) - 2.5) < 1e-6));
    std::vector<Tick> ticks;
    for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) {
        const double t = std::abs(v) < step * 1e-9 ? 0.0 : v;
        ticks.push_back({t, is_step ? format_step(t) : fmt::format("{:.{}f}", t, decimals)});
    }
    return ticks;
}

// Decades labeled; 2..9 times each as minor grid lines; 2 and 5 labeled too when fewer than three
// decades fall inside the axis, so it never has fewer than three labels.
std::vector<Tick> log_ticks(double log_lo, double log_hi) {
    std::vector<Tick> ticks;
    const bool label_25 = std::floor(log_hi + 1e-9) - std::ceil(log_lo - 1e-9) + 1 < 3;
    for (int e = static_cast<int>(std::floor(log_lo)); e <= static_cast<int>(std::ceil(log_hi)); ++e) {
        for (int m = 1; m <= 9; ++m) {
            const double v = m * std::pow(10.0, e);
            const double lv = std::log10(v);
            if (lv < log_lo - 1e-9 || lv > log_hi + 1e-9) continue;
            const bool labeled = m == 1 || (label_25 && (m == 2 || m == 5));
            ticks.push_back({v, labeled ? fmt::format("{:g}", v) : std::string()});
        }
    }
    return ticks;
}

std::string xml_escape(const std::string &s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&apos;"; break;
            default: out += c;
        }
    }
    return out;
}

// Pixel coordinates of `pts` as an SVG points list. A long run has far more steps than pixels;
// per pixel column only the first, lowest, highest and last points are kept, which draws the
// same picture (spikes included) with at most ~4 points per column.
std::string polyline_points(const std::vector<Point> &pts, const Axis &x, const Axis &y) {
    std::string out;
    auto emit = [&](const Point &p) { out += fmt::format("{:.1f},{:.1f} ", x.to_px(p.x), y.to_px(p.y)); };
    size_t i = 0;
    while (i < pts.size()) {
        const long col = std::lround(x.to_px(pts[i].x));
        size_t j = i, lo = i, hi = i;
        while (j < pts.size() && std::lround(x.to_px(pts[j].x)) == col) {
            if (pts[j].y < pts[lo].y) lo = j;
            if (pts[j].y > pts[hi].y) hi = j;
            ++j;
        }
        size_t keep[4] = {i, std::min(lo, hi), std::max(lo, hi), j - 1};
        for (int k = 0; k < 4; ++k)
            if (k == 0 || keep[k] != keep[k - 1]) emit(pts[keep[k]]);
        i = j;
    }
    if (!out.empty()) out.pop_back();
    return out;
}

struct Style {
    std::string color;
    double width;
    double opacity;
    bool markers;  // points (eval results) rather than a line
};

struct Series {
    std::string label;
    std::vector<Point> pts;
    Style style;
};

struct Panel {
    std::string y_label;
    std::vector<Series> series;
    bool log_y = false;
    bool legend_bottom = false;  // accuracy rises to the top right, so its legend goes below
    std::string empty_note;
};

// [lo, hi] of the values, padded by 5 % (in log space for a log axis), never zero-width.
std::pair<double, double> y_range(const Panel &panel) {
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const Series &s : panel.series)
        for (const Point &p : s.pts) {
            if (panel.log_y && p.y <= 0) continue;
            const double v = panel.log_y ? std::log10(p.y) : p.y;
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    if (!(lo <= hi)) return {0, 1};
    if (hi - lo < 1e-12) {
        const double pad = panel.log_y ? 0.5 : std::max(std::abs(lo) * 0.1, 0.5);
        return {lo - pad, hi + pad};
    }
    const double pad = 0.05 * (hi - lo);
    return {lo - pad, hi + pad};
}

void draw_panel(std::string &svg, const Panel &panel, const Axis &x_axis, double top, double height, double left,
                double right) {
    Axis x = x_axis, y;
    y.log = panel.log_y;
    std::tie(y.lo, y.hi) = y_range(panel);
    y.p0 = top + height;
    y.p1 = top;

    // Frame, grid and ticks.
    svg += fmt::format(R"(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="#fff" stroke="#888"/>)"
                       "\n",
                       left, top, right - left, height);
    const std::vector<Tick> yticks = y.log ? log_ticks(y.lo, y.hi) : linear_ticks(y.lo, y.hi, 5, false);
    for (const Tick &t : yticks) {
        const double py = y.to_px(t.value);
        svg += fmt::format(R"(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="{}"/>)"
                           "\n",
                           left, py, right, py, t.label.empty() ? "#f2f2f2" : "#e0e0e0");
        if (t.label.empty()) continue;
        svg += fmt::format(R"(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="#888"/>)"
                           "\n",
                           left - 5, py, left, py);
        svg += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" text-anchor="end" dominant-baseline="middle">{}</text>)"
                           "\n",
                           left - 8, py, t.label);
    }
    for (const Tick &t : linear_ticks(x.lo, x.hi, 8, true)) {
        const double px = x.to_px(t.value);
        svg += fmt::format(R"(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="#e0e0e0"/>)"
                           "\n",
                           px, top, px, top + height);
        svg += fmt::format(R"(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="#888"/>)"
                           "\n",
                           px, top + height, px, top + height + 5);
        svg += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" text-anchor="middle">{}</text>)"
                           "\n",
                           px, top + height + 18, t.label);
    }
    svg += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" text-anchor="middle">step</text>)"
                       "\n",
                       (left + right) / 2, top + height + 36);
    svg += fmt::format(R"svg(<text transform="translate({:.1f},{:.1f}) rotate(-90)" text-anchor="middle">{}</text>)svg"
                       "\n",
                       left - 52, top + height / 2, xml_escape(panel.y_label + (panel.log_y ? " (log scale)" : "")));

    // Data, clipped to the frame (a log axis drops values <= 0 anyway; the clip is for safety).
    bool any = false;
    for (const Series &s : panel.series) {
        if (s.pts.empty()) continue;
        any = true;
        std::vector<Point> pts;
        for (const Point &p : s.pts)
            if (!panel.log_y || p.y > 0) pts.push_back(p);
        if (pts.empty()) continue;
        svg += fmt::format(R"(<polyline fill="none" stroke="{}" stroke-width="{}" stroke-opacity="{}" )"
                           R"(stroke-linejoin="round" points="{}"/>)"
                           "\n",
                           s.style.color, s.style.width, s.style.opacity, polyline_points(pts, x, y));
        if (s.style.markers) {
            svg += fmt::format(R"(<g fill="{}">)", s.style.color);
            for (const Point &p : pts)
                svg += fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="3"/>)", x.to_px(p.x), y.to_px(p.y));
            svg += "</g>\n";
        }
    }
    if (!any) {
        svg += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" text-anchor="middle" fill="#888">{}</text>)"
                           "\n",
                           (left + right) / 2, top + height / 2, xml_escape(panel.empty_note));
        return;
    }

    // Legend: one row per drawn series, with the last value, in a corner the curves rarely use.
    std::vector<const Series *> shown;
    for (const Series &s : panel.series)
        if (!s.pts.empty() && !s.label.empty()) shown.push_back(&s);
    std::vector<std::string> texts;
    size_t longest = 0;
    for (const Series *s : shown) {
        texts.push_back(fmt::format("{} (last {:.4g})", s->label, s->pts.back().y));
        longest = std::max(longest, texts.back().size());
    }
    // About 7 px per character of 12 px sans-serif: a box the text never overflows.
    const double row = 18, box_w = 52 + 7.0 * longest, box_h = row * shown.size() + 8;
    const double bx = right - box_w - 8, by = panel.legend_bottom ? top + height - box_h - 8 : top + 8;
    svg += fmt::format(R"(<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="#fff" )"
                       R"(fill-opacity="0.85" stroke="#ccc"/>)"
                       "\n",
                       bx, by, box_w, box_h);
    for (size_t i = 0; i < shown.size(); ++i) {
        const Series &s = *shown[i];
        const double ry = by + 4 + row * (i + 0.5);
        svg += fmt::format(R"(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="{}" stroke-width="{}" )"
                           R"(stroke-opacity="{}"/>)",
                           bx + 8, ry, bx + 32, ry, s.style.color, std::max(s.style.width, 1.5), s.style.opacity);
        if (s.style.markers)
            svg += fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="3" fill="{}"/>)", bx + 20, ry, s.style.color);
        svg += fmt::format(R"(<text x="{:.1f}" y="{:.1f}" dominant-baseline="middle">{}</text>)"
                           "\n",
                           bx + 40, ry, xml_escape(texts[i]));
    }
}

}  // namespace

void write_curves_svg(const std::string &path, const std::vector<nlohmann::json> &records, const std::string &title,
                      LossScale loss_scale) {
    const char *blue = "#1f77b4", *red = "#d62728", *green = "#2ca02c", *purple = "#9467bd";

    Panel loss;
    loss.y_label = "loss";
    loss.empty_note = "no loss values in the records";
    const std::vector<Point> train_loss = series(records, "loss");
    const std::vector<Point> test_loss = series(records, "test_loss");
    loss.series = {{"train loss (raw)", train_loss, {blue, 1, 0.3, false}},
                   {"train loss (smoothed)", smooth(train_loss), {blue, 2, 1, false}},
                   {"test loss", test_loss, {red, 1.2, 0.6, true}}};
    if (loss_scale == LossScale::automatic) {
        double lo = std::numeric_limits<double>::infinity(), hi = 0;
        for (const auto *pts : {&train_loss, &test_loss})
            for (const Point &p : *pts)
                if (p.y > 0) lo = std::min(lo, p.y), hi = std::max(hi, p.y);
        loss.log_y = hi > 0 && hi / lo > std::pow(10.0, 1.5);
    } else {
        loss.log_y = loss_scale == LossScale::log;
    }

    // Accuracy is stored as a fraction and drawn in percent.
    Panel acc;
    acc.y_label = "accuracy (%)";
    acc.legend_bottom = true;
    const std::vector<Point> train_acc = series(records, "acc", 100.0);
    acc.series = {{"train acc (raw)", train_acc, {green, 1, 0.3, false}},
                  {"train acc (smoothed)", smooth(train_acc), {green, 2, 1, false}},
                  {"test acc", series(records, "test_acc", 100.0), {red, 1.2, 0.6, true}},
                  {"test macro acc", series(records, "test_macro_acc", 100.0), {purple, 1.2, 0.6, true}}};
    bool has_acc = false;
    for (const Series &s : acc.series) has_acc |= !s.pts.empty();

    // The x axis is shared, spanning every step drawn.
    Axis x;
    x.lo = std::numeric_limits<double>::infinity();
    x.hi = -x.lo;
    for (const Panel *p : {&loss, &acc})
        for (const Series &s : p->series)
            for (const Point &pt : s.pts) x.lo = std::min(x.lo, pt.x), x.hi = std::max(x.hi, pt.x);
    const bool no_points = !(x.lo <= x.hi);
    const double first_step = x.lo, last_step = x.hi;
    if (no_points) x.lo = 0, x.hi = 1;
    if (x.hi - x.lo < 1) x.lo -= 0.5, x.hi += 0.5;
    if (x.lo > 0 && x.lo <= 0.05 * x.hi) x.lo = 0;  // a run from step 1 reads best from 0

    const double width = 960, left = 90, right = width - 24, panel_h = 300, gap = 70, top0 = 64;
    const int panels = has_acc ? 2 : 1;
    const double height = top0 + panels * (panel_h + gap) - 10;
    x.p0 = left;
    x.p1 = right;

    std::string svg = fmt::format(R"(<svg xmlns="http://www.w3.org/2000/svg" width="{0}" height="{1}" )"
                                  R"(viewBox="0 0 {0} {1}" font-family="sans-serif" font-size="12">)"
                                  "\n",
                                  width, height);
    svg += fmt::format(R"(<rect width="{}" height="{}" fill="#fff"/>)"
                       "\n",
                       width, height);
    svg += fmt::format(R"(<text x="{:.1f}" y="26" text-anchor="middle" font-size="16" font-weight="bold">{}</text>)"
                       "\n",
                       width / 2, xml_escape(title));
    const std::string summary =
        no_points ? fmt::format("{} records, none with a value to draw", records.size())
                  : fmt::format("{} records, steps {} to {}", records.size(), format_step(first_step), format_step(last_step));
    svg += fmt::format(R"(<text x="{:.1f}" y="46" text-anchor="middle" fill="#666">{}</text>)"
                       "\n",
                       width / 2, xml_escape(summary));
    draw_panel(svg, loss, x, top0, panel_h, left, right);
    if (has_acc) draw_panel(svg, acc, x, top0 + panel_h + gap, panel_h, left, right);
    svg += "</svg>\n";
    write_file_atomic(path, svg);
}

}  // namespace statemix::train
