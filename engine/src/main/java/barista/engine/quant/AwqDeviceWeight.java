package barista.engine.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import barista.engine.linear.LinearWeight;

/**
 * A 4-bit AWQ weight {@code [in, out]} on the device, in the layout its {@link barista.engine.linear.LinearMethod}
 * reads:
 * <ul>
 *   <li>{@link Layout#NIBBLE_PAIRS} (the DJL reference): {@code packed [in / 2, out]} uint8, row {@code r} in the low
 *       nibble and row {@code r + in / 2} in the high one ({@link AwqPacking#toNibblePairs}); zero points and scales
 *       {@code [in / group, 1, out]} in the compute dtype, broadcasting over the rows of a group.</li>
 *   <li>{@link Layout#KERNEL} (libbarista_native's kernels): {@code packed [out, in / 8]} int32
 *       ({@link AwqPacking#toKernelLayout}); zero points and scales {@code [out, in / group]} fp16.</li>
 * </ul>
 * Either way {@code W[i][o] = (q[i][o] - z[i/group][o]) * s[i/group][o]}; the bias is {@code [out]} or null.
 */
public final class AwqDeviceWeight implements LinearWeight {
  public enum Layout { NIBBLE_PAIRS, KERNEL }

  private final Layout layout;
  private final NDArray packed;
  private final NDArray zeros;
  private final NDArray scales;
  private final NDArray bias;
  private final int in;
  private final int out;
  private final int group;

  public AwqDeviceWeight(Layout layout, NDArray packed, NDArray zeros, NDArray scales, NDArray bias, int in, int out,
      int group) {
    this.layout = layout;
    this.packed = packed;
    this.zeros = zeros;
    this.scales = scales;
    this.bias = bias;
    this.in = in;
    this.out = out;
    this.group = group;
  }

  /** The DJL reference layout from {@code packed [in / 2, out]} nibble pairs and {@code [in / group, out]} arrays. */
  public static AwqDeviceWeight nibblePairs(NDArray packed, NDArray zeros, NDArray scales, NDArray bias, int group) {
    int in = Math.toIntExact(packed.getShape().get(0) * 2);
    int out = Math.toIntExact(packed.getShape().get(1));
    return new AwqDeviceWeight(Layout.NIBBLE_PAIRS, packed, QuantizedLinears.ownedView(zeros, 1),
        QuantizedLinears.ownedView(scales, 1), bias, in, out, group);
  }

  public Layout layout() {
    return layout;
  }

  public NDArray packed() {
    return packed;
  }

  public NDArray zeros() {
    return zeros;
  }

  public NDArray scales() {
    return scales;
  }

  /** {@code [out]} or null. */
  public NDArray bias() {
    return bias;
  }

  public int in() {
    return in;
  }

  public int out() {
    return out;
  }

  public int group() {
    return group;
  }

  @Override
  public long deviceBytes() {
    return bytes(in, out, group, zeros.getDataType()) + (bias == null ? 0 : bias.size() * bias.getDataType().getNumOfBytes());
  }

  /** Bytes of an {@code [in, out]} AWQ weight on the device (without bias): nibbles, zero points and scales. */
  public static long bytes(long in, long out, int group, DataType dtype) {
    return in * out / 2 + 2 * (in / group) * out * dtype.getNumOfBytes();
  }

  @Override
  public void close() {
    packed.close();
    zeros.close();
    scales.close();
    if (bias != null) bias.close();
  }
}
