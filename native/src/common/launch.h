// Launch helpers shared by the kernels' host code.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>

namespace barista {

inline void check_launch(const char* what) {
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

// Whether every pointer (nullptr included) sits on a 16-byte boundary: what a kernel's 16-byte vector loads need.
inline bool aligned16(std::initializer_list<const void*> ptrs) {
  uintptr_t any = 0;
  for (const void* p : ptrs) any |= reinterpret_cast<uintptr_t>(p);
  return any % 16 == 0;
}

inline int threads_for(int work) { return work >= 256 ? 256 : (work >= 128 ? 128 : 64); }

}  // namespace barista
