// The progress line. See progress.h.
#include "train/progress.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include <unistd.h>

namespace statemix::train {

void StepRate::add(int64_t step, double seconds) {
    if (have_last_ && step > last_step_ && !skip_next_) {
        intervals_.push_back({step - last_step_, seconds - last_seconds_});
        if (intervals_.size() > window_) intervals_.pop_front();
    }
    skip_next_ = false;
    have_last_ = true;
    last_step_ = step;
    last_seconds_ = seconds;
}

double StepRate::seconds_per_step() const {
    int64_t steps = 0;
    double seconds = 0;
    for (const Interval &i : intervals_) steps += i.steps, seconds += i.seconds;
    return steps > 0 ? seconds / static_cast<double>(steps) : NAN;
}

std::string format_duration(double seconds) {
    if (!(seconds >= 0) || seconds > 1e9) return "--:--";
    const int64_t s = static_cast<int64_t>(std::llround(seconds));
    if (s >= 3600) return fmt::format("{}:{:02d}:{:02d}", s / 3600, s / 60 % 60, s % 60);
    return fmt::format("{:02d}:{:02d}", s / 60, s % 60);
}

std::string progress_line(int64_t step, int64_t total_steps, double loss, double acc, double lr, double tokens_per_s,
                          const std::string &time_text) {
    constexpr int kBarWidth = 20;
    const int64_t total = std::max<int64_t>(total_steps, 1);
    const int64_t clamped = std::clamp<int64_t>(step, 0, total);
    const int filled = static_cast<int>(clamped * kBarWidth / total);
    // The step is padded to the width of the total so the rest of the line does not shift.
    const int width = static_cast<int>(std::to_string(total_steps).size());
    std::string line = fmt::format("step {:>{}}/{} [{}{}] loss {:.4g}", step, width, total_steps,
                                   std::string(filled, '#'), std::string(kBarWidth - filled, '.'), loss);
    if (std::isfinite(acc)) line += fmt::format(" acc {:.1f}%", acc * 100);
    if (std::isfinite(lr)) line += fmt::format(" lr {:.1e}", lr);
    if (std::isfinite(tokens_per_s) && tokens_per_s > 0) {
        if (tokens_per_s >= 1e6)
            line += fmt::format(" {:.1f}M tok/s", tokens_per_s / 1e6);
        else if (tokens_per_s >= 1e3)
            line += fmt::format(" {:.1f}K tok/s", tokens_per_s / 1e3);
        else
            line += fmt::format(" {:.0f} tok/s", tokens_per_s);
    }
    return line + " " + time_text;
}

ProgressBar::ProgressBar(int64_t total_steps, std::FILE *out, Mode mode)
    : total_(total_steps),
      out_(out),
      terminal_(mode == Mode::terminal || (mode == Mode::automatic && ::isatty(::fileno(out)))),
      start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() { finish(); }

double ProgressBar::now() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void ProgressBar::draw(const std::string &line) {
    if (terminal_) {
        // Spaces over what is left of a longer previous line; '\r' alone would leave its tail.
        const size_t pad = shown_.size() > line.size() ? shown_.size() - line.size() : 0;
        std::fprintf(out_, "\r%s%*s", line.c_str(), static_cast<int>(pad), "");
    } else {
        std::fprintf(out_, "%s\n", line.c_str());
    }
    std::fflush(out_);
    shown_ = line;
}

void ProgressBar::update(int64_t step, double loss, double acc, double lr, double tokens_per_s) {
    const double t = now();
    rate_.add(step, t);
    step_ = step, loss_ = loss, acc_ = acc, lr_ = lr, tokens_per_s_ = tokens_per_s;
    finished_ = false;

    const bool last = step >= total_;
    if (terminal_) {
        if (!last && t - last_draw_ < 0.1) return;
    } else {
        if (!last && step < next_plain_) return;
        // The first step of the next tenth of the run: ceil((decile + 1) * total / 10).
        const int64_t decile = total_ > 0 ? std::clamp<int64_t>(step, 0, total_) * 10 / total_ : 10;
        next_plain_ = ((decile + 1) * total_ + 9) / 10;
    }
    last_draw_ = t;
    const double left = rate_.seconds_per_step() * static_cast<double>(std::max<int64_t>(total_ - step, 0));
    draw(progress_line(step, total_, loss, acc, lr, tokens_per_s, format_duration(left) + " left"));
}

void ProgressBar::println(const std::string &line) {
    if (terminal_ && !shown_.empty()) {
        const std::string bar = shown_;
        const size_t pad = bar.size() > line.size() ? bar.size() - line.size() : 0;
        std::fprintf(out_, "\r%s%*s\n%s", line.c_str(), static_cast<int>(pad), "", bar.c_str());
    } else {
        std::fprintf(out_, "%s\n", line.c_str());
    }
    std::fflush(out_);
    rate_.skip_next();
}

void ProgressBar::finish() {
    if (finished_) return;
    finished_ = true;
    if (step_ < 0) return;  // never updated: nothing on screen
    const std::string line =
        progress_line(step_, total_, loss_, acc_, lr_, tokens_per_s_, format_duration(now()) + " total");
    draw(line);
    if (terminal_) {
        std::fprintf(out_, "\n");
        std::fflush(out_);
    }
    shown_.clear();
}

}  // namespace statemix::train
