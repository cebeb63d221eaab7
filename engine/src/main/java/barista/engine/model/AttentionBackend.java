package barista.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * Attends over the paged KV cache (vLLM's attention backend seam): a backend reads the cache's layout, and its
 * {@link MetadataBuilder} turns each step's batch into what the backend's kernels read, built once per step and
 * read by every layer.
 *
 * <ul>
 *   <li>{@link DjlAttention}: gathers each context by slot and attends with matmul + softmax (the CPU path and the
 *       reference the kernels are checked against).
 *   <li>{@code barista.engine.cuda.PagedAttention}: tensor-core kernels that read the blocks in place from a
 *       host-built work list in persistent device buffers, so any step can be recorded as a CUDA graph.
 * </ul>
 */
public interface AttentionBackend extends AutoCloseable {

  /** Per-step metadata, built by the backend's own builder. */
  interface Metadata {}

  /**
   * Builds each step's metadata (vLLM's AttentionMetadataBuilder). It owns whatever device buffers the metadata
   * lives in; a CUDA graph records views of them once ({@link #views}) and each replay only needs {@link #stage}.
   */
  interface MetadataBuilder {
    /** Writes step {@code b}'s metadata, padded to {@code rows} rows (a graph's bucket; its own size when eager). */
    void stage(ForwardBatch b, int rows);

    /** The metadata of the first {@code rows} rows of whatever is staged; any new arrays live in {@code m}. */
    Metadata views(int rows, NDManager m);
  }

  MetadataBuilder metadataBuilder();

  /** Whether a step through this backend can be recorded as a CUDA graph (no host-side shapes, no host copies). */
  boolean captureSafe();

  /**
   * Stores this step's k/v ({@code [T, KV, D]}, RoPE applied) at their slots and attends: q {@code [T, H, D]};
   * returns {@code [T, H * D]}.
   */
  NDArray attend(int layer, NDArray q, NDArray k, NDArray v, Metadata metadata);

  /**
   * A layer's attention from its fused qkv projection {@code [T, (H + 2 KV) * D]}: RoPE and the split by
   * {@code ops}, then {@link #attend}. A backend may fuse the split with its cache write.
   */
  default NDArray attendQkv(int layer, NDArray qkv, LayerOps ops, LayerOps.Rotary rotary, ModelGeometry g,
      Metadata metadata) {
    NDArray[] split = ops.ropeSplit(qkv, rotary, g.numHeads(), g.numKvHeads(), g.headDim());
    return attend(layer, split[0], split[1], split[2], metadata);
  }

  /** Frees the backend's own buffers; the KV cache belongs to its owner. */
  @Override
  void close();
}
