package barista.engine.cuda;

import static barista.engine.cuda.CudaNative.handle;
import static barista.engine.cuda.CudaNative.wrap;

import ai.djl.ndarray.NDArray;
import barista.engine.model.AttentionBackend;
import barista.engine.model.PagedKvCache;

/**
 * The CUDA attention backend: K/V written by a kernel through the slot mapping, and libbarista_native's paged
 * attention kernel, which reads each context in place through the device block table with each row's context
 * length from a device tensor (a prompt row's is its own position + 1: causal). Nothing depends on a shape, so a
 * decode step can be recorded as a CUDA graph; prompt chunks and decodes share one launch.
 */
public final class PagedAttention implements AttentionBackend {
  private final PagedKvCache cache;
  private final int numHeads;
  private final int headDim;
  private final float scale;

  public PagedAttention(PagedKvCache cache, int numHeads, int headDim) {
    this.cache = cache;
    this.numHeads = numHeads;
    this.headDim = headDim;
    this.scale = (float) (1.0 / Math.sqrt(headDim));
  }

  /**
   * A step's metadata, all device tensors: slots {@code [T]} int64 (-1: a padding row, written nowhere), block
   * tables {@code [S, maxBlocks]} int32, each row's sequence {@code [T]} int32 (null: row r is sequence r, a pure
   * decode step), each row's context length {@code [T]} int32 (0: padding, attends to nothing).
   */
  record Paged(NDArray slots, NDArray blockTables, NDArray rowSeq, NDArray contextLens) implements Metadata {}

  @Override
  public PagedKvCache cache() {
    return cache;
  }

  @Override
  public NDArray attend(int layer, NDArray q, NDArray k, NDArray v, Metadata metadata) {
    Paged p = (Paged) metadata;
    long kc = handle(cache.keyTensor(layer));
    long vc = handle(cache.valueTensor(layer));
    CudaNative.writeKv(handle(k), handle(v), kc, vc, handle(p.slots()));
    NDArray out = wrap(q.getManager(), CudaNative.pagedAttention(handle(q), kc, vc, handle(p.blockTables()),
        p.rowSeq() == null ? 0 : handle(p.rowSeq()), handle(p.contextLens()), cache.blockSize(), scale));
    return out.reshape(q.getShape().get(0), (long) numHeads * headDim);
  }

  @Override
  public void close() {
    cache.close();
  }
}
