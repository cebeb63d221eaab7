package barista.engine;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import barista.engine.checkpoint.Checkpoint;
import barista.engine.checkpoint.GenerationConfig;
import barista.engine.checkpoint.ModelConfig;
import barista.engine.cuda.CudaForwardPath;
import barista.engine.cuda.CudaGraphs;
import barista.engine.cuda.CudaNative;
import barista.engine.cuda.NativeQuantMethods;
import barista.engine.quant.QuantMethods;
import barista.engine.model.DjlAttention;
import barista.engine.model.ForwardBatch;
import barista.engine.model.ModelGeometry;
import barista.engine.model.ModelLoader;
import barista.engine.model.PagedKvCache;
import barista.engine.model.Qwen2Model;
import barista.engine.model.StepInputs;
import barista.engine.sampling.PromptLogprobs;
import barista.engine.sampling.SampleResult;
import barista.engine.sampling.Sampler;
import barista.engine.sampling.SamplingRow;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one engine step on the device: turns the scheduled sequences into a flattened batch, runs the model over
 * the paged KV cache and samples. Owns the weights and the KV tensors; which blocks a sequence holds is the
 * scheduler's (kvcache's KvCacheManager), handed over as each sequence's block table.
 * Not thread-safe: the engine thread is its only caller.
 */
public final class ModelRunner implements StepExecutor, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ModelRunner.class);
  private static final AtomicBoolean SAID_HOW_STEPS_RUN = new AtomicBoolean();
  /** Prompt rows whose logits (prompt logprobs) are computed at once: bounds the vocabulary-wide arrays of a step. */
  static final int PROMPT_LOGIT_ROWS = 256;

  private final NDManager manager;
  private final Checkpoint checkpoint;
  private final Qwen2Model model;
  private final DjlAttention djlAttention; // the DJL path's backend; null on the CUDA path
  private final CudaForwardPath cudaPath; // null: the DJL path
  private final PagedKvCache cache;
  private final Sampler sampler;
  private final int maxModelLen;

  private ModelRunner(NDManager manager, Checkpoint checkpoint, Qwen2Model model, PagedKvCache cache,
      CudaForwardPath cudaPath, int maxModelLen) {
    this.manager = manager;
    this.checkpoint = checkpoint;
    this.model = model;
    this.cache = cache;
    this.cudaPath = cudaPath;
    this.sampler = cudaPath != null ? new Sampler(cudaPath.tokenMasks(), cudaPath.rowDraw()) : new Sampler();
    this.djlAttention = cudaPath == null ? new DjlAttention(cache, model.geometry(), model.dtype()) : null;
    this.maxModelLen = maxModelLen;
  }

  /** Loads the checkpoint onto the device and sizes the KV cache. Bad configuration: IllegalArgumentException. */
  public static ModelRunner start(EngineConfig cfg) {
    Device device = cfg.device();
    DataType dtype = cfg.dtype();
    Checkpoint ckpt = Checkpoint.open(cfg.model());
    ModelConfig mc = ckpt.config();
    int maxModelLen = cfg.maxModelLen() > 0 ? cfg.maxModelLen() : mc.maxPositionEmbeddings();
    if (maxModelLen > mc.maxPositionEmbeddings()) {
      throw new IllegalArgumentException("--max-model-len " + maxModelLen + " exceeds the model's "
          + "max_position_embeddings " + mc.maxPositionEmbeddings());
    }
    boolean fused = device.isGpu() && nativeLibraryLoaded(cfg.cuda());
    if (!device.isGpu() && SAID_HOW_STEPS_RUN.compareAndSet(false, true)) {
      log.info("On the CPU the forward runs DJL's ops; CUDA graphs and fused kernels (libbarista_native) are for "
          + "CUDA devices");
    }
    long stream = fused ? CudaForwardPath.startStream(device.getDeviceId()) : 0;
    NDManager manager = NDManager.newBaseManager(device, "PyTorch");
    CudaForwardPath cudaPath = null;
    try {
      log.info("Loading {} ({}, {} layers) on {} as {}", cfg.model(), mc.architecture(), mc.numLayers(), device, dtype);
      Qwen2Model model = ModelLoader.load(ckpt, manager, dtype, maxModelLen, cfg.quantization(),
          fused ? NativeQuantMethods.forDtype(dtype) : QuantMethods.REFERENCE);
      if (fused) CudaForwardPath.useFusedOps(model);
      int[] graphSizes = fused ? graphSizes(cfg, model) : null;
      ModelGeometry g = model.geometry();
      long blockBytes = PagedKvCache.bytesPerBlock(g.numLayers(), cfg.blockSize(), g.numKvHeads(), g.headDim(), dtype);
      int numBlocks;
      if (cfg.numGpuBlocksOverride() > 0) {
        numBlocks = cfg.numGpuBlocksOverride();
      } else if (device.isGpu()) {
        profile(model, manager, cfg, maxModelLen);
        long reserve = graphSizes == null || graphSizes.length == 0 ? 0
            : CudaForwardPath.graphReserveBytes(model, graphSizes[graphSizes.length - 1],
                cfg.maxNumSeqs());
        numBlocks = KvCacheSizer.gpuBlocks(device, cfg.gpuMemoryUtilization(), blockBytes, reserve);
      } else {
        // On CPU the cache is zeroed host memory: never take more than every sequence at full length can use.
        long useful = (long) cfg.maxNumSeqs() * ((maxModelLen + cfg.blockSize() - 1) / cfg.blockSize()) + 1;
        numBlocks = (int) Math.min(useful, KvCacheSizer.cpuBlocks(cfg.kvCacheSpaceGiB(), blockBytes));
      }
      if (numBlocks < 2) {
        throw new IllegalArgumentException("no memory left for the KV cache (" + numBlocks + " blocks of "
            + blockBytes + " bytes); lower --max-num-batched-tokens or raise --gpu-memory-utilization/--kv-cache-space");
      }
      PagedKvCache cache = new PagedKvCache(manager, g.numLayers(), numBlocks, cfg.blockSize(), g.numKvHeads(),
          g.headDim(), dtype);
      long tokens = (long) (numBlocks - 1) * cfg.blockSize();
      if (cfg.maxModelLen() == 0 && tokens < maxModelLen) {
        // As vLLM fits its default: one request must fit the cache, so the model's length is capped, not refused.
        log.info("--max-model-len defaults to the model's max_position_embeddings {}, but the KV cache holds {} "
            + "tokens: using --max-model-len {}", maxModelLen, tokens, tokens);
        maxModelLen = (int) tokens;
      }
      log.info("Model weights take {} MiB on {}; KV cache: {} blocks of {} tokens ({} MiB), {} tokens in all, "
              + "maximum concurrency for {} tokens per request: {}x",
          model.weightBytes() >> 20, device, numBlocks, cfg.blockSize(), (blockBytes * numBlocks) >> 20, tokens,
          maxModelLen, String.format("%.2f", (double) tokens / maxModelLen));
      if (fused) {
        cudaPath = CudaForwardPath.start(model, cache, manager, stream, device.getDeviceId(),
            Math.max(cfg.maxNumBatchedTokens(), maxModelLen), cfg.maxNumSeqs(), maxModelLen, graphSizes);
      }
      return new ModelRunner(manager, ckpt, model, cache, cudaPath, maxModelLen);
    } catch (RuntimeException e) {
      if (cudaPath != null) cudaPath.close();
      manager.close();
      ckpt.close();
      throw e;
    }
  }

  /** One forward of the largest batch a step may hold, so the allocator's peak is reserved before sizing. */
  private static void profile(Qwen2Model model, NDManager manager, EngineConfig cfg, int maxModelLen) {
    int tokens = Math.min(cfg.maxNumBatchedTokens(), maxModelLen);
    int bs = cfg.blockSize();
    int blocks = (tokens + bs - 1) / bs;
    ModelGeometry g = model.geometry();
    try (NDManager step = manager.newSubManager();
        PagedKvCache scratch = new PagedKvCache(step, g.numLayers(), blocks + 1, bs, g.numKvHeads(), g.headDim(),
            model.dtype())) {
      int[] table = new int[blocks];
      for (int b = 0; b < blocks; b++) table[b] = b + 1;
      int[] ids = new int[tokens];
      int[] pos = new int[tokens];
      long[] slots = new long[tokens];
      for (int p = 0; p < tokens; p++) {
        pos[p] = p;
        slots[p] = ForwardBatch.slot(table, bs, p);
      }
      ForwardBatch b = new ForwardBatch(ids, pos, slots, new int[] {0}, new int[] {tokens}, new int[] {tokens},
          new int[][] {table}, new boolean[] {true});
      DjlAttention attention = new DjlAttention(scratch, g, model.dtype());
      model.forward(StepInputs.upload(b, attention, step), attention, step).toFloatArray();
    }
  }

  private static boolean nativeLibraryLoaded(EngineConfig.CudaOptions cuda) {
    Optional<String> why = CudaNative.load(cuda.nativeLibrary());
    if (why.isPresent()) {
      if (cuda.nativeLibrary() != null) throw new IllegalArgumentException(why.get());
      if (SAID_HOW_STEPS_RUN.compareAndSet(false, true)) {
        log.warn("Steps run without CUDA graphs and fused kernels (several times slower): {}", why.get());
      }
      return false;
    }
    return true;
  }

  /** The step sizes (tokens) to capture as graphs; null when every step runs eagerly (and the log says why). */
  private static int[] graphSizes(EngineConfig cfg, Qwen2Model model) {
    if (cfg.cuda().enforceEager()) {
      log.info("--enforce-eager: steps run eagerly, no CUDA graphs");
      return null;
    }
    if (!model.captureSafe()) {
      log.warn("CUDA graphs are off for this model: its {} linears dequantize with host scalars, which a graph "
          + "cannot record; steps run the fused kernels eagerly", cfg.quantization());
      return null;
    }
    return CudaGraphs.bucketSizes(cfg.cuda().graphSizes(),
        CudaGraphs.defaultMaxTokens(cfg.maxNumSeqs(), cfg.maxNumBatchedTokens()));
  }

  /**
   * Runs one step. Returns one sample result row per sequence with {@code sample} set, in order (null when none
   * samples).
   */
  @Override
  public SampleResult execute(List<ScheduledSequence> seqs) {
    try (NDManager step = manager.newSubManager()) {
      ForwardBatch batch = batch(seqs);
      PromptRows prompt = PromptRows.of(seqs, batch);
      List<SamplingRow> rows = new ArrayList<>();
      for (ScheduledSequence s : seqs) {
        if (s.sample()) {
          int[] tokens = SamplingRow.readsHistory(s.params()) ? s.history() : s.tokens();
          rows.add(new SamplingRow(s.params(), s.uniform(), tokens, s.numPrompt(), s.numOutput(), s.banned(),
              s.allowed(), s.forcedToken()));
        }
      }
      // Before the forward pass: uploading the sampling parameters after it would wait for it to finish.
      Sampler.Staged staged = rows.isEmpty() ? null : sampler.stage(rows, model.geometry().vocabSize(), step);
      NDArray logits;
      if (prompt == null) {
        logits = logits(batch, step);
      } else {
        // The prompt rows' hidden states follow the sampled rows'; the LM head runs over the prompt rows a slice at a
        // time, so a long prefill chunk never holds its vocabulary-wide logits at once.
        long[] sampledRows = batch.logitRows();
        long[] hiddenRows = java.util.Arrays.copyOf(sampledRows, sampledRows.length + prompt.rows.length);
        System.arraycopy(prompt.rows, 0, hiddenRows, sampledRows.length, prompt.rows.length);
        NDArray hidden = hidden(batch, hiddenRows, step);
        for (int from = 0; from < prompt.rows.length; from += PROMPT_LOGIT_ROWS) {
          int to = Math.min(prompt.rows.length, from + PROMPT_LOGIT_ROWS);
          try (NDManager slice = step.newSubManager()) {
            NDArray h = hidden.get(new NDIndex((sampledRows.length + from) + ":" + (sampledRows.length + to)));
            h.attach(slice);
            NDArray sliceLogits = model.logits(h);
            sliceLogits.attach(slice);
            prompt.record(sliceLogits, from, slice);
          }
        }
        logits = sampledRows.length == 0 ? null : model.logits(hidden.get(new NDIndex("0:" + sampledRows.length)));
      }
      if (rows.isEmpty()) {
        if (cudaPath != null && prompt == null) cudaPath.finishWithoutReadback();
        return null;
      }
      return sampler.sample(logits, staged, step);
    }
  }

  /** The logits of each sampled sequence's last row. */
  private NDArray logits(ForwardBatch batch, NDManager step) {
    if (cudaPath != null) return cudaPath.logits(batch, step);
    return model.forward(StepInputs.upload(batch, djlAttention, step), djlAttention, step);
  }

  /** The final-normed hidden states of the given flattened rows (eager on CUDA: no graph replay). */
  private NDArray hidden(ForwardBatch batch, long[] rows, NDManager step) {
    if (cudaPath != null) return cudaPath.eagerHidden(batch, rows, step);
    return model.hidden(StepInputs.upload(batch, rows, djlAttention, step), djlAttention, step);
  }

  private NDArray logits(List<ScheduledSequence> seqs, NDManager step) {
    return logits(batch(seqs), step);
  }

  /**
   * The step's rows whose next token is a prompt token of a sequence that asked for prompt logprobs: row {@code r}
   * at position {@code p} gives the logprob of prompt token {@code p + 1} (vLLM computes prompt logprobs from the
   * prefill's hidden states the same way). The last prompt row predicts the first output token: not one of them.
   */
  private record PromptRows(long[] rows, long[] targets, PromptLogprobs[] sinks, int[] positions) {

    static PromptRows of(List<ScheduledSequence> seqs, ForwardBatch batch) {
      List<long[]> found = new ArrayList<>(); // {row, target, seq index, position}
      for (int i = 0; i < seqs.size(); i++) {
        ScheduledSequence s = seqs.get(i);
        if (s.promptLogprobs() == null) continue;
        int end = Math.min(s.numComputed() + s.numNew(), s.numPrompt() - 1);
        for (int p = s.numComputed(); p < end; p++) {
          found.add(new long[] {batch.queryStart()[i] + p - s.numComputed(), s.token(p + 1), i, p + 1});
        }
      }
      if (found.isEmpty()) return null;
      int n = found.size();
      long[] rows = new long[n], targets = new long[n];
      PromptLogprobs[] sinks = new PromptLogprobs[n];
      int[] positions = new int[n];
      for (int j = 0; j < n; j++) {
        long[] f = found.get(j);
        rows[j] = f[0];
        targets[j] = f[1];
        sinks[j] = seqs.get((int) f[2]).promptLogprobs();
        positions[j] = (int) f[3];
      }
      return new PromptRows(rows, targets, sinks, positions);
    }

    /**
     * Log-softmax, the target token's logprob and rank, and the top k, on the device; only those read back.
     *
     * @param logits the logits of prompt rows {@code [from, from + logits rows)}
     */
    void record(NDArray logits, int from, NDManager step) {
      int n = (int) logits.getShape().get(0);
      NDArray logp = logits.logSoftmax(1);
      long[] sliceTargets = java.util.Arrays.copyOfRange(targets, from, from + n);
      NDArray picked = logp.gather(step.create(sliceTargets).reshape(n, 1), 1);
      float[] tokenLogprob = picked.toFloatArray();
      long[] above = logp.gt(picked).toType(DataType.INT64, false).sum(new int[] {1}).toLongArray();
      int maxTop = 0;
      for (int j = from; j < from + n; j++) maxTop = Math.max(maxTop, sinks[j].k());
      float[] topV = null;
      long[] topI = null;
      if (maxTop > 0) {
        ai.djl.ndarray.NDList top = logp.topK(maxTop, 1, true, true);
        topV = top.get(0).toFloatArray();
        topI = top.get(1).toLongArray();
      }
      for (int j = 0; j < n; j++) {
        PromptLogprobs sink = sinks[from + j];
        int k = sink.k();
        int[] ids = new int[k];
        float[] lps = new float[k];
        for (int t = 0; t < k; t++) {
          ids[t] = (int) topI[j * maxTop + t];
          lps[t] = topV[j * maxTop + t];
        }
        sink.set(positions[from + j], tokenLogprob[j], (int) above[j] + 1, ids, lps);
      }
    }
  }

  /** The float32 logits of one sequence's last new token (tests compare them with a reference). */
  float[] logitsForTest(ScheduledSequence seq) {
    try (NDManager step = manager.newSubManager()) {
      return logits(List.of(seq), step).toFloatArray();
    }
  }

  @Override
  public int graphTokens() {
    return cudaPath == null ? 0 : cudaPath.graphTokens();
  }

  /** Whether steps replay CUDA graphs (false on CPU, without the native library, or with --enforce-eager). */
  public boolean cudaGraphs() {
    return cudaPath != null && cudaPath.graphsEnabled();
  }

  private ForwardBatch batch(List<ScheduledSequence> seqs) {
    int n = seqs.size();
    int total = 0;
    for (ScheduledSequence s : seqs) total += s.numNew();
    int[] tokenIds = new int[total];
    int[] positions = new int[total];
    long[] slots = new long[total];
    int[] queryStart = new int[n], queryLen = new int[n], contextLen = new int[n];
    int[][] tables = new int[n][];
    boolean[] sample = new boolean[n];
    int bs = cache.blockSize();
    int row = 0;
    for (int i = 0; i < n; i++) {
      ScheduledSequence s = seqs.get(i);
      queryStart[i] = row;
      queryLen[i] = s.numNew();
      contextLen[i] = s.numComputed() + s.numNew();
      tables[i] = s.blockTable();
      sample[i] = s.sample();
      for (int p = s.numComputed(); p < contextLen[i]; p++, row++) {
        tokenIds[row] = s.token(p);
        positions[row] = p;
        slots[row] = ForwardBatch.slot(s.blockTable(), bs, p);
      }
    }
    return new ForwardBatch(tokenIds, positions, slots, queryStart, queryLen, contextLen, tables, sample);
  }

  /** Arrays alive on the runner's device manager and below (tests: a step must leave none behind). */
  int liveArraysForTest() {
    return manager.getManagedArrays().size();
  }

  PagedKvCache cacheForTest() {
    return cache;
  }

  @Override
  public int numBlocks() {
    return cache.numBlocks();
  }

  @Override
  public int blockSize() {
    return cache.blockSize();
  }

  public int maxModelLen() {
    return maxModelLen;
  }

  public ModelConfig modelConfig() {
    return checkpoint.config();
  }

  public GenerationConfig generationConfig() {
    return checkpoint.generationConfig();
  }

  public java.nio.file.Path modelDir() {
    return checkpoint.folder();
  }

  public String deviceName() {
    return manager.getDevice().toString();
  }

  /** What the model computes in: "float16" or "float32". */
  public String dtypeName() {
    return model.dtype().toString();
  }

  public long weightBytes() {
    return model.weightBytes();
  }

  @Override
  public void close() {
    if (cudaPath != null) cudaPath.close();
    cache.close();
    model.close();
    manager.close();
    checkpoint.close();
  }
}
