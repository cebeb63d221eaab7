package barista.engine.model;

import ai.djl.ndarray.NDArray;

/**
 * Owns the KV cache's device layout and attends over it (vLLM's attention backend seam). Each step's metadata
 * (where new K/V go, where each sequence's context lives) is built once and read by every layer.
 *
 * <ul>
 *   <li>{@link DjlAttention}: gathers each context by slot and attends with matmul + softmax (CPU, and CUDA without
 *       the native library).
 *   <li>{@code barista.engine.cuda.PagedAttention}: a kernel that reads the blocks in place, with context lengths
 *       from a device tensor, so a decode step can be recorded as a CUDA graph.
 * </ul>
 */
public interface AttentionBackend extends AutoCloseable {

  /** Per-step metadata, built by the backend that reads it. */
  interface Metadata {}

  PagedKvCache cache();

  /**
   * Stores this step's k/v ({@code [T, KV, D]}, RoPE applied) at their slots and attends: q {@code [T, H, D]};
   * returns {@code [T, H * D]}.
   */
  NDArray attend(int layer, NDArray q, NDArray k, NDArray v, Metadata metadata);

  @Override
  void close();
}
