package barista.engine.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;

/**
 * How a step's constraint masks reach its logits: every token a constrained row's mask leaves out becomes -inf.
 * {@link Sampler#maskWithDjlOps} works on any device; the CUDA path stages the bits in pinned memory and masks in
 * one kernel.
 */
public interface LogitMasker {
  /**
   * The logits {@code x [rows, vocab]} float32 with each masked row's other tokens at -inf; rows without a mask, or
   * with a forced token, keep everything. May change and return {@code x} itself.
   */
  NDArray apply(NDArray x, List<SamplingRow> rows, int vocab, NDManager m);
}
