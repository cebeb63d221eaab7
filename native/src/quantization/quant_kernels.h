// Weight-only quantized linears (AWQ 4-bit, INT8 W8A16) behind a plain C++ interface: raw device pointers, sizes
// and a stream, so the .cu files need no ATen headers. The JNI layer (quant_jni.cpp) checks shapes and dtypes.
//
// Every kernel computes y [M, N] = x [M, K] W^T + bias with x, y, bias and scales in fp16, products accumulated in
// fp32, and no host scalars or allocations: a call can be recorded in a CUDA graph.
//
// Device layouts (repacked at load time, see barista.engine.quant.AwqPacking#toKernelLayout):
//  - AWQ: qweight [N, K / 8] int32, word (n, j) holding inputs 8j .. 8j+7 of output n; nibble slot s (bits 4s..4s+3)
//    holds input 8j + {0, 2, 4, 6, 1, 3, 5, 7}[s], so that (word >> 4i) & 0x000f000f is the pair (8j+2i, 8j+2i+1).
//    zeros and scales [N, K / group] fp16 (zeros hold the integer zero point); w = (q - z) * s.
//  - INT8: weight [N, K] int8 as checkpoints store it, scales [N, groups] fp16 (groups = 1: per channel);
//    w = q * s. K / groups must be a multiple of 8.
// K must be a multiple of 32 (and of the AWQ group), N a multiple of 8.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cuda_runtime.h>

namespace barista::quant {

// Largest row count served by the GEMV kernels; larger calls go to the tensor-core GEMM.
constexpr int kGemvMaxRows = 8;

// Bytes of float32 scratch the GEMM needs for its split-K partial sums at this shape (0: none). The caller passes
// a buffer at least this large to the gemm/linear calls.
size_t gemm_workspace_bytes(int M, int N, int K);

// Which kernel serves M rows ("gemv", "gemm" or "dequantize+cublas").
const char* kernel_for_rows(int M);

void awq_gemv(void* y, const void* x, const uint32_t* qweight, const void* scales, const void* zeros,
              const void* bias, int M, int N, int K, int group, cudaStream_t s);
void awq_gemm(void* y, const void* x, const uint32_t* qweight, const void* scales, const void* zeros,
              const void* bias, float* workspace, int M, int N, int K, int group, cudaStream_t s);
// GEMV up to kGemvMaxRows rows, GEMM beyond.
void awq_linear(void* y, const void* x, const uint32_t* qweight, const void* scales, const void* zeros,
                const void* bias, float* workspace, int M, int N, int K, int group, cudaStream_t s);

// The fp16 weight [N, K] of a quantized linear (w = (q - z) * s, inputs in their natural order), for a cuBLAS
// GEMM at many rows: vLLM's AWQ path for large batches (awq_dequantize, then a plain matmul).
void awq_dequantize(void* w16, const uint32_t* qweight, const void* scales, const void* zeros, int N, int K, int group,
                    cudaStream_t s);
void int8_dequantize(void* w16, const int8_t* weight, const void* scales, int N, int K, int groups, cudaStream_t s);

// The row count from which a quantized linear dequantizes its weight into fp16 scratch and multiplies with cuBLAS
// instead of the GEMM above: the environment's BARISTA_QUANT_DEQUANT_ROWS, read once (0: never), else
// kDequantRowsDefault, where the H100 measured the dequantize + cuBLAS path ahead of the GEMM (docs/performance.md).
constexpr int kDequantRowsDefault = 128;
int dequant_min_rows();

void int8_gemv(void* y, const void* x, const int8_t* weight, const void* scales, const void* bias, int M, int N,
               int K, int groups, cudaStream_t s);
void int8_gemm(void* y, const void* x, const int8_t* weight, const void* scales, const void* bias, float* workspace,
               int M, int N, int K, int groups, cudaStream_t s);
void int8_linear(void* y, const void* x, const int8_t* weight, const void* scales, const void* bias,
                 float* workspace, int M, int N, int K, int groups, cudaStream_t s);

}  // namespace barista::quant
