# oneDNN (Debian: libdnnl-dev, installed by scripts/setup.sh): the runtime's dense products
# (runtime/dense_ops.h) run on its matmul primitive, and bench/peer_onednn.cpp measures its RNN
# layers. Gives the INTERFACE target statemix_dnnl. Not find_package(dnnl): Debian's
# dnnl-config.cmake fails the configure step where no OpenCL is installed, even when QUIET.
find_library(STATEMIX_DNNL_LIBRARY dnnl)
find_path(STATEMIX_DNNL_INCLUDE dnnl.hpp PATH_SUFFIXES oneapi/dnnl)
if (NOT STATEMIX_DNNL_LIBRARY OR NOT STATEMIX_DNNL_INCLUDE)
  message(FATAL_ERROR "statemix: oneDNN not found (library: ${STATEMIX_DNNL_LIBRARY}, dnnl.hpp: "
                      "${STATEMIX_DNNL_INCLUDE}). The runtime needs it for its dense products: install "
                      "libdnnl-dev (scripts/setup.sh does), or point CMAKE_PREFIX_PATH at a oneDNN 2.x install.")
endif ()
add_library(statemix_dnnl INTERFACE)
target_link_libraries(statemix_dnnl INTERFACE ${STATEMIX_DNNL_LIBRARY})
target_include_directories(statemix_dnnl INTERFACE ${STATEMIX_DNNL_INCLUDE})
message(STATUS "statemix: oneDNN ${STATEMIX_DNNL_LIBRARY}")
