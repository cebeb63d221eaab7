// Structured output: a constraint's bit mask applied to float32 logits.
#include "kernels.h"
#include "common/dtype.cuh"
#include "common/launch.h"

namespace barista {
namespace {

// One thread per logit; the 32 threads of a warp share half a mask word.
constexpr int kMaskThreads = 256;
__global__ void apply_token_mask_kernel(float* logits, const uint64_t* bits, int vocab) {
  const int j = blockIdx.x * kMaskThreads + threadIdx.x;
  if (j >= vocab) return;
  const long row = blockIdx.y;
  const uint64_t word = bits[row * ((vocab + 63) / 64) + j / 64];
  if (((word >> (j % 64)) & 1u) == 0) logits[row * vocab + j] = __int_as_float(0xff800000);  // -inf
}

}  // namespace

void apply_token_mask(float* logits, const uint64_t* bits, int rows, int vocab, cudaStream_t s) {
  if (rows == 0 || vocab == 0) return;
  dim3 grid((vocab + kMaskThreads - 1) / kMaskThreads, rows);
  apply_token_mask_kernel<<<grid, kMaskThreads, 0, s>>>(logits, bits, vocab);
  check_launch("apply_token_mask");
}


}  // namespace barista
