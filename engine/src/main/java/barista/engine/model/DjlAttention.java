package barista.engine.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;

/** The DJL attention backend: {@link PagedKvCache} written by slot, read through an {@link AttentionPlan}. */
public final class DjlAttention implements AttentionBackend {
  private final PagedKvCache cache;
  private final ModelGeometry geometry;
  private final DataType dtype;
  private final MetadataBuilder builder = new MetadataBuilder() {
    private ForwardBatch staged;

    @Override
    public void stage(ForwardBatch b, int rows) {
      staged = b; // the plan holds per-step shapes: there are no padding rows on this path
    }

    @Override
    public Metadata views(int rows, NDManager m) {
      return plan(staged, m);
    }
  };

  public DjlAttention(PagedKvCache cache, ModelGeometry geometry, DataType dtype) {
    this.cache = cache;
    this.geometry = geometry;
    this.dtype = dtype;
  }

  record Plan(AttentionPlan plan, NDArray slots) implements Metadata {}

  /** The step's plan; its arrays live in {@code m}. */
  public Metadata plan(ForwardBatch batch, NDManager m) {
    return new Plan(AttentionPlan.build(batch, cache, m, geometry, dtype), m.create(batch.slotMapping()));
  }

  @Override
  public MetadataBuilder metadataBuilder() {
    return builder;
  }

  @Override
  public boolean captureSafe() {
    return false;
  }

  @Override
  public NDArray attend(int layer, NDArray q, NDArray k, NDArray v, Metadata metadata) {
    Plan p = (Plan) metadata;
    cache.write(layer, p.slots(), k, v);
    return p.plan().attend(layer, q, cache);
  }

  @Override
  public void close() {}
}
