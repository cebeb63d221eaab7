package barista.engine.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import barista.engine.linear.LinearMethod;

/**
 * The DJL reference for AWQ ({@link AwqDeviceWeight.Layout#NIBBLE_PAIRS}): each call dequantizes the weight with
 * stock ops in a scope freed before returning (one layer's 16-bit weight exists at a time), then multiplies.
 */
public final class DjlAwqMethod implements LinearMethod<AwqDeviceWeight> {
  public static final DjlAwqMethod INSTANCE = new DjlAwqMethod();

  private DjlAwqMethod() {}

  @Override
  public NDArray apply(AwqDeviceWeight w, NDArray x) {
    if (w.layout() != AwqDeviceWeight.Layout.NIBBLE_PAIRS) {
      throw new IllegalStateException("the DJL AWQ method reads nibble pairs, not the " + w.layout() + " layout");
    }
    int in = w.in(), out = w.out(), group = w.group();
    NDArray y;
    try (NDManager scope = x.getManager().newSubManager()) {
      // DJL has no shifts or bitwise ands: split the nibbles with exact float arithmetic (0..255 fit any float).
      NDArray bytes = w.packed().toType(x.getDataType(), false);
      bytes.attach(scope);
      NDArray high = bytes.div(16).floor();
      NDArray low = bytes.sub(high.mul(16));
      NDArray weight = low.concat(high, 0).reshape(in / group, group, out).sub(w.zeros()).mul(w.scales())
          .reshape(in, out);
      y = x.matMul(weight);
    }
    return w.bias() == null ? y : y.addi(w.bias());
  }

  /** The nibble split divides by a host scalar, which a CUDA graph cannot record. */
  @Override
  public boolean captureSafe() {
    return false;
  }

  @Override
  public String describe() {
    return "AWQ, DJL reference (dequantize with stock ops, then matmul; not capturable)";
  }
}
