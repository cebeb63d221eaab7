package barista.engine.cuda;

import static barista.engine.cuda.CudaNative.handle;
import static barista.engine.cuda.CudaNative.wrap;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import barista.engine.model.AttentionBackend;
import barista.engine.model.ForwardBatch;
import barista.engine.model.LayerOps;
import barista.engine.model.ModelGeometry;
import barista.engine.model.PagedKvCache;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The CUDA attention backend: K/V written through the slot mapping, then libbarista_native's tensor-core paged
 * attention (native/src/attention/) over a work list the host builds each step ({@link AttentionWork}): prompt
 * chunks and decodes in one launch, long contexts split across blocks, the blocks read in place. fp32 models and
 * head sizes the tensor-core kernel lacks use the CUDA-core kernel, one block per (row, head). Nothing in a step
 * depends on a host-side shape, so every step can be recorded as a CUDA graph.
 */
public final class PagedAttention implements AttentionBackend {
  /** Set to 1: RoPE's split writes k and v into the cache itself (one kernel less a layer); opt-in until checked. */
  static final String FUSED_KV_WRITE_ENV = "BARISTA_FUSED_KV_WRITE";

  private final PagedKvCache cache;
  private final int numHeads;
  private final int numKvHeads;
  private final int headDim;
  private final boolean fusedKvWrite;
  private final float scale;
  private final boolean tensorCores;
  private final Builder builder;

  /**
   * @param maxTokens the most rows a step has; {@code maxSeqs} the most sequences
   */
  public PagedAttention(PagedKvCache cache, ModelGeometry g, DataType dtype, NDManager manager, int maxTokens,
      int maxSeqs, int maxModelLen, int deviceId) {
    this.cache = cache;
    this.numHeads = g.numHeads();
    this.numKvHeads = g.numKvHeads();
    this.headDim = g.headDim();
    this.fusedKvWrite = "1".equals(System.getenv(FUSED_KV_WRITE_ENV));
    this.scale = (float) (1.0 / Math.sqrt(headDim));
    this.tensorCores = supportsTensorCores(dtype, headDim);
    AttentionWork work = new AttentionWork(g.numHeads(), g.numKvHeads(),
        4 * CudaNative.multiProcessorCount(deviceId), maxSeqs);
    this.builder = new Builder(manager, work, maxTokens, maxSeqs, maxModelLen, cache.blockSize());
  }

  /** Whether the tensor-core kernel serves this model: fp16 with a head size it is built for. */
  public static boolean supportsTensorCores(DataType dtype, int headDim) {
    return dtype == DataType.FLOAT16 && (headDim == 16 || headDim == 32 || headDim == 64 || headDim == 128);
  }

  /** What the startup log says serves attention. */
  public String describe() {
    return (tensorCores
        ? "tensor-core paged attention (GQA-packed tiles, split-KV over " + builder.work.target() + " blocks)"
        : "CUDA-core paged attention (one block per row and head: fp32 or head_dim " + headDim + ")")
        + (fusedKvWrite ? "; k/v written by RoPE's split (" + FUSED_KV_WRITE_ENV + ")" : "");
  }

  /**
   * A step's metadata, all device tensors: slots {@code [T]} int64 (-1: a padding row, written nowhere), block
   * tables {@code [S, maxBlocks]} int32, and either the tensor-core work list with its launch bound or each row's
   * sequence and context length (the CUDA-core kernel).
   */
  record Paged(NDArray slots, NDArray blockTables, NDArray rowSeq, NDArray contextLens, NDArray work, int maxItems)
      implements Metadata {}

  @Override
  public MetadataBuilder metadataBuilder() {
    return builder;
  }

  @Override
  public boolean captureSafe() {
    return true;
  }

  @Override
  public NDArray attend(int layer, NDArray q, NDArray k, NDArray v, Metadata metadata) {
    Paged p = (Paged) metadata;
    long kc = handle(cache.keyTensor(layer));
    long vc = handle(cache.valueTensor(layer));
    CudaNative.writeKv(handle(k), handle(v), kc, vc, handle(p.slots()));
    return attendCached(q, kc, vc, p);
  }

  /** With BARISTA_FUSED_KV_WRITE=1 and the fused ops: RoPE, the split and the cache write in one kernel. */
  @Override
  public NDArray attendQkv(int layer, NDArray qkv, LayerOps ops, LayerOps.Rotary rotary, ModelGeometry g,
      Metadata metadata) {
    if (!fusedKvWrite || ops != CudaLayerOps.INSTANCE) {
      return AttentionBackend.super.attendQkv(layer, qkv, ops, rotary, g, metadata);
    }
    Paged p = (Paged) metadata;
    long kc = handle(cache.keyTensor(layer));
    long vc = handle(cache.valueTensor(layer));
    NDArray q = wrap(qkv.getManager(), CudaNative.ropeSplitCache(handle(qkv), handle(rotary.positions()),
        handle(rotary.cos()), handle(rotary.sin()), kc, vc, handle(p.slots()), numHeads, numKvHeads, headDim));
    return attendCached(q, kc, vc, p);
  }

  /** Attention over the caches, this step's k/v already in them. */
  private NDArray attendCached(NDArray q, long kc, long vc, Paged p) {
    long out = tensorCores
        ? CudaNative.pagedAttentionTc(handle(q), kc, vc, handle(p.blockTables()), handle(p.work()),
            handle(builder.scratch), handle(builder.counters), p.maxItems(), cache.blockSize(), scale)
        : CudaNative.pagedAttention(handle(q), kc, vc, handle(p.blockTables()), handle(p.rowSeq()),
            handle(p.contextLens()), cache.blockSize(), scale);
    return wrap(q.getManager(), out).reshape(q.getShape().get(0), (long) numHeads * headDim);
  }

  @Override
  public void close() {
    builder.close();
  }

  /**
   * Stages each step's attention metadata in persistent device buffers from one pinned host buffer: slots, block
   * tables (a host mirror remembers what each row holds, so only changed rows are copied), and the work list (or the
   * CUDA-core kernel's per-row inputs). Padding rows get slot -1 and belong to no work item.
   */
  final class Builder implements MetadataBuilder, AutoCloseable {
    private final AttentionWork work;
    private final int maxTokens;
    private final int maxSeqs;
    private final int maxBlocksPerSeq;
    private final ByteBuffer staging;
    private final long offContext;
    private final long offRowSeq;
    private final long offTables;
    private final long offWork;
    private final int[] items;
    private final int[] mirror; // what the device block table holds, row-major [maxSeqs, maxBlocksPerSeq]
    private final NDArray slots; // [maxTokens] int64
    private final NDArray contextLens; // [maxTokens] int32, per row (CUDA-core kernel)
    private final NDArray rowSeq; // [maxTokens] int32, each row's sequence (CUDA-core kernel)
    private final NDArray blockTables; // [maxSeqs, maxBlocksPerSeq] int32
    private final NDArray workList; // [HEADER + capacity * ITEM_INTS] int32
    private final NDArray scratch; // chunk partials, float32
    private final NDArray counters; // per split, int32, zero between launches
    private boolean closed;

    Builder(NDManager manager, AttentionWork work, int maxTokens, int maxSeqs, int maxModelLen, int blockSize) {
      this.work = work;
      this.maxTokens = maxTokens;
      this.maxSeqs = maxSeqs;
      this.maxBlocksPerSeq = (maxModelLen + blockSize - 1) / blockSize;
      int workInts = AttentionWork.HEADER + work.capacity(maxTokens) * AttentionWork.ITEM_INTS;
      offContext = 8L * maxTokens;
      offRowSeq = offContext + 4L * maxTokens;
      offTables = offRowSeq + 4L * maxTokens;
      offWork = offTables + 4L * maxSeqs * maxBlocksPerSeq;
      staging = CudaNative.allocPinned(offWork + 4L * workInts).order(ByteOrder.nativeOrder());
      items = new int[workInts];
      mirror = new int[maxSeqs * maxBlocksPerSeq];
      slots = manager.zeros(new Shape(maxTokens), DataType.INT64);
      contextLens = manager.zeros(new Shape(maxTokens), DataType.INT32);
      rowSeq = manager.zeros(new Shape(maxTokens), DataType.INT32);
      blockTables = manager.zeros(new Shape(maxSeqs, maxBlocksPerSeq), DataType.INT32);
      workList = manager.zeros(new Shape(workInts), DataType.INT32);
      int slotsNeeded = tensorCores ? work.maxScratchSlots() : 1;
      scratch = manager.zeros(new Shape((long) slotsNeeded * AttentionWork.TILE_ROWS * (headDim + 2)),
          DataType.FLOAT32);
      counters = manager.zeros(new Shape(slotsNeeded), DataType.INT32);
    }

    @Override
    public void stage(ForwardBatch b, int rows) {
      int t = b.numTokens();
      int n = b.numSequences();
      if (rows < t || rows > maxTokens || n > maxSeqs) {
        throw new IllegalArgumentException(t + " tokens / " + n + " sequences in " + rows + " rows");
      }
      for (int s = 0; s < n; s++) {
        for (int r = b.queryStart()[s]; r < b.queryStart()[s] + b.queryLen()[s]; r++) {
          staging.putLong(8 * r, b.slotMapping()[r]);
          if (!tensorCores) { // the CUDA-core kernel's per-row inputs; the work list carries them otherwise
            staging.putInt((int) (offContext + 4L * r), b.positions()[r] + 1);
            staging.putInt((int) (offRowSeq + 4L * r), s);
          }
        }
      }
      for (int r = t; r < rows; r++) {
        staging.putLong(8 * r, -1);
        if (!tensorCores) {
          staging.putInt((int) (offContext + 4L * r), 0);
          staging.putInt((int) (offRowSeq + 4L * r), 0);
        }
      }
      CudaNative.copyFromHost(slots, staging, 0, 8L * rows);
      if (tensorCores) {
        int ints = work.build(b, items);
        staging.position((int) offWork);
        staging.asIntBuffer().put(items, 0, ints);
        staging.position(0);
        CudaNative.copyFromHost(workList, staging, offWork, 4L * ints);
      } else {
        CudaNative.copyFromHost(contextLens, staging, offContext, 4L * rows);
        CudaNative.copyFromHost(rowSeq, staging, offRowSeq, 4L * rows);
      }
      uploadTables(b.blockTables(), n);
    }

    @Override
    public Metadata views(int rows, NDManager m) {
      return new Paged(CudaNative.narrow(slots, 0, rows, m), blockTables, CudaNative.narrow(rowSeq, 0, rows, m),
          CudaNative.narrow(contextLens, 0, rows, m), workList, work.capacity(rows));
    }

    /** Copies the rows whose block ids changed (one contiguous range) to the device table. */
    private void uploadTables(int[][] tables, int n) {
      int first = -1, last = -1;
      for (int r = 0; r < n; r++) {
        int[] table = tables[r];
        if (table.length > maxBlocksPerSeq) {
          throw new IllegalArgumentException("block table of " + table.length + " blocks exceeds " + maxBlocksPerSeq);
        }
        int base = r * maxBlocksPerSeq;
        boolean changed = false;
        for (int j = 0; j < table.length; j++) {
          if (mirror[base + j] != table[j]) {
            mirror[base + j] = table[j];
            changed = true;
          }
        }
        if (changed) {
          if (first < 0) first = r;
          last = r;
        }
      }
      if (first < 0) return;
      long rowBytes = 4L * maxBlocksPerSeq;
      for (int i = first * maxBlocksPerSeq; i < (last + 1) * maxBlocksPerSeq; i++) {
        staging.putInt((int) (offTables + 4L * i), mirror[i]);
      }
      try (NDManager tmp = blockTables.getManager().newSubManager()) {
        NDArray rowsView = CudaNative.narrow(blockTables, first, last - first + 1, tmp);
        CudaNative.copyFromHost(CudaNative.handle(rowsView), staging, offTables + first * rowBytes,
            (last - first + 1) * rowBytes);
      }
    }


    /** The bytes each step moves are rewritten only after the previous step's copies are done (see ModelRunner). */
    @Override
    public void close() {
      if (closed) return;
      closed = true;
      Arrays.asList(slots, contextLens, rowSeq, blockTables, workList, scratch, counters).forEach(NDArray::close);
      CudaNative.freePinned(staging);
    }
  }
}
