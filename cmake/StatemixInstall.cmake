# `cmake --install build --prefix P` installs the tuned kernels for other programs:
#   P/lib/libstatemix.a             the runtime, every kernel library and the Halide runtime in one
#                                   archive (the kernels are many small static libraries)
#   P/include/statemix/             the runtime's headers (statemix.h includes the API) and the
#                                   Halide runtime headers they use
#   P/lib/cmake/statemix/           statemixConfig.cmake: find_package(statemix) gives the one
#                                   target statemix::statemix to link
# examples/ builds against it; the test InstalledPackageExample (tests/install_example.cmake)
# installs into a temporary prefix and builds and runs the example from there.
include(GNUInstallDirs)

get_property(_kernels GLOBAL PROPERTY STATEMIX_KERNELS)
set(_archive_libs statemix_runtime statemix_kernels statemix_halide_runtime)
foreach (k IN LISTS _kernels)
  string(REPLACE "|" ";" f "${k}")
  list(GET f 0 name)
  if (TARGET ${name})
    list(APPEND _archive_libs ${name})
  endif ()
endforeach ()
set(_mri "create ${CMAKE_BINARY_DIR}/libstatemix.a\n")
foreach (l IN LISTS _archive_libs)
  string(APPEND _mri "addlib $<TARGET_FILE:${l}>\n")
endforeach ()
string(APPEND _mri "save\nend\n")
file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/libstatemix.mri CONTENT "${_mri}")
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/libstatemix.a
                   COMMAND ${CMAKE_COMMAND} -E rm -f ${CMAKE_BINARY_DIR}/libstatemix.a
                   COMMAND sh -c "\"$0\" -M < \"$1\"" ${CMAKE_AR} ${CMAKE_BINARY_DIR}/libstatemix.mri
                   DEPENDS ${_archive_libs} ${CMAKE_BINARY_DIR}/libstatemix.mri
                   COMMENT "statemix: one archive of the runtime and every kernel (libstatemix.a)"
                   VERBATIM)
add_custom_target(statemix_archive ALL DEPENDS ${CMAKE_BINARY_DIR}/libstatemix.a)

install(FILES ${CMAKE_BINARY_DIR}/libstatemix.a DESTINATION ${CMAKE_INSTALL_LIBDIR})
file(GLOB _runtime_headers ${PROJECT_SOURCE_DIR}/runtime/*.h)
install(FILES ${_runtime_headers} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/statemix)
install(FILES ${PROJECT_SOURCE_DIR}/runtime/cuda/rnn_persistent.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/statemix/cuda)
foreach (h HalideBuffer.h HalideRuntime.h HalideRuntimeCuda.h)
  find_file(STATEMIX_INSTALL_${h} ${h} HINTS ${Halide_DIR}/../../../include NO_DEFAULT_PATH REQUIRED)
  install(FILES ${STATEMIX_INSTALL_${h}} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/statemix)
endforeach ()

# What a program linking libstatemix.a needs besides it.
set(STATEMIX_CONFIG_CUDA OFF)
if (STATEMIX_HAVE_NVCC AND TARGET CUDA::cublas)
  set(STATEMIX_CONFIG_CUDA ON)
endif ()
configure_file(${PROJECT_SOURCE_DIR}/cmake/statemixConfig.cmake.in ${CMAKE_BINARY_DIR}/statemixConfig.cmake @ONLY)
include(CMakePackageConfigHelpers)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/statemixConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/statemixConfig.cmake ${CMAKE_BINARY_DIR}/statemixConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/statemix)
