package barista.engine.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * Draws every row's token of a step in one device launch (CUDA's sampling kernel), as {@link HostSampling} draws on
 * the CPU: greedy rows their argmax, the others by temperature, min-p, top-k and top-p with their uniform draw.
 */
@FunctionalInterface
public interface RowDraw {
  /**
   * @param logits float32 {@code [n, vocab]}, after bias, penalties and masks
   * @param params the rows' staged parameters ({@link Sampler#stage}), float32 {@code [n, 7]}
   * @return int64 {@code [n]} on the logits' device: each row's token, or -1 where the row is left to the sampler's
   *     own path
   */
  NDArray draw(NDArray logits, NDArray params, NDManager m);
}
