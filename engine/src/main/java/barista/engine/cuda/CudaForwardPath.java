package barista.engine.cuda;

import static barista.engine.cuda.CudaNative.handle;
import static barista.engine.cuda.CudaNative.wrap;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import barista.engine.model.ForwardBatch;
import barista.engine.model.PagedKvCache;
import barista.engine.model.Qwen2Model;
import barista.engine.model.StepInputs;
import barista.engine.sampling.LogitMasker;
import barista.engine.sampling.RowDraw;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CUDA forward path with libbarista_native: fused layer ops, the paged attention backend (prompt chunks and
 * decodes in one launch), the persistent input batch, steps replayed as CUDA graphs of their token count (larger steps run
 * the same kernels eagerly), and constraint masks applied by one kernel. All device work of the engine runs on
 * one stream of ours, made current on each thread that calls in.
 */
public final class CudaForwardPath implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CudaForwardPath.class);

  private final Qwen2Model model;
  private final PagedAttention attention;
  private final InputBatch inputs;
  private final CudaGraphs graphs; // null: eager only
  private final long stream;
  private volatile Thread streamThread;
  private final CudaTokenMasks tokenMasks;

  /** The engine's stream, made current on the calling (loading) thread before any weight is loaded. */
  public static long startStream(int deviceId) {
    long s = CudaNative.newStream(deviceId);
    CudaNative.setCurrentStream(s);
    return s;
  }

  /**
   * Switches the model to the fused ops, and its fp16 linears to the GEMV for steps of up to
   * {@code BARISTA_DENSE_GEMV_ROWS} rows (1 unless set); call before profiling so the profile measures what will run.
   */
  public static void useFusedOps(Qwen2Model model) {
    model.useOps(CudaLayerOps.INSTANCE);
    int gemvRows = GemvDenseLinear.rowsFromEnvironment();
    if (gemvRows > 0) {
      model.replaceLinears(l -> GemvDenseLinear.wrapIfUseful(l, gemvRows));
      log.info("fp16 linears of steps up to {} rows: libbarista_native GEMV ({}); cuBLAS beyond", gemvRows,
          GemvDenseLinear.ROWS_ENV);
    }
  }

  private CudaForwardPath(Qwen2Model model, PagedAttention attention, InputBatch inputs, CudaGraphs graphs,
      long stream) {
    this.model = model;
    this.attention = attention;
    this.inputs = inputs;
    this.graphs = graphs;
    this.stream = stream;
    this.streamThread = Thread.currentThread();
    this.tokenMasks = new CudaTokenMasks(inputs.manager(), inputs.maxSeqs());
  }

  /**
   * Builds the path over the KV cache and, unless {@code graphSizes} is null, captures the decode graphs.
   *
   * @param graphSizes the buckets to capture (see {@link CudaGraphs#bucketSizes}); null: eager only
   */
  public static CudaForwardPath start(Qwen2Model model, PagedKvCache cache, NDManager manager, long stream,
      int deviceId, int maxTokens, int maxSeqs, int maxModelLen, int[] graphSizes) {
    int seqs = Math.max(maxSeqs, graphSizes == null ? 0 : graphSizes[graphSizes.length - 1]);
    PagedAttention attention = new PagedAttention(cache, model.geometry(), model.dtype(), manager, maxTokens, seqs,
        maxModelLen, deviceId);
    log.info("Attention: {}", attention.describe());
    InputBatch inputs = new InputBatch(manager, maxTokens, seqs, attention.metadataBuilder());
    CudaGraphs graphs = null;
    try {
      if (graphSizes != null && graphSizes.length > 0) {
        graphs = CudaGraphs.capture(model, attention, inputs, graphSizes, manager, stream, deviceId);
        log.info("Captured {} CUDA graphs for steps of 1..{} tokens in {} ms; graph memory pool {} MiB",
            graphs.count(), graphs.largest(), graphs.captureMillis(), graphs.poolBytes() >> 20);
      }
      return new CudaForwardPath(model, attention, inputs, graphs, stream);
    } catch (RuntimeException e) {
      inputs.close();
      attention.close();
      throw e;
    }
  }

  /**
   * Bytes to keep free for the graph pool when sizing the KV cache: the largest bucket's step, and the logits of
   * as many rows as sample in one step, generously.
   */
  public static long graphReserveBytes(Qwen2Model model, int largestBucket, int maxSeqs) {
    var g = model.geometry();
    long perRow = 2L * model.dtype().getNumOfBytes()
        * (g.hiddenSize() * 4L + (long) (g.numHeads() + 2 * g.numKvHeads()) * g.headDim() * 2
            + g.intermediateSize() * 3L);
    long logits = 3L * 4 * g.vocabSize(); // the eager LM head's float32 logits and the sampler's copies
    return (64L << 20) + largestBucket * perRow + Math.min(largestBucket, maxSeqs) * logits;
  }

  /** The step's float32 logits {@code [numSampled, vocab]}; arrays live in {@code step}. */
  public NDArray logits(ForwardBatch b, NDManager step) {
    ensureStream();
    int t = b.numTokens();
    if (graphs != null && t <= graphs.largest()) {
      int bucket = graphs.bucketFor(t);
      int sampled = inputs.uploadStep(b, bucket);
      NDArray hidden = graphs.replay(bucket);
      // In the step's manager: DJL puts an op's result in its input's manager, and the graph's output lives as long
      // as the graph, so rows left there (and the logits computed from them) would pile up step after step.
      NDArray rows;
      if (b.isPureDecode()) {
        rows = CudaNative.narrow(hidden, 0, t, step);
      } else {
        rows = hidden.get(new NDIndex("{}", inputs.logitRows(sampled, step)));
        rows.attach(step);
      }
      return model.logits(rows);
    }
    StepInputs in = inputs.upload(b, step);
    return model.forward(in, attention, step);
  }

  /**
   * The final-normed hidden states of the given flattened rows, the step run eagerly (no graph replay): the steps
   * that want more rows than the sampled ones are prefill steps with prompt logprobs, kept out of the captured graphs.
   */
  public NDArray eagerHidden(ForwardBatch b, long[] rows, NDManager step) {
    ensureStream();
    StepInputs in = inputs.upload(b, step);
    return model.hidden(new StepInputs(in.tokenIds(), in.positions(), step.create(rows), in.attention()), attention,
        step);
  }

  /** After a step that read nothing back: the staging buffer may be rewritten only once its copies are done. */
  public void finishWithoutReadback() {
    CudaNative.synchronize(stream);
  }

  /**
   * The sampler's one-launch draw on this path (native/src/sampling/sampling_kernels.cu), unless
   * BARISTA_SAMPLING_KERNEL=0 keeps the DJL ops (to compare the two).
   */
  public RowDraw rowDraw() {
    return "0".equals(System.getenv("BARISTA_SAMPLING_KERNEL")) ? null : SAMPLING_KERNEL;
  }

  static final RowDraw SAMPLING_KERNEL =
      (logits, params, m) -> wrap(m, CudaNative.sampleRows(handle(logits), handle(params)));

  /** Applies constraint masks in one kernel, from pinned staging memory (the sampler's masker on this path). */
  public LogitMasker tokenMasks() {
    return tokenMasks;
  }

  /** The largest step a graph holds, in tokens; 0 when eager only. */
  public int graphTokens() {
    return graphs == null ? 0 : graphs.largest();
  }

  public boolean graphsEnabled() {
    return graphs != null;
  }

  private void ensureStream() {
    if (streamThread != Thread.currentThread()) {
      CudaNative.setCurrentStream(stream);
      streamThread = Thread.currentThread();
    }
  }

  @Override
  public void close() {
    if (graphs != null) graphs.close();
    inputs.close();
    attention.close();
    tokenMasks.close();
  }
}
