// Launch helpers shared by the kernels' host code.
#pragma once
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace barista {

inline void check_launch(const char* what) {
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

inline int threads_for(int work) { return work >= 256 ? 256 : (work >= 128 ? 128 : 64); }

}  // namespace barista
