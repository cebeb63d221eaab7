package barista.engine.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import barista.engine.linear.LinearWeight;

/**
 * A symmetric int8 weight on the device: {@code weight [out, in]} int8, as checkpoints store it, with scales in the
 * compute dtype, {@code [out, groups, 1]} for the DJL reference (broadcasting over the inputs of a group) or
 * {@code [out, groups]} fp16 for libbarista_native's kernels. {@code W[o][i] = q[o][i] * s[o][i / (in / groups)]};
 * the bias is {@code [out]} or null.
 */
public final class Int8DeviceWeight implements LinearWeight {
  public enum Layout { DJL, KERNEL }

  private final Layout layout;
  private final NDArray weight;
  private final NDArray scales;
  private final NDArray bias;
  private final int out;
  private final int in;
  private final int groups;

  /** @param scales {@code [out, groups]}; kept as it is for the kernels, as an owned {@code [out, groups, 1]} else */
  public Int8DeviceWeight(Layout layout, NDArray weight, NDArray scales, NDArray bias) {
    this.layout = layout;
    this.out = Math.toIntExact(weight.getShape().get(0));
    this.in = Math.toIntExact(weight.getShape().get(1));
    this.groups = Math.toIntExact(scales.getShape().get(1));
    this.weight = weight;
    this.scales = layout == Layout.DJL ? QuantizedLinears.ownedView(scales, 2) : scales;
    this.bias = bias;
  }

  public Layout layout() {
    return layout;
  }

  public NDArray weight() {
    return weight;
  }

  public NDArray scales() {
    return scales;
  }

  /** {@code [out]} or null. */
  public NDArray bias() {
    return bias;
  }

  public int out() {
    return out;
  }

  public int in() {
    return in;
  }

  public int groups() {
    return groups;
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
