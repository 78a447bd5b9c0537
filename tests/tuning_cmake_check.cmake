# How the build reads the tuning database (cmake/StatemixTuning.cmake), run as a CTest script:
#   cmake -DSRC=<source dir> -DWORK=<scratch dir> -P tests/tuning_cmake_check.cmake
# Each case runs in a child `cmake -P` (a FATAL_ERROR ends the child, not the check) with a
# stand-in statemix_kernel() that records the variants it is asked for.
#  - a winner in the database becomes a variant next to the default, and a choice for its bucket;
#  - a missing database: the defaults and one warning;
#  - an entry of another knob-set version (stale): the default and one warning;
#  - a bucket without an entry: the default and one warning naming how many;
#  - a bucket with a fallback: the fallback bucket's winner where it has no entry of its own;
#    a fallback naming no bucket stops the configure step;
#  - a corrupt database: the configure step stops with a message naming the file;
#  - entries of machines of two CPU tiers (AVX-512, AVX2): a variant and a choice for each, the
#    choice carrying its tier; two AVX-512 machines: the one closest to the tier's features wins;
#    an ARM machine's entry belongs to no x86 tier; STATEMIX_TUNING_CPU_ONLY_TARGET: that target's
#    entries only, for every tier (-1);
#  - an RNN core's entries: a step-kernel winner becomes a step variant and the op's choice; a
#    winner equal to the default one-launch kernel (knobs spelled out) names that kernel.
#  - a CUDA entry: a variant and a choice (tier "any") when its target is the build's CUDA target
#    with the features in any order (Halide's spelling), ignored for another CUDA target; an
#    untuned CUDA bucket is a status line, not the CPU tiers' warning; a winner that is a kernel
#    the build already defines (the chunked default) is not compiled twice.
cmake_minimum_required(VERSION 3.28)  # script mode: today's policies (IN_LIST, CMP0126)
if (DEFINED CASE)
  set(PROJECT_SOURCE_DIR ${SRC})
  set(STATEMIX_CUDA_TARGET x86-64-linux-sse41-cuda-cuda_capability_80)
  set(STATEMIX_CPU_TARGETS x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41
      x86-64-linux-avx-avx2-f16c-fma-sse41 x86-64-linux-sse41)
  if (DEFINED ONLY)
    set(STATEMIX_TUNING_CPU_ONLY_TARGET ${ONLY})
  endif ()
  if (DEFINED TARGETS)  # one target, as a host build has
    set(STATEMIX_CPU_TARGETS ${TARGETS})
  endif ()
  set(STATEMIX_SCAN_KERNELS_TUNED ON)
  function(statemix_kernel NAME LAYER DIRECTION ALGORITHM M DEVICE)
    cmake_parse_arguments(ARG "" "FROM;MAX_TIER" "PARAMS" ${ARGN})
    if (NOT DEFINED ARG_MAX_TIER)
      set(ARG_MAX_TIER all)
    endif ()
    message(STATUS "KERNEL ${NAME} ${ALGORITHM} ${ARG_PARAMS} MAX_TIER ${ARG_MAX_TIER}")
  endfunction()
  set(STATEMIX_TUNING_DB ${DB})
  include(${SRC}/cmake/StatemixTuning.cmake)
  statemix_load_tuning_db()
  if (CASE STREQUAL "rnn")
    # The defaults rnn_kernels.cmake defines before (as statemix_kernel records them).
    set_property(GLOBAL PROPERTY STATEMIX_KERNELS "sm_elman_fwd_cpu|elman|forward|sequential|0|cpu|0|vector_width=0 k_unroll=8"
                 "sm_elman_step_cpu|elman|step|sequential|0|cpu|0|vector_width=0")
    statemix_tuned_rnn_kernels(elman forward 0)
    set(STATEMIX_CUDA ON)
    statemix_tuned_rnn_cuda_choices(elman 0)
  elseif (CASE MATCHES "^cuda")
    if (CASE STREQUAL "cuda_same")  # the chunked default generators/CMakeLists.txt defines
      set_property(GLOBAL PROPERTY STATEMIX_KERNELS "sm_bdlru_fwd_chunk_m2_cuda|bdlru|forward|chunked|2|cuda|64|tile=128 chunk=64|-1")
    endif ()
    statemix_tuned_kernels(bdlru forward 2 cuda sequential tile=128)
  else ()
    statemix_tuned_kernels(bdlru forward 2 cpu sequential vector_width=0 tile=256)
  endif ()
  statemix_report_untuned()
  statemix_compile_variants()
  get_property(choices GLOBAL PROPERTY STATEMIX_KERNEL_CHOICES)
  foreach (c IN LISTS choices)
    message(STATUS "CHOICE ${c}")
  endforeach ()
  return()
endif ()

file(MAKE_DIRECTORY ${WORK})
file(STRINGS ${SRC}/generators/scan_knobs_version.h line REGEX "^#define STATEMIX_SCAN_KNOBS_VERSION [0-9]+")
string(REGEX REPLACE ".* ([0-9]+)$" "\\1" knobs "${line}")
set(buckets "\"buckets\": [{\"name\": \"wide\", \"lanes_min\": 4096, \"lanes_max\": 9223372036854775807, \"t_min\": 1, \"t_max\": 9223372036854775807, \"B\": 16, \"T\": 2048, \"state\": 1024}, {\"name\": \"narrow\", \"lanes_min\": 1, \"lanes_max\": 4095, \"t_min\": 1024, \"t_max\": 9223372036854775807, \"B\": 1, \"T\": 4096, \"state\": 256}]")
function(entry OUT VERSION BUCKET)
  set(${OUT} "{\"target\": \"x86-64-linux-avx-avx2-f16c-fma-sse41\", \"device\": \"cpu\", \"layer\": \"bdlru\", \"direction\": \"forward\", \"m\": 2, \"bucket\": \"${BUCKET}\", \"knobs_version\": ${VERSION}, \"complete\": true, \"params\": {\"algorithm\": \"chunked\", \"chunk\": \"128\", \"tile\": \"64\", \"vector_width\": \"0\"}, \"ms\": 1, \"default_ms\": 2, \"ceiling_gbs\": 30, \"bytes\": 1, \"search\": \"exhaustive\", \"date\": \"\", \"candidates\": []}" PARENT_SCOPE)
endfunction()

function(entry_of OUT TARGET PARAMS)
  set(${OUT} "{\"target\": \"${TARGET}\", \"device\": \"cpu\", \"layer\": \"bdlru\", \"direction\": \"forward\", \"m\": 2, \"bucket\": \"wide\", \"knobs_version\": ${knobs}, \"complete\": true, \"params\": {${PARAMS}}, \"ms\": 1, \"default_ms\": 2, \"ceiling_gbs\": 30, \"bytes\": 1, \"search\": \"exhaustive\", \"date\": \"\", \"candidates\": []}" PARENT_SCOPE)
endfunction()

function(run_case NAME CONTENT OUT_VAR RC_VAR)
  set(db ${WORK}/${NAME}.json)
  if (CONTENT STREQUAL "<none>")
    file(REMOVE ${db})
  else ()
    file(WRITE ${db} "${CONTENT}")
  endif ()
  set(extra "")
  if (DEFINED CASE_ONLY)
    set(extra -DONLY=${CASE_ONLY})
  endif ()
  if (DEFINED CASE_TARGETS)
    list(APPEND extra -DTARGETS=${CASE_TARGETS})
  endif ()
  execute_process(COMMAND ${CMAKE_COMMAND} -DCASE=${NAME} -DSRC=${SRC} -DDB=${db} ${extra} -P ${CMAKE_CURRENT_LIST_FILE}
                  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  set(${OUT_VAR} "${out}${err}" PARENT_SCOPE)
  set(${RC_VAR} ${rc} PARENT_SCOPE)
endfunction()

# Matched with runs of spaces and newlines folded to one space (CMake wraps warnings).
function(expect TEXT WHAT CASE)
  string(REGEX REPLACE "[ \n]+" " " TEXT "${TEXT}")
  string(FIND "${TEXT}" "${WHAT}" at)
  if (at EQUAL -1)
    message(FATAL_ERROR "case ${CASE}: expected '${WHAT}' in:\n${TEXT}")
  endif ()
endfunction()
function(expect_not TEXT WHAT CASE)
  string(REGEX REPLACE "[ \n]+" " " TEXT "${TEXT}")
  string(FIND "${TEXT}" "${WHAT}" at)
  if (NOT at EQUAL -1)
    message(FATAL_ERROR "case ${CASE}: did not expect '${WHAT}' in:\n${TEXT}")
  endif ()
endfunction()

# A winner for 'wide': a second variant and a choice naming it; 'narrow' untuned: one warning.
entry(e ${knobs} wide)
run_case(tuned "{\"format\": \"statemix-tuning-db\", \"version\": 1, ${buckets}, \"entries\": [${e}]}" out rc)
expect("${out}" "KERNEL sm_bdlru_fwd_seq_m2_cpu sequential tile=256;vector_width=0" tuned)
expect("${out}" "KERNEL sm_bdlru_fwd_chunk_m2_cpu_chunk128_tile64_vector_width0 chunked chunk=128;tile=64;vector_width=0" tuned)
expect("${out}" "CHOICE bdlru|forward|cpu|2|wide|4096|9223372036854775807|1|9223372036854775807|sm_bdlru_fwd_chunk_m2_cpu_chunk128_tile64_vector_width0" tuned)
expect("${out}" "1 kernel/bucket pairs have no entry" tuned)
if (NOT rc EQUAL 0)
  message(FATAL_ERROR "case tuned failed:\n${out}")
endif ()

# CUDA entries: the tuner writes Halide's spelling of the target, the build its own.
string(REPLACE "\"target\": \"x86-64-linux-avx-avx2-f16c-fma-sse41\", \"device\": \"cpu\"" 
       "\"target\": \"x86-64-linux-cuda-cuda_capability_80-sse41\", \"device\": \"cuda\"" e_cuda "${e}")
run_case(cuda "{\"format\": \"statemix-tuning-db\", \"version\": 1, ${buckets}, \"entries\": [${e_cuda}]}" out rc)
expect("${out}" "KERNEL sm_bdlru_fwd_seq_m2_cuda sequential tile=128" cuda)
expect("${out}" "KERNEL sm_bdlru_fwd_chunk_m2_cuda_chunk128_tile64_vector_width0 chunked chunk=128;tile=64;vector_width=0" cuda)
expect("${out}" "CHOICE bdlru|forward|cuda|2|wide|4096|9223372036854775807|1|9223372036854775807|sm_bdlru_fwd_chunk_m2_cuda_chunk128_tile64_vector_width0" cuda)
expect("${out}" "1 CUDA scan kernel/bucket pairs run the default knobs" cuda)
expect_not("${out}" "have no entry" cuda)
if (NOT rc EQUAL 0)
  message(FATAL_ERROR "case cuda failed:\n${out}")
endif ()
string(REPLACE "cuda_capability_80" "cuda_capability_90" e_cuda90 "${e_cuda}")
run_case(cuda_other "{\"format\": \"statemix-tuning-db\", \"version\": 1, ${buckets}, \"entries\": [${e_cuda90}]}" out rc)
expect_not("${out}" "CHOICE bdlru|forward|cuda" cuda_other)
expect("${out}" "2 CUDA scan kernel/bucket pairs run the default knobs" cuda_other)
# A CUDA winner that is the build's chunked default (chunk 64, tile 128): not compiled a second
# time; the choice names the default.
string(REPLACE "\"chunk\": \"128\", \"tile\": \"64\", \"vector_width\": \"0\"" "\"chunk\": \"64\", \"tile\": \"128\"" e_same "${e_cuda}")
run_case(cuda_same "{\"format\": \"statemix-tuning-db\", \"version\": 1, ${buckets}, \"entries\": [${e_same}]}" out rc)
expect_not("${out}" "KERNEL sm_bdlru_fwd_chunk_m2_cuda_" cuda_same)
expect("${out}" "CHOICE bdlru|forward|cuda|2|wide|4096|9223372036854775807|1|9223372036854775807|sm_bdlru_fwd_chunk_m2_cuda|" cuda_same)
if (NOT rc EQUAL 0)
  message(FATAL_ERROR "case cuda_same failed:\n${out}")
endif ()

# A bucket carved out of another ('mid', fallback 'narrow'): with no entry of its own the kernel
# takes narrow's winner for mid's shapes too (a choice for each range, no untuned warning for
# mid); with an entry of its own in any tier, mid's entry and not narrow's.
set(mid_buckets "\"buckets\": [{\"name\": \"mid\", \"lanes_min\": 1024, \"lanes_max\": 4095, \"t_min\": 1024, \"t_max\": 9223372036854775807, \"B\": 8, \"T\": 2048, \"state\": 256, \"fallback\": \"narrow\"}, {\"name\": \"narrow\", \"lanes_min\": 1, \"lanes_max\": 1023, \"t_min\": 1024, \"t_max\": 9223372036854775807, \"B\": 1, \"T\": 4096, \"state\": 256}]")
entry(e ${knobs} narrow)
run_case(fallback "{\"format\": \"statemix-tuning-db\", \"version\": 1, ${mid_buckets}, \"entries\": [${e}]}" out rc)
expect("${out}" "CHOICE bdlru|forward|cpu|2|narrow|1|1023|1024|9223372036854775807|sm_bdlru_fwd_chunk_m2_cpu_chunk128_tile64_vector_width0" fallback)
expect("${out}" "CHOICE bdlru|forward|cpu|2|mid|1024|4095|1024|9223372036854775807|sm_bdlru_fwd_chunk_m2_cpu_chunk128_tile64_vector_width0" fallback)
expect_not("${out}" "have no entry" fallback)
if (NOT rc EQUAL 0)
  message(FATAL_ERROR "case fallback failed:\n${out}")
endif ()
entry_of(e_mid x86-64-linux-avx-avx2-f16c-fma-sse41 "\"algorithm\": \"sequential\", \"tile\": \"128\", \"vector_width\": \"0\"")
string(REPLACE "\"bucket\": \"wide\"" "\"bucket\": \"mid\"" e_mid "${e_mid}")
run_case(fallback_own "{\"format\": \"statemix-tuning-db\", \"version\": 1, ${mid_buckets}, \"entries\": [${e}, ${e_mid}]}" out rc)
expect("${out}" "CHOICE bdlru|forward|cpu|2|mid|1024|4095|1024|9223372036854775807|sm_bdlru_fwd_seq_m2_cpu_tile128_vector_width0" fallback_own)
expect_not("${out}" "CHOICE bdlru|forward|cpu|2|mid|1024|4095|1024|9223372036854775807|sm_bdlru_fwd_chunk" fallback_own)
# A fallback that names no bucket stops the configure step, naming both.
string(REPLACE "\"fallback\": \"narrow\"" "\"fallback\": \"nowhere\"" bad_buckets "${mid_buckets}")
run_case(fallback_bad "{\"format\": \"statemix-tuning-db\", \"version\": 1, ${bad_buckets}, \"entries\": [${e}]}" out rc)
expect("${out}" "bucket 'mid': fallback 'nowhere' is not a bucket of the database" fallback_bad)
if (rc EQUAL 0)
  message(FATAL_ERROR "case fallback_bad: expected the configure step to stop:\n${out}")
endif ()

# No database: the default only, one warning.
run_case(missing "<none>" out rc)
expect("${out}" "no tuning database at" missing)
expect("${out}" "KERNEL sm_bdlru_fwd_seq_m2_cpu sequential" missing)
expect_not("${out}" "CHOICE" missing)

# Stale (another knob-set version): the default, one warning.
math(EXPR old "${knobs} + 100")
entry(e ${old} wide)
run_case(stale "{\"format\": \"statemix-tuning-db\", \"version\": 1, ${buckets}, \"entries\": [${e}]}" out rc)
expect("${out}" "tuned for another knob-set version" stale)
expect_not("${out}" "chunk128" stale)
if (NOT rc EQUAL 0)
  message(FATAL_ERROR "case stale failed:\n${out}")
endif ()

# Corrupt: refused, naming the file.
run_case(corrupt "{\"format\": \"statemix-tuning-db\", \"version\": 1, \"buckets\": [" out rc)
if (rc EQUAL 0)
  message(FATAL_ERROR "case corrupt: the configure step went on:\n${out}")
endif ()
expect("${out}" "${WORK}/corrupt.json" corrupt)
run_case(wrongformat "{\"format\": \"other\", \"version\": 1}" out rc)
if (rc EQUAL 0)
  message(FATAL_ERROR "case wrongformat: the configure step went on:\n${out}")
endif ()
expect("${out}" "expected format 'statemix-tuning-db'" wrongformat)

# Two CPU tiers. AVX2 machine: tile 64; a Sapphire Rapids (AVX-512, three features beyond the
# tier's): tile 128; a Skylake-SP (AVX-512, the tier's features exactly): tile 512; an ARM machine:
# tile 32. Tier 1 takes the AVX2 machine's; tier 0 has both AVX-512 machines' choices, each with its
# machine (indices in order of appearance: AVX2 0, SPR 1, SKX 2) and its features beyond the tier's
# (the runtime takes the running machine's, dispatch::choice_order); the ARM machine's is not
# compiled.
set(avx2 x86-64-linux-avx-avx2-f16c-fma-sse41)
set(spr x86-64-linux-avx-avx2-avx512-avx512_cannonlake-avx512_sapphirerapids-avx512_skylake-avxvnni-f16c-fma-sse41)
set(skx x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma-sse41)
entry_of(e_avx2 ${avx2} "\"algorithm\": \"sequential\", \"tile\": \"64\", \"vector_width\": \"0\"")
entry_of(e_spr ${spr} "\"algorithm\": \"sequential\", \"tile\": \"128\", \"vector_width\": \"16\"")
entry_of(e_skx ${skx} "\"algorithm\": \"sequential\", \"tile\": \"512\", \"vector_width\": \"16\"")
entry_of(e_arm arm-64-linux-arm_dot_prod "\"algorithm\": \"sequential\", \"tile\": \"32\", \"vector_width\": \"0\"")
set(tiers_db "{\"format\": \"statemix-tuning-db\", \"version\": 1, ${buckets}, \"entries\": [${e_avx2}, ${e_spr}, ${e_skx}, ${e_arm}]}")
run_case(tiers "${tiers_db}" out rc)
if (NOT rc EQUAL 0)
  message(FATAL_ERROR "case tiers failed:\n${out}")
endif ()
# Each winner compiled for the tiers that take it: the AVX2 machine's for AVX-512 and AVX2 (not
# SSE4.1), the AVX-512 machines' for AVX-512 alone; the default for every tier.
expect("${out}" "KERNEL sm_bdlru_fwd_seq_m2_cpu_tile64_vector_width0 sequential tile=64;vector_width=0 MAX_TIER 1" tiers)
expect("${out}" "KERNEL sm_bdlru_fwd_seq_m2_cpu_tile512_vector_width16 sequential tile=512;vector_width=16 MAX_TIER 0" tiers)
expect("${out}" "KERNEL sm_bdlru_fwd_seq_m2_cpu_tile128_vector_width16 sequential tile=128;vector_width=16 MAX_TIER 0" tiers)
expect("${out}" "KERNEL sm_bdlru_fwd_seq_m2_cpu sequential tile=256;vector_width=0 MAX_TIER all" tiers)
expect_not("${out}" "tile32" tiers)
expect("${out}" "CHOICE bdlru|forward|cpu|2|wide|4096|9223372036854775807|1|9223372036854775807|sm_bdlru_fwd_seq_m2_cpu_tile512_vector_width16|0|2|0" tiers)
expect("${out}" "CHOICE bdlru|forward|cpu|2|wide|4096|9223372036854775807|1|9223372036854775807|sm_bdlru_fwd_seq_m2_cpu_tile128_vector_width16|0|1|3" tiers)
expect("${out}" "CHOICE bdlru|forward|cpu|2|wide|4096|9223372036854775807|1|9223372036854775807|sm_bdlru_fwd_seq_m2_cpu_tile64_vector_width0|1|0|0" tiers)
expect("${out}" "3 entries used" tiers)
expect("${out}" "1 beside another machine's entry of their tier" tiers)
expect("${out}" "1 of machines in no CPU tier" tiers)
# The same database with the build told to take the AVX2 machine's entries only: one choice, any tier.
set(CASE_ONLY ${avx2})
run_case(only "${tiers_db}" out rc)
unset(CASE_ONLY)
if (NOT rc EQUAL 0)
  message(FATAL_ERROR "case only failed:\n${out}")
endif ()
expect("${out}" "CHOICE bdlru|forward|cpu|2|wide|4096|9223372036854775807|1|9223372036854775807|sm_bdlru_fwd_seq_m2_cpu_tile64_vector_width0|-1" tiers)
expect_not("${out}" "tile512" only)
expect("${out}" "KERNEL sm_bdlru_fwd_seq_m2_cpu_tile64_vector_width0 sequential tile=64;vector_width=0 MAX_TIER -1" only)
expect("${out}" "x86-64-linux-avx-avx2-f16c-fma-sse41 only" only)

# A build of one AVX-512 target: an AVX2 machine's winner serves it when no AVX-512 machine's
# entry exists, and yields to one that does.
set(CASE_TARGETS ${skx})
run_case(single_avx2 "{\"format\": \"statemix-tuning-db\", \"version\": 1, ${buckets}, \"entries\": [${e_avx2}]}" out rc)
expect("${out}" "|sm_bdlru_fwd_seq_m2_cpu_tile64_vector_width0|0" single_avx2)
set(CASE_TARGETS host)  # this machine's features (/proc/cpuinfo): AVX2 or more on the dev machines
run_case(host_avx2 "{\"format\": \"statemix-tuning-db\", \"version\": 1, ${buckets}, \"entries\": [${e_avx2}]}" out rc)
expect("${out}" "|sm_bdlru_fwd_seq_m2_cpu_tile64_vector_width0|0" host_avx2)
set(CASE_TARGETS ${skx})
run_case(single_both "{\"format\": \"statemix-tuning-db\", \"version\": 1, ${buckets}, \"entries\": [${e_avx2}, ${e_spr}]}" out rc)
unset(CASE_TARGETS)
expect("${out}" "|sm_bdlru_fwd_seq_m2_cpu_tile128_vector_width16|0" single_both)
expect_not("${out}" "tile64" single_both)
if (NOT rc EQUAL 0)
  message(FATAL_ERROR "case single_both failed:\n${out}")
endif ()

# The RNN cores: 'wide' chose the step kernels with 4-row tiles (a variant), 'narrow' the
# one-launch kernel with the build's knobs spelled out (the default kernel itself).
set(rnn_wide "{\"target\": \"x86-64-linux-avx-avx2-f16c-fma-sse41\", \"device\": \"cpu\", \"layer\": \"elman\", \"direction\": \"forward\", \"m\": 0, \"bucket\": \"wide\", \"knobs_version\": ${knobs}, \"complete\": true, \"params\": {\"impl\": \"stepped\", \"batch_tile\": \"4\", \"strip\": \"1\", \"vector_width\": \"0\"}, \"ms\": 1, \"default_ms\": 2, \"ceiling_gbs\": 30, \"bytes\": 1, \"flops\": 1, \"search\": \"halving\", \"date\": \"\", \"candidates\": []}")
set(rnn_narrow "{\"target\": \"x86-64-linux-avx-avx2-f16c-fma-sse41\", \"device\": \"cpu\", \"layer\": \"elman\", \"direction\": \"forward\", \"m\": 0, \"bucket\": \"narrow\", \"knobs_version\": ${knobs}, \"complete\": true, \"params\": {\"impl\": \"scan\", \"batch_tile\": \"4\", \"k_unroll\": \"8\", \"vector_width\": \"0\"}, \"ms\": 1, \"default_ms\": 1, \"ceiling_gbs\": 30, \"bytes\": 1, \"search\": \"halving\", \"date\": \"\", \"candidates\": []}")
set(rnn_cuda "{\"target\": \"x86-64-linux-sse41-cuda-cuda_capability_80\", \"device\": \"cuda\", \"layer\": \"elman\", \"direction\": \"forward\", \"m\": 0, \"bucket\": \"wide\", \"knobs_version\": ${knobs}, \"complete\": true, \"params\": {\"impl\": \"persistent\", \"group\": \"2\", \"rows_per_warp\": \"1\"}, \"ms\": 1, \"default_ms\": 2, \"ceiling_gbs\": 0, \"bytes\": 1, \"search\": \"exhaustive\", \"date\": \"\", \"candidates\": []}")
run_case(rnn "{\"format\": \"statemix-tuning-db\", \"version\": 1, ${buckets}, \"entries\": [${rnn_wide}, ${rnn_narrow}, ${rnn_cuda}]}" out rc)
if (NOT rc EQUAL 0)
  message(FATAL_ERROR "case rnn failed:\n${out}")
endif ()
expect("${out}" "KERNEL sm_elman_step_cpu_batch_tile4_strip1_vector_width0 sequential batch_tile=4;strip=1;vector_width=0" rnn)
expect("${out}" "CHOICE elman|forward|cpu|0|wide|4096|9223372036854775807|1|9223372036854775807|sm_elman_step_cpu_batch_tile4_strip1_vector_width0" rnn)
expect("${out}" "CHOICE elman|forward|cpu|0|narrow|1|4095|1024|9223372036854775807|sm_elman_fwd_cpu" rnn)
expect_not("${out}" "KERNEL sm_elman_fwd_cpu" rnn)
# The persistent CUDA forward's run-time knobs: a choice spelled as a spec, nothing compiled.
expect("${out}" "CHOICE elman|forward|cuda|0|wide|4096|9223372036854775807|1|9223372036854775807|impl=persistent,group=2,rows_per_warp=1" rnn)
expect_not("${out}" "have no entry" rnn)
message(STATUS "tuning database in the build: all cases passed")
