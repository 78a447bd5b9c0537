# The tuning database (autotune/db/tuning.json, written by the tuner `statemix_tune`, read here):
# which GeneratorParams each scan kernel is compiled with, per target, layer, direction, m and
# shape bucket. generators/CMakeLists.txt compiles every distinct winner as a kernel variant, and
# the generated registry (kKernelChoices, runtime/kernel_registry.h) tells the runtime which
# variant serves which bucket.
#
# A missing database or entry, or an entry tuned for another knob-set version (STATEMIX_SCAN_
# KNOBS_VERSION in generators/scan_knobs_version.h), falls back to the build's default knobs with one
# warning; a database that is not valid JSON or not in this format stops the configure step with
# a message naming the file.
set(STATEMIX_TUNING_DB ${PROJECT_SOURCE_DIR}/autotune/db/tuning.json
    CACHE FILEPATH "The tuning database the kernels are compiled from (autotune/README.md)")
# Whose entries the CPU kernels take: the Halide target the tuner ran on (`statemix_tune` prints
# it; the checked-in database was tuned on the 2-core AVX2 dev machine).
set(STATEMIX_TUNING_CPU_TARGET x86-64-linux-avx-avx2-f16c-fma-sse41
    CACHE STRING "The tuned target whose database entries the CPU kernels use")
set(STATEMIX_TUNING_CUDA_TARGET ${STATEMIX_CUDA_TARGET}
    CACHE STRING "The tuned target whose database entries the CUDA kernels use")

file(STRINGS ${PROJECT_SOURCE_DIR}/generators/scan_knobs_version.h _knobs_line
     REGEX "^#define STATEMIX_SCAN_KNOBS_VERSION [0-9]+")
string(REGEX REPLACE ".* ([0-9]+)$" "\\1" STATEMIX_SCAN_KNOBS_VERSION "${_knobs_line}")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${STATEMIX_TUNING_DB})

# Reads the database once: the buckets (STATEMIX_TUNING_BUCKETS: name;lanes_min;lanes_max;t_min;
# t_max per bucket, as global properties) and one global property per entry,
# STATEMIX_TUNED_<device>_<layer>_<direction>_<m>_<bucket> = "algorithm;k=v;k=v".
function(statemix_load_tuning_db)
  set(db_file ${STATEMIX_TUNING_DB})
  set_property(GLOBAL PROPERTY STATEMIX_TUNING_BUCKETS "")
  if (NOT EXISTS ${db_file})
    message(WARNING "statemix: no tuning database at ${db_file}: every kernel gets the default knobs "
                    "(run statemix_tune to make one; autotune/README.md)")
    return()
  endif ()
  file(READ ${db_file} db)
  string(JSON format ERROR_VARIABLE err GET "${db}" format)
  if (err)
    message(FATAL_ERROR "statemix: the tuning database ${db_file} is not a valid statemix tuning database: ${err}")
  endif ()
  string(JSON version ERROR_VARIABLE err GET "${db}" version)
  if (err OR NOT format STREQUAL "statemix-tuning-db" OR NOT version EQUAL 1)
    message(FATAL_ERROR "statemix: the tuning database ${db_file} has format '${format}' version '${version}'; "
                        "expected format 'statemix-tuning-db' version 1")
  endif ()
  string(JSON nb ERROR_VARIABLE err LENGTH "${db}" buckets)
  if (err)
    message(FATAL_ERROR "statemix: the tuning database ${db_file}: 'buckets': ${err}")
  endif ()
  set(buckets "")
  if (nb GREATER 0)
    math(EXPR last "${nb} - 1")
    foreach (i RANGE ${last})
      foreach (f name lanes_min lanes_max t_min t_max)
        string(JSON v ERROR_VARIABLE err GET "${db}" buckets ${i} ${f})
        if (err)
          message(FATAL_ERROR "statemix: the tuning database ${db_file}: buckets[${i}].${f}: ${err}")
        endif ()
        set(b_${f} ${v})
      endforeach ()
      list(APPEND buckets "${b_name}|${b_lanes_min}|${b_lanes_max}|${b_t_min}|${b_t_max}")
    endforeach ()
  endif ()
  set_property(GLOBAL PROPERTY STATEMIX_TUNING_BUCKETS "${buckets}")

  string(JSON ne ERROR_VARIABLE err LENGTH "${db}" entries)
  if (err)
    message(FATAL_ERROR "statemix: the tuning database ${db_file}: 'entries': ${err}")
  endif ()
  set(n_used 0)
  set(n_stale 0)
  if (ne GREATER 0)
    math(EXPR last "${ne} - 1")
    foreach (i RANGE ${last})
      foreach (f target device layer direction m bucket knobs_version complete)
        string(JSON v ERROR_VARIABLE err GET "${db}" entries ${i} ${f})
        if (err)
          message(FATAL_ERROR "statemix: the tuning database ${db_file}: entries[${i}].${f}: ${err}")
        endif ()
        set(e_${f} ${v})
      endforeach ()
      if (e_device STREQUAL "cpu")
        set(want_target ${STATEMIX_TUNING_CPU_TARGET})
      else ()
        set(want_target ${STATEMIX_TUNING_CUDA_TARGET})
      endif ()
      if (NOT e_target STREQUAL want_target OR NOT e_complete)  # incomplete: a run was interrupted
        continue()
      endif ()
      if (NOT e_knobs_version EQUAL STATEMIX_SCAN_KNOBS_VERSION)
        math(EXPR n_stale "${n_stale} + 1")
        continue()
      endif ()
      string(JSON np ERROR_VARIABLE err LENGTH "${db}" entries ${i} params)
      if (err)
        message(FATAL_ERROR "statemix: the tuning database ${db_file}: entries[${i}].params: ${err}")
      endif ()
      set(algorithm sequential)
      set(params "")
      if (np GREATER 0)
        math(EXPR plast "${np} - 1")
        foreach (j RANGE ${plast})
          string(JSON key MEMBER "${db}" entries ${i} params ${j})
          string(JSON val GET "${db}" entries ${i} params ${key})
          if (key STREQUAL "algorithm")
            set(algorithm ${val})
          else ()
            list(APPEND params "${key}=${val}")
          endif ()
        endforeach ()
      endif ()
      list(SORT params)
      set_property(GLOBAL PROPERTY STATEMIX_TUNED_${e_device}_${e_layer}_${e_direction}_${e_m}_${e_bucket}
                   "${algorithm};${params}")
      math(EXPR n_used "${n_used} + 1")
    endforeach ()
  endif ()
  if (n_stale GREATER 0)
    message(WARNING "statemix: ${n_stale} entries of ${db_file} were tuned for another knob-set version than "
                    "${STATEMIX_SCAN_KNOBS_VERSION}: their kernels get the default knobs (rerun statemix_tune)")
  endif ()
  message(STATUS "statemix: tuning database ${db_file}: ${n_used} entries for "
                 "${STATEMIX_TUNING_CPU_TARGET} / ${STATEMIX_TUNING_CUDA_TARGET}")
endfunction()

# statemix_tuned_kernels(LAYER DIRECTION M DEVICE DEFAULT_ALGORITHM DEFAULT_PARAMS...)
#
# The kernel variants of one (layer, direction, m, device): the default first (named
# sm_<layer>_<fwd|bwd>_<seq|chunk>_m<m>_<device>, as the runtime's rule-of-thumb fallback), then
# every distinct database winner, each with the buckets it serves recorded for the registry.
# Buckets without an entry are served by the default and counted for one warning at the end.
function(statemix_tuned_kernels LAYER DIRECTION M DEVICE DEFAULT_ALGORITHM)
  set(default_params ${ARGN})
  list(SORT default_params)
  if (DIRECTION STREQUAL "forward")
    set(d fwd)
  else ()
    set(d bwd)
  endif ()
  set(alg_short_sequential seq)
  set(alg_short_chunked chunk)
  set(default_name sm_${LAYER}_${d}_${alg_short_${DEFAULT_ALGORITHM}}_m${M}_${DEVICE})
  statemix_kernel(${default_name} ${LAYER} ${DIRECTION} ${DEFAULT_ALGORITHM} ${M} ${DEVICE} PARAMS ${default_params})
  set(default_key "${DEFAULT_ALGORITHM};${default_params}")
  if (NOT STATEMIX_SCAN_KERNELS_TUNED)
    return()
  endif ()
  get_property(buckets GLOBAL PROPERTY STATEMIX_TUNING_BUCKETS)
  set(made "")
  foreach (b IN LISTS buckets)
    string(REPLACE "|" ";" bf "${b}")
    list(GET bf 0 bname)
    get_property(tuned GLOBAL PROPERTY STATEMIX_TUNED_${DEVICE}_${LAYER}_${DIRECTION}_${M}_${bname})
    if (NOT tuned)
      set_property(GLOBAL APPEND PROPERTY STATEMIX_UNTUNED "${LAYER} ${DIRECTION} m=${M} ${DEVICE} ${bname}")
      continue()
    endif ()
    list(GET tuned 0 alg)
    set(params "${tuned}")
    list(REMOVE_AT params 0)
    if ("${tuned}" STREQUAL "${default_key}")
      set(name ${default_name})
    else ()
      # A short, stable name from the knobs: tile=256 two_pass=true -> _tile256_two_passtrue.
      set(suffix "")
      foreach (p IN LISTS params)
        string(REPLACE "=" "" p "${p}")
        string(APPEND suffix "_${p}")
      endforeach ()
      set(name sm_${LAYER}_${d}_${alg_short_${alg}}_m${M}_${DEVICE}${suffix})
      if (NOT name IN_LIST made)
        statemix_kernel(${name} ${LAYER} ${DIRECTION} ${alg} ${M} ${DEVICE} PARAMS ${params})
        list(APPEND made ${name})
      endif ()
    endif ()
    set_property(GLOBAL APPEND PROPERTY STATEMIX_KERNEL_CHOICES "${LAYER}|${DIRECTION}|${DEVICE}|${M}|${b}|${name}")
  endforeach ()
endfunction()

# One warning naming how many (layer, direction, m, device, bucket) had no database entry.
function(statemix_report_untuned)
  get_property(untuned GLOBAL PROPERTY STATEMIX_UNTUNED)
  list(LENGTH untuned n)
  if (n GREATER 0)
    list(GET untuned 0 first)
    message(WARNING "statemix: ${n} kernel/bucket pairs have no entry in ${STATEMIX_TUNING_DB} for this target "
                    "(the first: ${first}); they run the default knobs (statemix_tune fills them in)")
  endif ()
endfunction()
