package barista.engine.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.core.Linear;
import barista.engine.model.LinearLayer;

/**
 * A symmetric int8 weight kept at one byte per value: {@code weight [out, in]} int8 and {@code scales
 * [out, groups]} in the compute dtype. There is no int8 matmul to call, so each call converts the weight to the
 * compute dtype and scales it in a scope freed before returning (one layer's 16-bit weight at a time).
 */
public final class Int8Linear implements LinearLayer {
  private final NDArray weight;
  private final NDArray scales;
  private final NDArray bias;
  private final int out;
  private final int in;
  private final int groups;

  /** @param bias {@code [out]} or null */
  public Int8Linear(NDArray weight, NDArray scales, NDArray bias) {
    this.out = Math.toIntExact(weight.getShape().get(0));
    this.in = Math.toIntExact(weight.getShape().get(1));
    this.groups = Math.toIntExact(scales.getShape().get(1));
    this.weight = weight;
    this.scales = QuantizedLinears.ownedView(scales, 2); // [out, groups, 1]: broadcasts over the inputs of a group
    this.bias = bias;
  }

  @Override
  public NDArray apply(NDArray x) {
    try (NDManager scope = x.getManager().newSubManager()) {
      NDArray w = weight.toType(x.getDataType(), false);
      w.attach(scope);
      w = w.reshape(out, groups, in / groups).mul(scales).reshape(out, in);
      NDArray y = (bias == null ? Linear.linear(x, w) : Linear.linear(x, w, bias)).singletonOrThrow();
      y.attach(x.getManager());
      return y;
    }
  }

  @Override
  public long deviceBytes() {
    return bytes(out, in, groups, scales.getDataType()) + (bias == null ? 0 : bias.size() * bias.getDataType().getNumOfBytes());
  }

  /** Bytes of an {@code [out, in]} int8 weight with {@code groups} scales per output channel, without bias. */
  public static long bytes(long out, long in, int groups, DataType dtype) {
    return out * in + out * groups * dtype.getNumOfBytes();
  }

  @Override
  public void close() {
    weight.close();
    scales.close();
    if (bias != null) bias.close();
  }
}
