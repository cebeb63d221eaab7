package barista.engine.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.core.Linear;
import barista.engine.linear.LinearMethod;

/**
 * The DJL reference for INT8 ({@link Int8DeviceWeight.Layout#DJL}): there is no int8 matmul to call, so each call
 * converts the weight to the compute dtype and scales it in a scope freed before returning.
 */
public final class DjlInt8Method implements LinearMethod<Int8DeviceWeight> {
  public static final DjlInt8Method INSTANCE = new DjlInt8Method();

  private DjlInt8Method() {}

  @Override
  public NDArray apply(Int8DeviceWeight w, NDArray x) {
    if (w.layout() != Int8DeviceWeight.Layout.DJL) {
      throw new IllegalStateException("the DJL INT8 method reads [out, groups, 1] scales, not the " + w.layout()
          + " layout");
    }
    int out = w.out(), in = w.in(), groups = w.groups();
    try (NDManager scope = x.getManager().newSubManager()) {
      NDArray weight = w.weight().toType(x.getDataType(), false);
      weight.attach(scope);
      weight = weight.reshape(out, groups, in / groups).mul(w.scales()).reshape(out, in);
      NDArray y = (w.bias() == null ? Linear.linear(x, weight) : Linear.linear(x, weight, w.bias())).singletonOrThrow();
      y.attach(x.getManager());
      return y;
    }
  }

  @Override
  public boolean captureSafe() {
    return true;
  }

  @Override
  public String describe() {
    return "INT8, DJL reference (convert and scale the weight with stock ops each call, then linear)";
  }
}
