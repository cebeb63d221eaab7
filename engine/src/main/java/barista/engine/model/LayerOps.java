package barista.engine.model;

import ai.djl.ndarray.NDArray;

/**
 * The elementwise and normalization steps of a decoder layer, beside {@link barista.engine.linear.LinearLayer}: {@link DjlLayerOps}
 * writes them as DJL ops (any device), {@code barista.engine.cuda.CudaLayerOps} as fused kernels that CUDA graphs
 * can record. Signatures follow vLLM's fused kernels ({@code fused_add_rms_norm}, {@code silu_and_mul}).
 */
public interface LayerOps {

  /** {@code table[ids]}: ids {@code [T]} int64 on the device. */
  NDArray embed(NDArray table, NDArray ids);

  /** RMSNorm of the last dimension, statistics in float32. */
  NDArray rmsNorm(NDArray x, NDArray weight, float eps);

  /** {@code sum = x + residual}, then {@code rmsNorm(sum)}: returns {normed, sum} (the new residual stream). */
  NDArray[] addRmsNorm(NDArray x, NDArray residual, NDArray weight, float eps);

  /** What one step's rotary embedding needs, built once per step from the positions ({@code [T]} int64). */
  Rotary rotary(NDArray positions, NDArray cosTable, NDArray sinTable);

  /**
   * Splits a fused {@code qkv [T, (H + 2 KV) D]} into q {@code [T, H, D]} and k {@code [T, KV, D]} with RoPE
   * applied (Hugging Face's rotate_half layout) and v {@code [T, KV, D]}.
   */
  NDArray[] ropeSplit(NDArray qkv, Rotary rotary, int heads, int kvHeads, int headDim);

  /** {@code silu(x[:, :I]) * x[:, I:]} for {@code x [T, 2I]}. */
  NDArray siluAndMul(NDArray gateUp);

  /**
   * One step's rotary inputs: the positions and either the step's gathered cos/sin ({@code [T, 1, D/2]}, the DJL
   * ops) or the whole tables ({@code [maxPos, D/2]}, the fused kernel gathers itself).
   */
  record Rotary(NDArray positions, NDArray cos, NDArray sin) {}
}
