# A tiny end-to-end tune (seconds), run by CTest:
#   cmake -DTUNE=<statemix_tune> -DWORK=<scratch dir> -P tests/tune_e2e.cmake
# Two candidates of the BD-LRU m = 1 forward at a small shape: compiled in child processes and
# loaded, checked against the float64 reference, timed, written to a fresh database with Halide's
# Mullapudi2016 autoscheduler next to them (and every one given up at a tiny --compile-limit, then
# compiled again by a rerun under the default one); a rerun finds the entry up to date, and
# --extend measures a wider space's new candidates; an entry left incomplete (as an interrupted
# run leaves it) is finished reusing what was measured; the report renders; a bundle of AOT
# candidates runs through its runner and its results are imported; an Elman forward is tuned
# (step kernels against one launch); a tuner stopped by SIGTERM leaves nothing behind.
cmake_minimum_required(VERSION 3.28)
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
# The tuner's scratch directories (the candidates' objects) go here; none may be left at the end.
file(MAKE_DIRECTORY ${WORK}/tmp)
set(ENV{TMPDIR} ${WORK}/tmp)
set(db ${WORK}/db.json)
# --no-incumbent: the space's first candidates only, whatever this machine's build runs (a step
# below searches that kernel too).
set(args run --layers bdlru --orders 1 --directions forward --buckets narrow --db ${db}
         --max-candidates 2 --reps 1 --shape-scale 0.05 --quiet --autoschedulers Mullapudi2016 --no-incumbent)

function(tune OUT)
  execute_process(COMMAND ${TUNE} ${ARGN} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  if (NOT rc EQUAL 0)
    message(FATAL_ERROR "statemix_tune ${ARGN} failed (${rc}):\n${out}\n${err}")
  endif ()
  set(${OUT} "${out}" PARENT_SCOPE)
endfunction()
function(expect TEXT WHAT)
  string(FIND "${TEXT}" "${WHAT}" at)
  if (at EQUAL -1)
    message(FATAL_ERROR "expected '${WHAT}' in:\n${TEXT}")
  endif ()
endfunction()

tune(out ${args})
expect("${out}" "<- chosen")
file(READ ${db} j)
string(JSON complete GET "${j}" entries 0 complete)
string(JSON n LENGTH "${j}" entries 0 candidates)
string(JSON status GET "${j}" entries 0 candidates 0 status)
string(JSON ms0 GET "${j}" entries 0 candidates 0 ms)
string(JSON err0 GET "${j}" entries 0 candidates 0 max_rel_err)
string(JSON src2 GET "${j}" entries 0 candidates 2 source)
if (NOT complete OR NOT n EQUAL 3 OR NOT status STREQUAL "ok" OR ms0 LESS_EQUAL 0 OR NOT src2 STREQUAL "autoscheduler:Mullapudi2016")
  message(FATAL_ERROR "unexpected database after the first run (complete ${complete}, ${n} candidates, ${status}, ${ms0} ms):\n${j}")
endif ()
if (err0 GREATER 0.002)
  message(FATAL_ERROR "a candidate passed with relative error ${err0}")
endif ()

tune(out ${args})
expect("${out}" "up to date")
# A build whose space has candidates a complete entry lacks (here: one more of the space) says so,
# and --extend measures just those, reusing the rest, and checks the best of them against the old
# winner.
set(args3 run --layers bdlru --orders 1 --directions forward --buckets narrow --db ${WORK}/extend.json
          --max-candidates 3 --reps 1 --shape-scale 0.05 --quiet --autoschedulers Mullapudi2016 --no-incumbent)
# The entry's rows as if measured in a faster state of the machine (1e-6 ms): the new candidate is
# not ranked against them but checked against the entry's winner, both timed now.
set(js "${j}")
foreach (row 0 1)
  string(JSON js SET "${js}" entries 0 candidates ${row} ms 1e-06)
endforeach ()
file(WRITE ${WORK}/extend.json "${js}")
tune(out ${args3})
expect("${out}" "1 candidate(s) of this build's space not measured: --extend measures them")
tune(out ${args3} --extend)
expect("${out}" "measuring the 1 candidate(s) of this build's space the entry lacks (--extend)")
expect("${out}" "the kernel it replaces")
file(READ ${WORK}/extend.json je)
string(JSON complete GET "${je}" entries 0 complete)
string(JSON n LENGTH "${je}" entries 0 candidates)
string(JSON mse GET "${je}" entries 0 candidates 0 ms)
if (NOT complete OR NOT n EQUAL 4 OR NOT mse EQUAL 1e-06)
  message(FATAL_ERROR "--extend: expected the entry complete with 4 rows, the first reused (1e-06 ms):\n${je}")
endif ()
tune(out ${args3} --extend)
expect("${out}" "up to date (measured")
execute_process(COMMAND ${TUNE} ${args3} --extend --force OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if (rc EQUAL 0)
  message(FATAL_ERROR "--extend with --force was accepted")
endif ()

# An interrupted run leaves the entry incomplete: the next run reuses the measured candidates.
string(JSON j SET "${j}" entries 0 complete false)
file(WRITE ${db} "${j}")
tune(out ${args})
expect("${out}" "<- chosen")
file(READ ${db} j2)
string(JSON complete GET "${j2}" entries 0 complete)
string(JSON ms1 GET "${j2}" entries 0 candidates 0 ms)
if (NOT complete OR NOT ms1 EQUAL ms0)
  message(FATAL_ERROR "the resumed run measured again (${ms0} -> ${ms1} ms) or did not finish (${complete})")
endif ()

# --force over a complete entry times the winner it replaces against the new one, alternating, and
# keeps the old one unless the new one is kConfirmMargin faster. Here the old winner is made the
# second candidate and the new search has only the first (the default), so the two differ.
string(JSON p1 GET "${j2}" entries 0 candidates 1 params)
string(JSON jf SET "${j2}" entries 0 params "${p1}")
file(WRITE ${WORK}/force.json "${jf}")
tune(out run --layers bdlru --orders 1 --directions forward --buckets narrow --db ${WORK}/force.json
     --max-candidates 1 --reps 1 --shape-scale 0.05 --quiet --autoschedulers Mullapudi2016 --force --no-incumbent)
expect("${out}" "the kernel it replaces")
file(READ ${WORK}/force.json jf)
string(JSON rounds GET "${jf}" entries 0 confirm rounds)
string(JSON kept GET "${jf}" entries 0 confirm kept_previous)
string(JSON prev GET "${jf}" entries 0 confirm previous)
string(JSON chosen GET "${jf}" entries 0 params)
string(JSON p0 GET "${jf}" entries 0 candidates 0 params)
string(JSON same_prev EQUAL "${prev}" "${p1}")
string(JSON chose_prev EQUAL "${chosen}" "${p1}")
string(JSON chose_new EQUAL "${chosen}" "${p0}")
if (NOT rounds GREATER_EQUAL 3 OR NOT same_prev OR (kept AND NOT chose_prev) OR (NOT kept AND NOT chose_new))
  message(FATAL_ERROR "the --force check did not run as expected (rounds ${rounds}, kept ${kept}, previous ${prev}, chosen ${chosen}):\n${jf}")
endif ()

# Both directions in one run: each entry records what its own direction moves (spec §6; BD-LRU
# m = 1 per token: forward z, v, h = 4 floats, backward z, v, h, g, dz, dv = 8).
tune(out run --layers bdlru --orders 1 --directions forward backward --buckets narrow --db ${WORK}/dirs.json
     --max-candidates 1 --reps 1 --shape-scale 0.05 --quiet --autoschedulers Mullapudi2016)
file(READ ${WORK}/dirs.json jd)
foreach (i 0 1)
  string(JSON dir${i} GET "${jd}" entries ${i} direction)
  string(JSON b GET "${jd}" entries ${i} bytes)
  string(REGEX REPLACE "\\.0*$" "" bytes_${dir${i}} "${b}")  # written as a float: 1234.0
endforeach ()
math(EXPR twice "${bytes_forward} * 2")
if (NOT bytes_forward GREATER 0 OR NOT bytes_backward EQUAL twice)
  message(FATAL_ERROR "bytes: forward ${bytes_forward}, backward ${bytes_backward} (expected twice the forward):\n${jd}")
endif ()

# --only: a slice of the space (the default, the baseline, stays first); the entry names the slice.
tune(out run --layers bdlru --orders 1 --directions forward --buckets narrow --db ${WORK}/only.json
     --only tile=1024 --max-candidates 2 --reps 1 --shape-scale 0.05 --quiet --autoschedulers Mullapudi2016 --no-incumbent)
file(READ ${WORK}/only.json jo)
string(JSON search GET "${jo}" entries 0 search)
string(JSON tile1 GET "${jo}" entries 0 candidates 1 params tile)
if (NOT search STREQUAL "exhaustive of the candidates with tile=1024" OR NOT tile1 STREQUAL "1024")
  message(FATAL_ERROR "--only: search '${search}', second candidate's tile ${tile1}:\n${jo}")
endif ()

# The kernel this build runs here now is searched next to the space (second, after the default),
# and the run says so, unless it is the default (then the entry has the default alone).
foreach (dir forward backward)
  tune(out run --layers bdlru --orders 2 --directions ${dir} --buckets narrow --db ${WORK}/inc_${dir}.json
       --max-candidates 1 --reps 1 --shape-scale 0.02 --quiet --autoschedulers none)
  file(READ ${WORK}/inc_${dir}.json ji)
  string(JSON ni LENGTH "${ji}" entries 0 candidates)
  string(FIND "${out}" "searching the kernel this build runs here now too" said)
  if (NOT ((ni EQUAL 2 AND NOT said EQUAL -1) OR (ni EQUAL 1 AND said EQUAL -1)))
    message(FATAL_ERROR "the incumbent (${dir}): ${ni} candidates, said at ${said}:\n${out}\n${ji}")
  endif ()
endforeach ()

tune(out report --db ${db} --out ${WORK}/report.html)
file(READ ${WORK}/report.html html)
expect("${html}" "<svg")
expect("${html}" "bdlru forward")

# A candidate over --compile-limit is given up (the child compiling it killed) and recorded as not
# compiled; with every candidate over it the run ends in an error that says so, naming the kernel.
execute_process(COMMAND ${TUNE} run --layers bdlru --orders 1 --directions forward --buckets narrow --db ${WORK}/limit.json
                --max-candidates 2 --reps 1 --shape-scale 0.05 --quiet --autoschedulers Mullapudi2016 --compile-limit 0.01
                --no-incumbent
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if (rc EQUAL 0)
  message(FATAL_ERROR "a run with every candidate over --compile-limit succeeded:\n${out}\n${err}")
endif ()
expect("${err}" "no candidate of bdlru forward m=1 cpu ran correctly")
file(READ ${WORK}/limit.json jl)
string(JSON nl LENGTH "${jl}" entries 0 candidates)
if (NOT nl EQUAL 3)
  message(FATAL_ERROR "expected 3 candidates (2 of the space, Mullapudi2016) in:\n${jl}")
endif ()
foreach (i 0 1 2)
  string(JSON st GET "${jl}" entries 0 candidates ${i} status)
  expect("${st}" "did not compile within 0.01 s")
endforeach ()
# A rerun under a larger limit (the default) compiles the given-up candidates again, without
# --force, and finishes the entry; one under the same limit would not try them.
tune(out run --layers bdlru --orders 1 --directions forward --buckets narrow --db ${WORK}/limit.json
     --max-candidates 2 --reps 1 --shape-scale 0.05 --quiet --autoschedulers Mullapudi2016 --no-incumbent)
expect("${out}" "3 candidate(s) given up at a smaller --compile-limit compiled again (limit 300 s)")
file(READ ${WORK}/limit.json jl)
string(JSON complete GET "${jl}" entries 0 complete)
if (NOT complete)
  message(FATAL_ERROR "the rerun left the entry incomplete:\n${jl}")
endif ()
foreach (i 0 1 2)
  string(JSON st GET "${jl}" entries 0 candidates ${i} status)
  if (NOT st STREQUAL "ok")
    message(FATAL_ERROR "candidate ${i} not measured on the rerun (${st}):\n${jl}")
  endif ()
endforeach ()
tune(out run --layers bdlru --orders 1 --directions forward --buckets narrow --db ${WORK}/limit.json
     --max-candidates 2 --reps 1 --shape-scale 0.05 --quiet --autoschedulers Mullapudi2016 --no-incumbent
     --compile-limit 0.01)
expect("${out}" "up to date")
# A complete entry with one row given up at a smaller limit (as a run under --compile-limit 60
# would leave it) is searched again with that row compiled, the rest reused.
string(JSON jl SET "${jl}" entries 0 candidates 1 status "\"compile: did not compile within 60 s (statemix_tune run --compile-limit)\"")
file(WRITE ${WORK}/limit.json "${jl}")
tune(out run --layers bdlru --orders 1 --directions forward --buckets narrow --db ${WORK}/limit.json
     --max-candidates 2 --reps 1 --shape-scale 0.05 --quiet --autoschedulers Mullapudi2016 --no-incumbent)
expect("${out}" "1 candidate(s) given up at a smaller --compile-limit compiled again (limit 300 s)")
file(READ ${WORK}/limit.json jl)
string(JSON st GET "${jl}" entries 0 candidates 1 status)
string(JSON complete GET "${jl}" entries 0 complete)
if (NOT st STREQUAL "ok" OR NOT complete)
  message(FATAL_ERROR "the given-up row was not measured again (${st}, complete ${complete}):\n${jl}")
endif ()

# Without a working C++ compiler to link a candidate's shared object, the run fails naming the
# link step and the compiler it ran.
set(ENV{CXX} /bin/false)
execute_process(COMMAND ${TUNE} measure --layers bdlru --orders 1 --directions forward --shape 1x40x16 --reps 1 --quiet
                --params "tile=64" OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
unset(ENV{CXX})
expect("${out}${err}" "failed ('/bin/false' -shared")

# measure: two configurations at one shape, checked and timed, the first as the baseline; a
# malformed --shape is refused naming the option.
tune(out measure --layers bdlru --orders 1 --directions forward --shape 1x40x16 --reps 1 --quiet
     --params "tile=64" --params "tile=64 vector_width=16")
expect("${out}" "x the first")
expect("${out}" "tile=64 vector_width=16")
# A time-major candidate ([T,B,...] sequences) of the backward, checked against the float64
# reference through the transposition and timed (a wrong layout would be reported WRONG).
tune(out measure --layers bdlru --orders 1 --directions backward --shape 3x40x16 --reps 1 --quiet
     --params "tile=64" --params "tile=64 time_major=true batch_rows=2")
expect("${out}" "batch_rows=2 tile=64 time_major=true")
if (out MATCHES "WRONG|does not compile")
  message(FATAL_ERROR "the time-major candidate failed: ${out}")
endif ()
execute_process(COMMAND ${TUNE} measure --layers bdlru --orders 1 --directions forward --shape 12x3 --params "tile=64"
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if (rc EQUAL 0)
  message(FATAL_ERROR "measure accepted --shape 12x3")
endif ()
expect("${err}" "--shape must be BxTxSTATE")

# A database that is not one is refused naming the file; the old file is left alone.
file(WRITE ${WORK}/bad.json "{ not json")
string(REPLACE "${db}" "${WORK}/bad.json" bad_args "${args}")
execute_process(COMMAND ${TUNE} ${bad_args} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if (rc EQUAL 0)
  message(FATAL_ERROR "a corrupt database was accepted")
endif ()
expect("${err}" "${WORK}/bad.json")
file(READ ${WORK}/bad.json still)
if (NOT still STREQUAL "{ not json")
  message(FATAL_ERROR "the corrupt database was overwritten")
endif ()
# The bundle round trip on this CPU: AOT candidates (two of the space and Mullapudi2016's schedule
# planned for the bucket's shape) and the runner into a directory, the runner run from there, its
# results imported into a database.
set(bundle ${WORK}/bundle)
tune(out bundle --layers bdlru --orders 1 --directions forward --buckets narrow --db ${WORK}/for_buckets.json
     --max-candidates 2 --reps 1 --shape-scale 0.05 --quiet --autoschedulers Mullapudi2016 --out ${bundle})
foreach (f manifest.json statemix_tune_runner sm_cand_0000.so)
  if (NOT EXISTS ${bundle}/${f})
    message(FATAL_ERROR "the bundle has no ${f}:\n${out}")
  endif ()
endforeach ()
execute_process(COMMAND ${bundle}/statemix_tune_runner ${bundle} --quiet OUTPUT_VARIABLE rout ERROR_VARIABLE rerr
                RESULT_VARIABLE rc)
if (NOT rc EQUAL 0)
  message(FATAL_ERROR "the bundle runner failed (${rc}):\n${rout}\n${rerr}")
endif ()
expect("${rout}" "<- chosen")
tune(out import ${bundle}/results.json --db ${WORK}/imported.json)
file(READ ${WORK}/imported.json j3)
string(JSON complete GET "${j3}" entries 0 complete)
string(JSON n LENGTH "${j3}" entries 0 candidates)
string(JSON st GET "${j3}" entries 0 candidates 0 status)
string(JSON src GET "${j3}" entries 0 candidates 2 source)
string(JSON est GET "${j3}" entries 0 candidates 2 params estimate)
if (NOT complete OR NOT n EQUAL 3 OR NOT st STREQUAL "ok" OR NOT src STREQUAL "autoscheduler:Mullapudi2016" OR NOT est STREQUAL "1x205x256")
  message(FATAL_ERROR "the imported bundle results are not a complete entry:\n${j3}")
endif ()
# The RNN cores: three Elman forward candidates (the default for the bucket first) through the
# runtime's op, checked against float64, an entry naming its implementation.
tune(out run --layers elman --directions forward --buckets narrow --db ${WORK}/rnn.json --max-candidates 3 --reps 1
     --shape-scale 0.05 --quiet)
expect("${out}" "<- chosen")
file(READ ${WORK}/rnn.json j4)
string(JSON complete GET "${j4}" entries 0 complete)
string(JSON impl GET "${j4}" entries 0 params impl)
string(JSON n LENGTH "${j4}" entries 0 candidates)
string(JSON flops GET "${j4}" entries 0 flops)
if (NOT complete OR NOT n EQUAL 3 OR NOT (impl STREQUAL "stepped" OR impl STREQUAL "scan") OR flops LESS_EQUAL 0)
  message(FATAL_ERROR "unexpected RNN entry:\n${j4}")
endif ()
foreach (i 0 1 2)
  string(JSON st GET "${j4}" entries 0 candidates ${i} status)
  string(JSON err GET "${j4}" entries 0 candidates ${i} max_rel_err)
  if (NOT st STREQUAL "ok" OR err GREATER 0.002)
    message(FATAL_ERROR "RNN candidate ${i}: ${st}, relative error ${err}:\n${j4}")
  endif ()
endforeach ()
# A tuner stopped by SIGTERM while its children compile (killed once the first candidate's object
# is written, with more still compiling) ends as killed by the signal and leaves no scratch
# directory (its handler kills the children and removes their files).
execute_process(COMMAND sh -c "'${TUNE}' measure --layers bdlru --orders 4 --directions backward --shape 2x40x64 --reps 1 --quiet --params tile=64 --params tile=128 --params tile=256 --params tile=512 --params 'tile=64 unroll_rows=0' --params 'tile=128 unroll_rows=0' --params 'tile=256 unroll_rows=0' --params 'tile=512 unroll_rows=0' >/dev/null 2>&1 & p=$!; i=0; while [ $i -lt 1200 ] && [ -z \"$(find '${WORK}/tmp' -type f)\" ]; do sleep 0.05; i=$((i+1)); done; kill -TERM $p; wait $p; echo $?"
                OUTPUT_VARIABLE killed_rc RESULT_VARIABLE rc)
string(STRIP "${killed_rc}" killed_rc)
if (NOT killed_rc STREQUAL "143")
  message(FATAL_ERROR "a tuner sent SIGTERM while compiling exited with ${killed_rc}, not 143 (killed by SIGTERM)")
endif ()
file(GLOB left ${WORK}/tmp/*)
if (left)
  message(FATAL_ERROR "a tuner stopped by SIGTERM left files in its scratch directory: ${left}")
endif ()

message(STATUS "end-to-end tune: passed")

file(GLOB left ${WORK}/tmp/*)
if (left)
  message(FATAL_ERROR "the tuner left files in its scratch directory: ${left}")
endif ()
