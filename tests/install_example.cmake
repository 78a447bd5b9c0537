# `cmake --install` into a temporary prefix, then examples/ configured, built and run against the
# installed package alone (find_package(statemix)), run by CTest:
#   cmake -DBUILD=<build dir> -DSRC=<source dir> -DWORK=<scratch> -DGEN=<generator> -DMAKE=<make program>
#         -DCXX=<C++ compiler> -P tests/install_example.cmake
cmake_minimum_required(VERSION 3.28)
file(REMOVE_RECURSE ${WORK})
function(step WHAT)
  execute_process(COMMAND ${ARGN} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  if (NOT rc EQUAL 0)
    message(FATAL_ERROR "${WHAT} failed (${rc}):\n${out}\n${err}")
  endif ()
  set(last_out "${out}" PARENT_SCOPE)
endfunction()
step("install" ${CMAKE_COMMAND} --install ${BUILD} --prefix ${WORK}/prefix)
foreach (f lib/libstatemix.a include/statemix/statemix.h include/statemix/HalideBuffer.h lib/cmake/statemix/statemixConfig.cmake)
  if (NOT EXISTS ${WORK}/prefix/${f})
    message(FATAL_ERROR "the install has no ${f}")
  endif ()
endforeach ()
step("configure the example" ${CMAKE_COMMAND} -S ${SRC}/examples -B ${WORK}/build -G ${GEN} -DCMAKE_MAKE_PROGRAM=${MAKE}
     -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=${WORK}/prefix)
step("build the example" ${CMAKE_COMMAND} --build ${WORK}/build)
step("run the example" ${WORK}/build/bdlru_layer)
string(FIND "${last_out}" "ok" at)
if (at EQUAL -1)
  message(FATAL_ERROR "the example did not report ok:\n${last_out}")
endif ()
message(STATUS "installed package example: ${last_out}")
