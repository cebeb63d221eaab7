package barista.engine.linear;

import ai.djl.ndarray.NDArray;

/** A {@link LinearLayer} made of a weight in some format and the method that applies it. */
public final class MethodLinear<W extends LinearWeight> implements LinearLayer {
  private final W weight;
  private final LinearMethod<W> method;

  public MethodLinear(W weight, LinearMethod<W> method) {
    this.weight = weight;
    this.method = method;
  }

  public W weight() {
    return weight;
  }

  public LinearMethod<W> method() {
    return method;
  }

  @Override
  public NDArray apply(NDArray x) {
    return method.apply(weight, x);
  }

  @Override
  public boolean captureSafe() {
    return method.captureSafe();
  }

  @Override
  public String describe() {
    return method.describe();
  }

  @Override
  public long deviceBytes() {
    return weight.deviceBytes();
  }

  @Override
  public void close() {
    weight.close();
  }
}
