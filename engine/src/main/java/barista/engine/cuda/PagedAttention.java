package barista.engine.cuda;

import static barista.engine.cuda.CudaNative.handle;
import static barista.engine.cuda.CudaNative.wrap;

import ai.djl.ndarray.NDArray;
import barista.engine.model.AttentionBackend;
import barista.engine.model.DjlAttention;
import barista.engine.model.PagedKvCache;

/**
 * The CUDA attention backend: decode steps write K/V with a kernel and attend with libbarista_native's paged
 * decode kernel, which reads each context in place through the device block table, its length from a device
 * tensor: capture-safe. Steps with prompt chunks go to the DJL plan (they always run eagerly).
 */
public final class PagedAttention implements AttentionBackend {
  private final DjlAttention djl;
  private final int numHeads;
  private final int headDim;
  private final float scale;

  public PagedAttention(DjlAttention djl, int numHeads, int headDim) {
    this.djl = djl;
    this.numHeads = numHeads;
    this.headDim = headDim;
    this.scale = (float) (1.0 / Math.sqrt(headDim));
  }

  /**
   * A decode step's metadata, all device tensors: slots {@code [S]} int64 (-1: a padding row, written nowhere),
   * block tables {@code [S, maxBlocks]} int32, context lengths {@code [S]} int32 (0: padding).
   */
  record Decode(NDArray slots, NDArray blockTables, NDArray contextLens) implements Metadata {}

  @Override
  public PagedKvCache cache() {
    return djl.cache();
  }

  @Override
  public NDArray attend(int layer, NDArray q, NDArray k, NDArray v, Metadata metadata) {
    if (!(metadata instanceof Decode d)) return djl.attend(layer, q, k, v, metadata);
    PagedKvCache cache = djl.cache();
    long kc = handle(cache.keyTensor(layer));
    long vc = handle(cache.valueTensor(layer));
    CudaNative.writeKv(handle(k), handle(v), kc, vc, handle(d.slots()));
    NDArray out = wrap(q.getManager(), CudaNative.pagedDecodeAttention(handle(q), kc, vc, handle(d.blockTables()),
        handle(d.contextLens()), cache.blockSize(), scale));
    return out.reshape(q.getShape().get(0), (long) numHeads * headDim);
  }

  @Override
  public void close() {
    djl.close();
  }
}
