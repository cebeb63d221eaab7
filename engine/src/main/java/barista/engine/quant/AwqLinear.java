package barista.engine.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import barista.engine.model.LinearLayer;

/**
 * A 4-bit AWQ weight kept at half a byte per value: {@code packed [in / 2, out]} uint8 (row {@code r} in the low
 * nibble, row {@code r + in / 2} in the high one, see {@link AwqPacking#toNibblePairs}), zero points and scales
 * {@code [in / group, out]} in the compute dtype. Each call dequantizes the weight in a scope that is freed before
 * returning, so only one layer's 16-bit weight exists at a time.
 */
public final class AwqLinear implements LinearLayer {
  private final NDArray packed;
  private final NDArray zeros;
  private final NDArray scales;
  private final NDArray bias;
  private final int in;
  private final int out;
  private final int group;

  /** @param bias {@code [out]} or null */
  public AwqLinear(NDArray packed, NDArray zeros, NDArray scales, NDArray bias, int group) {
    this.packed = packed;
    this.zeros = QuantizedLinears.ownedView(zeros, 1); // [groups, 1, out]: broadcasts over the rows of a group
    this.scales = QuantizedLinears.ownedView(scales, 1);
    this.bias = bias;
    this.in = Math.toIntExact(packed.getShape().get(0) * 2);
    this.out = Math.toIntExact(packed.getShape().get(1));
    this.group = group;
  }

  @Override
  public NDArray apply(NDArray x) {
    NDArray y;
    try (NDManager scope = x.getManager().newSubManager()) {
      // DJL has no shifts or bitwise ands: split the nibbles with exact float arithmetic (0..255 fit any float).
      NDArray bytes = packed.toType(x.getDataType(), false);
      bytes.attach(scope);
      NDArray high = bytes.div(16).floor();
      NDArray low = bytes.sub(high.mul(16));
      NDArray w = low.concat(high, 0).reshape(in / group, group, out).sub(zeros).mul(scales).reshape(in, out);
      y = x.matMul(w);
    }
    return bias == null ? y : y.addi(bias);
  }

  /** The nibble split divides by a host scalar, which a CUDA graph cannot record. */
  @Override
  public boolean captureSafe() {
    return false;
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
