package barista.engine.linear;

import ai.djl.ndarray.NDArray;

/** {@code y = x W^T + b} for a weight in whatever form it is stored on the device (16-bit, AWQ, INT8). */
public interface LinearLayer extends AutoCloseable {

  /** {@code x} is {@code [T, in]}; returns {@code [T, out]} in x's dtype. */
  NDArray apply(NDArray x);

  /** Whether {@link #apply} can be recorded in a CUDA graph: tensor-tensor ops only, no host scalars or copies. */
  default boolean captureSafe() {
    return true;
  }

  /** What serves this layer, for the startup log. */
  default String describe() {
    return getClass().getSimpleName();
  }

  /** Bytes this layer's weights occupy on the device. */
  long deviceBytes();

  @Override
  void close();
}
