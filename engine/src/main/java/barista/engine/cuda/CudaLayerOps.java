package barista.engine.cuda;

import static barista.engine.cuda.CudaNative.handle;
import static barista.engine.cuda.CudaNative.wrap;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import barista.engine.model.LayerOps;

/**
 * {@link LayerOps} as libbarista_native's fused kernels (native/src/*_kernels.cu): one launch each, no host scalars,
 * so a step made of them can be recorded as a CUDA graph. Rounding follows the DJL ops they replace.
 */
public final class CudaLayerOps implements LayerOps {
  public static final CudaLayerOps INSTANCE = new CudaLayerOps();

  private CudaLayerOps() {}

  @Override
  public NDArray embed(NDArray table, NDArray ids) {
    return wrap(ids.getManager(), CudaNative.embedding(handle(table), handle(ids)));
  }

  @Override
  public NDArray rmsNorm(NDArray x, NDArray weight, float eps) {
    return wrap(x.getManager(), CudaNative.rmsNorm(handle(x), handle(weight), eps));
  }

  @Override
  public NDArray[] addRmsNorm(NDArray x, NDArray residual, NDArray weight, float eps) {
    long[] out = CudaNative.addRmsNorm(handle(x), handle(residual), handle(weight), eps);
    NDManager m = x.getManager();
    return new NDArray[] {wrap(m, out[0]), wrap(m, out[1])};
  }

  @Override
  public Rotary rotary(NDArray positions, NDArray cosTable, NDArray sinTable) {
    return new Rotary(positions, cosTable, sinTable); // the kernel gathers by position itself
  }

  @Override
  public NDArray[] ropeSplit(NDArray qkv, Rotary rotary, int heads, int kvHeads, int headDim) {
    long[] out = CudaNative.ropeSplit(handle(qkv), handle(rotary.positions()), handle(rotary.cos()),
        handle(rotary.sin()), heads, kvHeads, headDim);
    NDManager m = qkv.getManager();
    return new NDArray[] {wrap(m, out[0]), wrap(m, out[1]), wrap(m, out[2])};
  }

  @Override
  public NDArray siluAndMul(NDArray gateUp) {
    return wrap(gateUp.getManager(), CudaNative.siluAndMul(handle(gateUp)));
  }
}
