# statemix_kernel(NAME LAYER DIRECTION ALGORITHM M DEVICE [FROM generator-target] [PARAMS ...])
#
# One AOT kernel variant: runs the scan generator `<LAYER>_<forward|backward>` with
# `m=<M> algorithm=<ALGORITHM>` (plus any PARAMS: chunk, vector_width, tile, unroll, ...) for the
# CPU multi-target set or the CUDA target, and records it in the run-time kernel registry
# (runtime/kernel_registry.h) so the runtime can dispatch to it by (layer, m, direction,
# algorithm, device).
set(STATEMIX_HALIDE_RUNTIME statemix_halide_runtime)

# MAX_TIER i (CPU): compile only the first i + 1 of STATEMIX_CPU_TARGETS, the tiers that can run
# it (a tuning database winner: the tier of the machines that chose it and the tiers above, which
# take a smaller machine's winner when they have none of their own). The registry records i
# (KernelEntry::max_cpu_tier) and the runtime never runs the variant on a CPU below that tier.
# Without it (or -1): every target.
function(statemix_kernel NAME LAYER DIRECTION ALGORITHM M DEVICE)
  cmake_parse_arguments(ARG "" "FROM;MAX_TIER" "PARAMS" ${ARGN})
  if (NOT ARG_FROM)
    set(ARG_FROM statemix_scan_generators)
  endif ()
  set(max_tier -1)
  if (DEVICE STREQUAL "cpu")
    set(targets ${STATEMIX_CPU_TARGETS})
    list(LENGTH targets n_all)
    if (DEFINED ARG_MAX_TIER AND ARG_MAX_TIER GREATER_EQUAL 0 AND ARG_MAX_TIER LESS n_all)
      set(max_tier ${ARG_MAX_TIER})
      math(EXPR last "${n_all} - 1")
      if (max_tier EQUAL last)
        set(max_tier -1)  # every tier
      else ()
        math(EXPR n_keep "${max_tier} + 1")
        list(SUBLIST targets 0 ${n_keep} targets)
      endif ()
    endif ()
  elseif (DEVICE STREQUAL "cuda")
    if (NOT STATEMIX_CUDA)
      return()
    endif ()
    set(targets ${STATEMIX_CUDA_TARGET})
  else ()
    message(FATAL_ERROR "statemix_kernel(${NAME}): DEVICE must be cpu or cuda, got ${DEVICE}")
  endif ()
  set(chunk 0)
  foreach (p IN LISTS ARG_PARAMS)
    if (p MATCHES "^chunk=([0-9]+)$")
      set(chunk ${CMAKE_MATCH_1})
    endif ()
  endforeach ()
  if (ALGORITHM STREQUAL "chunked" AND chunk EQUAL 0)
    set(chunk 64)  # the generator's default
  endif ()
  # The lowered statement (build/generators/NAME.stmt, for reading what a schedule did) only for
  # single-target kernels: a multi-target build writes one .stmt per target under other names, so
  # a declared NAME.stmt would never exist and every build would regenerate every kernel.
  list(LENGTH targets n_targets)
  set(stmt "")
  if (n_targets EQUAL 1)
    set(stmt STMT ${NAME}_stmt)
  endif ()
  add_halide_library(${NAME} FROM ${ARG_FROM}
                     GENERATOR ${LAYER}_${DIRECTION}
                     FUNCTION_NAME ${NAME}
                     TARGETS ${targets}
                     USE_RUNTIME ${STATEMIX_HALIDE_RUNTIME}
                     ${stmt}
                     PARAMS m=${M} algorithm=${ALGORITHM} ${ARG_PARAMS})
  string(REPLACE ";" " " params_str "${ARG_PARAMS}")
  set_property(GLOBAL APPEND PROPERTY STATEMIX_KERNELS "${NAME}|${LAYER}|${DIRECTION}|${ALGORITHM}|${M}|${DEVICE}|${chunk}|${params_str}|${max_tier}")
endfunction()

# Writes the registry table (one row per statemix_kernel) and returns the kernel libraries.
function(statemix_write_registry OUT_FILE OUT_LIBS)
  get_property(kernels GLOBAL PROPERTY STATEMIX_KERNELS)
  set(decls "")
  set(rows "")
  set(libs "")
  foreach (k IN LISTS kernels)
    string(REPLACE "|" ";" f "${k}")
    list(GET f 0 name)
    list(GET f 1 layer)
    list(GET f 2 dir)
    list(GET f 3 alg)
    list(GET f 4 m)
    list(GET f 5 dev)
    list(GET f 6 chunk)
    list(GET f 7 params)
    list(GET f 8 max_tier)
    set(max_tier_${name} ${max_tier})
    string(APPEND decls "extern \"C\" int ${name}_argv(void **args);\n")
    string(APPEND decls "extern \"C\" const struct halide_filter_metadata_t *${name}_metadata();\n")
    string(APPEND rows "    {\"${name}\", \"${layer}\", \"${dir}\", \"${alg}\", ${m}, \"${dev}\", ${chunk}, ${name}_argv, ${name}_metadata, \"${params}\", nullptr, nullptr, nullptr, ${max_tier}},\n")
    list(APPEND libs ${name})
  endforeach ()
  # The tuning database's choices (cmake/StatemixTuning.cmake).
  get_property(choices GLOBAL PROPERTY STATEMIX_KERNEL_CHOICES)
  set(crows "")
  set(used_machines "")
  foreach (c IN LISTS choices)
    string(REPLACE "|" ";" f "${c}")
    list(GET f 0 layer)
    list(GET f 1 dir)
    list(GET f 2 dev)
    list(GET f 3 m)
    list(GET f 4 bucket)
    list(GET f 5 lmin)
    list(GET f 6 lmax)
    list(GET f 7 tmin)
    list(GET f 8 tmax)
    list(GET f 9 kname)
    list(GET f 10 tier)
    list(GET f 11 machine)
    list(GET f 12 extra)
    set(mach "nullptr, nullptr, 0, 0")
    if (machine GREATER_EQUAL 0)
      set(mach "kTuningMachine${machine}, kTuningMachine${machine}Features, kTuningMachine${machine}NFeatures, ${extra}")
      if (NOT machine IN_LIST used_machines)
        list(APPEND used_machines ${machine})
      endif ()
    endif ()
    set(kmax -1)
    if (DEFINED max_tier_${kname})
      set(kmax ${max_tier_${kname}})
    endif ()
    string(APPEND crows "    {\"${layer}\", \"${dir}\", \"${dev}\", ${m}, \"${bucket}\", ${lmin}LL, ${lmax}LL, ${tmin}LL, ${tmax}LL, \"${kname}\", true, ${tier}, ${mach}, ${kmax}},\n")
  endforeach ()
  # The machines the CPU choices were tuned on: their target strings and features as Halide's enum
  # (dispatch::tuned_choice prefers the choices of a machine whose features this CPU has).
  get_property(machines GLOBAL PROPERTY STATEMIX_TUNING_MACHINES)
  set(machine_arrays "")
  foreach (mi IN LISTS used_machines)
    list(GET machines ${mi} mt)
    statemix_target_features(feats "${mt}")
    list(TRANSFORM feats PREPEND "halide_target_feature_")
    list(LENGTH feats nf)
    string(REPLACE ";" ", " flist "${feats}")
    string(APPEND machine_arrays "static const char kTuningMachine${mi}[] = \"${mt}\";\n"
                                 "static const int kTuningMachine${mi}Features[] = {${flist}};\n"
                                 "static const int kTuningMachine${mi}NFeatures = ${nf};\n")
  endforeach ()
  # The CPU tiers (cmake/StatemixTuning.cmake): each CPU target's features as Halide's enum, which
  # the runtime hands to halide_can_use_target_features as the multi-target dispatch does.
  set(tier_arrays "")
  set(tier_rows "")
  set(i 0)
  foreach (t IN LISTS STATEMIX_CPU_TARGETS)
    set(feats "")
    if (NOT t MATCHES "^host")  # a host build: the build machine's features, which it has
      statemix_target_features(feats "${t}")
    endif ()
    list(LENGTH feats nf)
    if (nf GREATER 0)
      list(TRANSFORM feats PREPEND "halide_target_feature_")
      string(REPLACE ";" ", " flist "${feats}")
      string(APPEND tier_arrays "static const int kCpuTier${i}Features[] = {${flist}};\n")
      string(APPEND tier_rows "    {\"${t}\", kCpuTier${i}Features, ${nf}},\n")
    else ()
      string(APPEND tier_rows "    {\"${t}\", nullptr, 0},\n")
    endif ()
    math(EXPR i "${i} + 1")
  endforeach ()
  if (crows STREQUAL "")
    set(crows "    {\"\", \"\", \"\", 0, \"\", 0, -1, 0, -1, \"\", false},  // none: every bucket untuned\n")
  endif ()
  file(GENERATE OUTPUT ${OUT_FILE} CONTENT
"// Generated by cmake/StatemixKernels.cmake from the statemix_kernel() lines. Do not edit.
#include \"kernel_registry.h\"

#include \"HalideRuntime.h\"

${decls}
namespace statemix {
const KernelEntry kKernelTable[] = {
${rows}};
const int kKernelTableSize = sizeof(kKernelTable) / sizeof(kKernelTable[0]);
${machine_arrays}const KernelChoice kKernelChoices[] = {
${crows}};
const int kKernelChoicesSize = sizeof(kKernelChoices) / sizeof(kKernelChoices[0]);
${tier_arrays}const CpuTier kCpuTiers[] = {
${tier_rows}};
const int kCpuTiersSize = sizeof(kCpuTiers) / sizeof(kCpuTiers[0]);
}  // namespace statemix
")
  set(${OUT_LIBS} ${libs} PARENT_SCOPE)
endfunction()
