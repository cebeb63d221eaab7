package barista.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;

/** {@link LayerOps} as plain DJL ops: the CPU path, and the CUDA path without the native library. */
public final class DjlLayerOps implements LayerOps {
  public static final DjlLayerOps INSTANCE = new DjlLayerOps();

  private DjlLayerOps() {}

  @Override
  public NDArray embed(NDArray table, NDArray ids) {
    return table.get(ids.getManager(), new NDIndex("{}", ids));
  }

  /** x / sqrt(mean(x^2) + eps) * w, with the statistics in float32 as Hugging Face computes them. */
  @Override
  public NDArray rmsNorm(NDArray x, NDArray weight, float eps) {
    DataType dtype = x.getDataType();
    NDArray x32 = x.toType(DataType.FLOAT32, false);
    NDArray inv = x32.square().mean(new int[] {-1}, true).add(eps).pow(-0.5);
    return x32.mul(inv).toType(dtype, false).mul(weight);
  }

  @Override
  public NDArray[] addRmsNorm(NDArray x, NDArray residual, NDArray weight, float eps) {
    NDArray sum = residual.add(x);
    return new NDArray[] {rmsNorm(sum, weight, eps), sum};
  }

  @Override
  public Rotary rotary(NDArray positions, NDArray cosTable, NDArray sinTable) {
    NDIndex at = new NDIndex("{}", positions);
    return new Rotary(positions, cosTable.get(positions.getManager(), at).expandDims(1),
        sinTable.get(positions.getManager(), at).expandDims(1)); // [T, 1, D/2]
  }

  @Override
  public NDArray[] ropeSplit(NDArray qkv, Rotary rotary, int heads, int kvHeads, int headDim) {
    long t = qkv.getShape().get(0);
    NDList parts = qkv.split(new long[] {(long) (heads + kvHeads) * headDim}, 1);
    // q and k heads rotate together: one RoPE over [T, heads + kvHeads, headDim].
    NDList qk = rope(parts.get(0).reshape(t, heads + kvHeads, headDim), rotary.cos(), rotary.sin())
        .split(new long[] {heads}, 1);
    return new NDArray[] {qk.get(0), qk.get(1), parts.get(1).reshape(t, kvHeads, headDim)};
  }

  /** Rotary embedding, Hugging Face's rotate_half layout: pairs (i, i + headDim/2). */
  private static NDArray rope(NDArray x, NDArray cos, NDArray sin) {
    NDList halves = x.split(2, 2); // x is [T, heads, headDim]
    NDArray x1 = halves.get(0);
    NDArray x2 = halves.get(1);
    return NDArrays.concat(new NDList(x1.mul(cos).sub(x2.mul(sin)), x2.mul(cos).add(x1.mul(sin))), 2);
  }

  @Override
  public NDArray siluAndMul(NDArray gateUp) {
    NDList halves = gateUp.split(2, 1);
    NDArray gate = halves.get(0);
    return gate.mul(gate.getNDArrayInternal().sigmoid()).mul(halves.get(1));
  }
}
