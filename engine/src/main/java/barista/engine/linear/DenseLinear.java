package barista.engine.linear;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.core.Linear;

/** A 16/32-bit weight kept as Hugging Face stores it, {@code [out, in]}, applied with one fused linear call. */
public final class DenseLinear implements LinearLayer {
  private final NDArray weight;
  private final NDArray bias;

  /** @param bias null when the layer has none */
  public DenseLinear(NDArray weight, NDArray bias) {
    this.weight = weight;
    this.bias = bias;
  }

  /** The weight {@code [out, in]}, as loaded. */
  public NDArray weight() {
    return weight;
  }

  /** The bias {@code [out]}, or null. */
  public NDArray bias() {
    return bias;
  }

  @Override
  public NDArray apply(NDArray x) {
    return (bias == null ? Linear.linear(x, weight) : Linear.linear(x, weight, bias)).singletonOrThrow();
  }

  @Override
  public String describe() {
    return "dense " + weight.getDataType() + " weight, DJL linear (cuBLAS on CUDA)";
  }

  @Override
  public long deviceBytes() {
    return bytes(weight) + (bias == null ? 0 : bytes(bias));
  }

  public static long bytes(NDArray a) {
    return a.size() * a.getDataType().getNumOfBytes();
  }

  @Override
  public void close() {
    weight.close();
    if (bias != null) bias.close();
  }
}
