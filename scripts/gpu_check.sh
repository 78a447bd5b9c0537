#!/usr/bin/env bash
# The prepared device-machine run (see docs/gpu-notes.md): binaries built on the dev machine
# travel in .gpu/ (carried, xz-compressed), then: CUDA tests, the GPU benchmark of the scans at
# the issue's shape, and the RNN cores (Elman, WCRNN, LSTM) with cuDNN side by side
# (statemix_peer_cudnn, found by `statemix bench` next to .gpu/statemix).
# Writes logs and JSON under $OUT (8 files: the device tool returns at most 8). Each step has a
# timeout (120 + 60 + 150 + 40 + 2 x 75 s: at most about 8.7 minutes; `rnn` alone at most 3.2).
# Usage on the device: bash scripts/gpu_check.sh [STEP...]   STEP: tests stages scan rnn tune
# (default: tests stages scan rnn, and tune where .gpu/tune.tar.xz was carried).
# `tune`: a tuner bundle made here (`statemix_tune bundle --device cuda ... --out tune`, then
# `tar cf - tune | xz -9e > .gpu/tune.tar.xz`: 62 MiB of candidates pack into about 3 MiB) is
# unpacked in /tmp and run by its runner (at most $TUNE_S s, default 150; a rerun on the same warm
# machine resumes from its results.json); $OUT/tune_results.json is the file to import here.
# When $OUT ends up with more than the 8 files the device tool returns, they are packed into
# $OUT/gpu_out.tgz.
set -uo pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
DEFAULT_STEPS="tests stages scan rnn"
[ -f .gpu/tune.tar.xz ] && DEFAULT_STEPS="$DEFAULT_STEPS tune"
STEPS=${*:-$DEFAULT_STEPS}
want() { [[ " $STEPS " == *" $1 "* ]]; }

# Either one solid archive (.gpu/bundle.tar.xz: the binaries share most of their bytes, so
# `tar cf - statemix statemix_tests statemix_peer_cudnn libdnnl.so.2 libOpenCL.so.1 | xz -9e
# --lzma2=preset=9e,dict=256MiB -T1` is 34 MiB where separate .xz files are 56: the device tool
# carries 64 MiB with the working tree), or one .xz per binary.
[ -f .gpu/bundle.tar.xz ] && { tar xJf .gpu/bundle.tar.xz -C .gpu 2>/dev/null || python3 -c "import tarfile; tarfile.open('.gpu/bundle.tar.xz').extractall('.gpu')"; }
for f in statemix statemix_tests statemix_peer_cudnn; do
  [ -x .gpu/$f ] && continue
  [ -f .gpu/$f.xz ] || { echo "note: .gpu/$f.xz not carried" | tee -a "$OUT/gpu.txt"; continue; }
  xz -dkf .gpu/$f.xz 2>/dev/null || python3 -c "import lzma,sys; open(sys.argv[2],'wb').write(lzma.open(sys.argv[1]).read())" .gpu/$f.xz .gpu/$f
  chmod +x .gpu/$f
done

# cuDNN and cuBLAS come from the machine's pip packages (nvidia-cudnn-cu13, nvidia-cublas, ...):
# every folder under site-packages/nvidia that holds a shared library goes on LD_LIBRARY_PATH.
NVIDIA_LIBS=$(python3 - <<'EOF'
import glob, os, site, sys
roots = set()
try:
    import nvidia  # a namespace package: one path per site-packages that has it
    roots.update(os.path.dirname(p) for p in nvidia.__path__)
except Exception:
    pass
for s in site.getsitepackages() + [site.getusersitepackages()]:
    roots.add(s)
dirs = set()
for r in roots:
    for d, _, files in os.walk(os.path.join(r, "nvidia")):
        if any(f.startswith("lib") and ".so" in f for f in files):
            dirs.add(d)
print(":".join(sorted(dirs)))
EOF
)
# .gpu/ first: libdnnl (Debian's oneDNN, the CPU dense ops) travels there, the device image has none
export LD_LIBRARY_PATH="$PWD/.gpu:${NVIDIA_LIBS}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv | tee "$OUT/gpu.txt"
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH" >> "$OUT/gpu.txt"
for f in statemix statemix_peer_cudnn; do
  [ -x .gpu/$f ] || continue
  ldd .gpu/$f | grep -i "not found" && echo "$f: missing libraries" | tee -a "$OUT/gpu.txt"
done
[ -x .gpu/statemix_peer_cudnn ] && ldd .gpu/statemix_peer_cudnn | grep -i "cudnn\|cublas" >> "$OUT/gpu.txt"

if want tests; then
  timeout 120 .gpu/statemix_tests --gtest_filter='*Cuda*:*Persistent*' --gtest_brief=1 > "$OUT/cuda_tests.log" 2>&1
  echo "tests exit status $?" >> "$OUT/cuda_tests.log"
  tail -25 "$OUT/cuda_tests.log"
fi
if want stages; then
  # which kernel (stage) of each chunked scan takes the time: STATEMIX_CUDA_TRACE=1 synchronizes and
  # times every Halide CUDA launch (runtime/cuda/launch_trace.h), one table per timed kernel
  STATEMIX_CUDA_TRACE=1 timeout 60 .gpu/statemix bench --devices cuda --layers bdlru hlru --orders 1 2 \
    --algorithms chunked --batch 16 --seq 2048 --width 1024 --reps 3 --no-reference > "$OUT/gpu_stages.log" 2>&1
  echo "stages exit status $?" >> "$OUT/gpu_stages.log"
  grep -A10 "^STATEMIX_CUDA_TRACE" "$OUT/gpu_stages.log" | head -90
fi
if want scan; then
  # the scans at the issue's shape: sequential and chunked (each with its own backward), and with
  # --variants every other compiled CUDA kernel of each m (the one-pass backward among them)
  timeout 150 .gpu/statemix bench --devices cuda --layers bdlru hlru --orders 1 2 4 \
    --algorithms sequential chunked --variants --batch 16 --seq 2048 --width 1024 --reps 5 --no-reference \
    --json "$OUT/gpu_bench_B16.json" > "$OUT/gpu_bench_B16.log" 2>&1
  echo "bench exit status $?" >> "$OUT/gpu_bench_B16.log"
  tail -70 "$OUT/gpu_bench_B16.log"
fi
if want rnn; then
  {
    echo "== statemix_peer_cudnn alone, small shape (B=16 T=256 H=256)"
    timeout 40 .gpu/statemix_peer_cudnn --cell tanh,lstm --batch 16 --seq 256 --hidden 256 --reps 3
    echo "exit status $?"
    for H in 256 1024; do
      echo "== statemix bench --layers elman,wcrnn,lstm --devices cuda --batch 16 --seq 2048 --width $H --reps 3"
      timeout 75 .gpu/statemix bench --layers elman,wcrnn,lstm --devices cuda --batch 16 --seq 2048 --width $H \
        --reps 3 --json "$OUT/gpu_rnn_B16_T2048_H$H.json"
      echo "exit status $?"
    done
  } 2>&1 | tee "$OUT/gpu_rnn.log" | tail -80
fi
if want tune; then
  if [ -x /tmp/tune/statemix_tune_runner ] || { [ -f .gpu/tune.tar.xz ] && tar xJf .gpu/tune.tar.xz -C /tmp; }; then
    timeout "${TUNE_S:-150}" /tmp/tune/statemix_tune_runner /tmp/tune > "$OUT/tune.log" 2>&1
    echo "runner exit status $? (124: out of time; run again on the warm machine to resume)" >> "$OUT/tune.log"
    cp /tmp/tune/results.json "$OUT/tune_results.json" 2>/dev/null
    tail -3 "$OUT/tune.log"
  else
    echo "tune: no .gpu/tune.tar.xz carried (and no /tmp/tune from an earlier call)" | tee -a "$OUT/gpu.txt"
  fi
fi
# The device tool returns at most 8 files: pack them when there are more.
if [ "$(find "$OUT" -maxdepth 1 -type f | wc -l)" -gt 8 ]; then
  tar czf /tmp/gpu_out.tgz -C "$OUT" . && find "$OUT" -mindepth 1 -delete && mv /tmp/gpu_out.tgz "$OUT/"
  echo "packed \$OUT into gpu_out.tgz"
fi
