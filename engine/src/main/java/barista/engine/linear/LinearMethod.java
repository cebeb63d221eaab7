package barista.engine.linear;

import ai.djl.ndarray.NDArray;

/**
 * How a linear layer whose weight is in the format {@code W} is applied (vLLM's {@code LinearMethod}): the DJL
 * reference (dequantize with stock ops, then a matmul: the CPU path and the checks) or native kernels on CUDA. The
 * forward path chooses it, and with it the device layout the weight is repacked into when it is loaded.
 */
public interface LinearMethod<W extends LinearWeight> {

  /** {@code y = x W^T + b}: {@code x} is {@code [T, in]}, the result {@code [T, out]} in x's dtype. */
  NDArray apply(W weight, NDArray x);

  /** Whether {@link #apply} can be recorded in a CUDA graph: no host scalars or copies. */
  boolean captureSafe();

  /** What serves the layer, for the startup log (e.g. which kernels at which row counts). */
  String describe();
}
