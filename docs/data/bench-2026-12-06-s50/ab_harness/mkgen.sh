#!/bin/bash
# Builds a bdlru+hlru generator binary from a copy of generators/ and schedules/ (SRC, default
# /tmp/s50/src) without the project build: OUT (default SRC/../gen). Used with build.sh to time a
# generator change in minutes instead of the 12-13 min rebuild of every kernel.
set -e
SRC=${SRC:-/tmp/s50/src}; OUT=${OUT:-$SRC/../gen}
H=$(ls -d /work/main/.venv/lib/python3*/site-packages/halide)
g++ -std=c++17 -O1 -fno-rtti -I$H/include -I$SRC -c $SRC/generators/bdlru_generator.cpp -o $OUT.bdlru.o
g++ -std=c++17 -O1 -fno-rtti -I$H/include -I$SRC -c $SRC/generators/hlru_generator.cpp -o $OUT.hlru.o
g++ $OUT.bdlru.o $OUT.hlru.o $H/lib64/libHalide_GenGen.a -L$H/lib64 -lHalide -Wl,-rpath,$H/lib64 -lpthread -ldl -o $OUT
echo built $OUT
