package barista.engine.cuda;

import static barista.engine.cuda.CudaNative.handle;
import static barista.engine.cuda.CudaNative.wrap;

import ai.djl.ndarray.NDArray;
import barista.engine.quant.AwqDeviceWeight;
import barista.engine.quant.Int8DeviceWeight;

/**
 * libbarista_native's quantized linear kernels (native/src/quantization, JNI in native/src/quant_jni.cpp): AWQ 4-bit
 * and INT8 weight-only, a GEMV for up to {@link #gemvMaxRows()} rows and a tensor-core GEMM beyond, fp16
 * activations, fp32 accumulation. They allocate only from PyTorch's caching allocator and take no host scalars, so
 * a step made of them can be captured into a CUDA graph. The library is loaded by {@link CudaNative#load}.
 */
public final class QuantKernels {
  private QuantKernels() {}

  /** {@code x [T, in]} fp16 times an AWQ weight in the {@link AwqDeviceWeight.Layout#KERNEL} layout, plus bias. */
  public static NDArray awqLinear(NDArray x, AwqDeviceWeight w) {
    return wrap(x.getManager(), awqLinear(handle(x), handle(w.packed()), handle(w.scales()), handle(w.zeros()),
        w.bias() == null ? 0 : handle(w.bias()), w.group()));
  }

  /** {@code x [T, in]} fp16 times an INT8 weight in the {@link Int8DeviceWeight.Layout#KERNEL} layout, plus bias. */
  public static NDArray int8Linear(NDArray x, Int8DeviceWeight w) {
    return wrap(x.getManager(), int8Linear(handle(x), handle(w.weight()), handle(w.scales()),
        w.bias() == null ? 0 : handle(w.bias())));
  }

  static native long awqLinear(long x, long qweight, long scales, long zeros, long bias, int group);

  static native long int8Linear(long x, long weight, long scales, long bias);

  /** "gemv", "gemm" or "dequantize+cublas": the kernel serving a call of this many rows. */
  public static native String kernelFor(int rows);

  /** The most rows the GEMV kernels serve. */
  public static native int gemvMaxRows();

  /** From how many rows a call dequantizes its weight for cuBLAS (BARISTA_QUANT_DEQUANT_ROWS as read); 0: never. */
  public static native int dequantMinRows();
}
