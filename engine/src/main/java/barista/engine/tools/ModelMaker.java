package barista.engine.tools;

import barista.engine.checkpoint.DType;
import barista.engine.checkpoint.ModelConfig;
import barista.engine.checkpoint.Qwen2TensorNames;
import barista.engine.checkpoint.Qwen2TensorNames.Projection;
import barista.engine.checkpoint.TensorInfo;
import barista.engine.tools.RandomWeights.Init;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * Writes a synthetic Hugging Face checkpoint folder (config, generation config, tokenizer, safetensors weights)
 * with deterministic random weights, scaled so activations stay finite and greedy decoding is not degenerate.
 */
public final class ModelMaker {

  /**
   * What to make: a preset ("tiny" or "r1-distill-1.5b") and a seed; the other fields override the preset when
   * non-null (dtype defaults to BF16, architecture to Qwen2ForCausalLM).
   */
  public record Options(String preset, long seed, DType dtype, Integer layers, Integer hidden, Integer heads,
                        Integer kvHeads, Integer intermediate, Integer vocab, Boolean tieEmbeddings, String architecture) {

    public static Options of(String preset, long seed) {
      return new Options(preset, seed, null, null, null, null, null, null, null, null, null);
    }

    public Options withDType(DType dtype) {
      return new Options(preset, seed, dtype, layers, hidden, heads, kvHeads, intermediate, vocab, tieEmbeddings,
          architecture);
    }
  }

  public static final String TINY = "tiny";
  public static final String R1_DISTILL = "r1-distill-1.5b";

  /** Shards stay under this size, as transformers' save_pretrained does with max_shard_size="2GB". */
  static final long MAX_SHARD_BYTES = 2_000_000_000L;
  /** Elements generated per parallel task. */
  private static final int CHUNK_ELEMENTS = 1 << 21;
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The resolved model shape and the token ids written to config.json and generation_config.json. */
  private record Spec(String architecture, DType dtype, int layers, int hidden, int heads, int kvHeads, int intermediate,
            int vocab, boolean tied, int maxPositions, int maxWindowLayers, Integer configBos,
            Integer configEos, Integer generationBos, Integer generationEos) {
    int headDim() {
      return hidden / heads;
    }

    boolean qwen2() {
      return architecture.equals(ModelConfig.QWEN2);
    }
  }

  private record Tensor(String name, long[] shape, Init init) {
    SafetensorsWriter.Entry entry(DType dtype) {
      return new SafetensorsWriter.Entry(name, dtype, shape);
    }
  }

  private ModelMaker() {}

  public static void make(Options options, Path outDir) throws IOException {
    make(options, outDir, MAX_SHARD_BYTES, WriteProgress.NONE);
  }

  /** Writes the model, telling {@code progress} of each chunk of weights written. */
  public static void make(Options options, Path outDir, WriteProgress progress) throws IOException {
    make(options, outDir, MAX_SHARD_BYTES, progress);
  }

  static void make(Options options, Path outDir, long maxShardBytes) throws IOException {
    make(options, outDir, maxShardBytes, WriteProgress.NONE);
  }

  static void make(Options options, Path outDir, long maxShardBytes, WriteProgress progress) throws IOException {
    Files.createDirectories(outDir);
    deleteOldWeights(outDir);
    Spec spec = resolve(options, outDir);
    writeJson(outDir.resolve("config.json"), configJson(spec));
    writeJson(outDir.resolve("generation_config.json"), generationConfigJson(spec));
    writeWeights(spec, new RandomWeights(options.seed()), outDir, maxShardBytes, progress);
  }

  /** Usage: ModelMaker PRESET OUT_DIR [SEED] [DTYPE] */
  public static void main(String[] args) throws IOException {
    if (args.length < 2) {
      System.err.println("usage: ModelMaker tiny|r1-distill-1.5b OUT_DIR [SEED] [BF16|F16|F32]");
      System.exit(2);
    }
    Options options = Options.of(args[0], args.length > 2 ? Long.parseLong(args[2]) : 0);
    if (args.length > 3) options = options.withDType(DType.valueOf(args[3]));
    long start = System.nanoTime();
    make(options, Path.of(args[1]));
    System.out.printf("wrote %s to %s in %.1f s%n", args[0], args[1], (System.nanoTime() - start) / 1e9);
  }

  private static Spec resolve(Options o, Path outDir) throws IOException {
    String architecture = o.architecture() != null ? o.architecture() : ModelConfig.QWEN2;
    if (!ModelConfig.SUPPORTED_ARCHITECTURES.contains(architecture)) {
      throw new IllegalArgumentException("unsupported architecture " + architecture);
    }
    DType dtype = o.dtype() != null ? o.dtype() : DType.BF16;
    if (!dtype.isFloat()) throw new IllegalArgumentException("weights need a float dtype, not " + dtype);
    switch (o.preset()) {
      case TINY -> {
        int tokenizerVocab = TokenizerFiles.writeTiny(outDir);
        int vocab = or(o.vocab(), (tokenizerVocab + 63) / 64 * 64);
        if (vocab < tokenizerVocab) {
          throw new IllegalArgumentException("vocab " + vocab + " is smaller than the tokenizer's " + tokenizerVocab);
        }
        int layers = or(o.layers(), 2);
        Integer bos = addedTokenId(outDir, "<｜begin▁of▁sentence｜>");
        Integer eos = addedTokenId(outDir, "<｜end▁of▁sentence｜>");
        // Like the real config, config.json names eos as bos; generation_config.json has the real bos.
        return new Spec(architecture, dtype, layers, or(o.hidden(), 64), or(o.heads(), 4), or(o.kvHeads(), 2),
            or(o.intermediate(), 176), vocab, or(o.tieEmbeddings(), false), 4096, layers, eos, eos, bos, eos);
      }
      case R1_DISTILL -> {
        TokenizerFiles.writeR1Distill(outDir);
        return new Spec(architecture, dtype, or(o.layers(), 28), or(o.hidden(), 1536), or(o.heads(), 12),
            or(o.kvHeads(), 2), or(o.intermediate(), 8960), or(o.vocab(), 151936), or(o.tieEmbeddings(), false),
            131072, 21, 151643, 151643, 151646, 151643);
      }
      default -> throw new IllegalArgumentException("unknown preset " + o.preset() + " (known: " + TINY + ", " + R1_DISTILL + ")");
    }
  }

  /** The id of an added token in the tokenizer.json just written, or null when there is none. */
  private static Integer addedTokenId(Path dir, String content) throws IOException {
    Path file = dir.resolve("tokenizer.json");
    if (!Files.exists(file)) return null;
    for (JsonNode token : JSON.readTree(file.toFile()).path("added_tokens")) {
      if (token.path("content").asText().equals(content)) return token.path("id").asInt();
    }
    return null;
  }

  /** config.json in the transformers 4.x style of the published R1-Distill file, field for field. */
  private static ObjectNode configJson(Spec s) {
    ObjectNode c = JSON.createObjectNode();
    c.putArray("architectures").add(s.architecture());
    c.put("attention_dropout", 0.0);
    if (!s.qwen2()) c.put("attention_bias", false);
    c.put("bos_token_id", s.configBos());
    c.put("eos_token_id", s.configEos());
    c.put("hidden_act", "silu");
    c.put("hidden_size", s.hidden());
    c.put("initializer_range", 0.02);
    c.put("intermediate_size", s.intermediate());
    c.put("max_position_embeddings", s.maxPositions());
    if (s.qwen2()) c.put("max_window_layers", s.maxWindowLayers());
    if (!s.qwen2()) c.put("mlp_bias", false);
    c.put("model_type", s.qwen2() ? "qwen2" : "llama");
    c.put("num_attention_heads", s.heads());
    c.put("num_hidden_layers", s.layers());
    c.put("num_key_value_heads", s.kvHeads());
    c.put("rms_norm_eps", 1e-6);
    c.put("rope_theta", 10000);
    if (s.qwen2()) c.put("sliding_window", 4096);
    c.put("tie_word_embeddings", s.tied());
    c.put("torch_dtype", s.dtype().torchName());
    c.put("transformers_version", "4.44.0");
    c.put("use_cache", true);
    if (s.qwen2()) {
      c.put("use_mrope", false);
      c.put("use_sliding_window", false);
    }
    c.put("vocab_size", s.vocab());
    return c;
  }

  private static ObjectNode generationConfigJson(Spec s) {
    ObjectNode g = JSON.createObjectNode();
    g.put("_from_model_config", true);
    g.put("bos_token_id", s.generationBos());
    g.put("eos_token_id", s.generationEos());
    g.put("do_sample", true);
    g.put("temperature", 0.6);
    g.put("top_p", 0.95);
    return g;
  }

  /** Hugging Face tensor names and shapes, in model order, with initial scales that keep activations of order 1. */
  private static List<Tensor> tensors(Spec s) {
    long hidden = s.hidden();
    long qDim = (long) s.heads() * s.headDim();
    long kvDim = (long) s.kvHeads() * s.headDim();
    long inter = s.intermediate();
    Init norm = new Init(1, 0.1);
    Init bias = new Init(0, 0.1);
    Init fromHidden = new Init(0, 1 / StrictMath.sqrt(hidden));
    List<Tensor> t = new ArrayList<>();
    t.add(new Tensor(Qwen2TensorNames.EMBED_TOKENS, new long[] {s.vocab(), hidden}, new Init(0, 1)));
    for (int layer = 0; layer < s.layers(); layer++) {
      t.add(new Tensor(Qwen2TensorNames.inputLayernorm(layer), new long[] {hidden}, norm));
      for (Projection proj : new Projection[] {Projection.Q, Projection.K, Projection.V}) {
        long out = proj == Projection.Q ? qDim : kvDim;
        t.add(new Tensor(proj.weight(layer), new long[] {out, hidden}, fromHidden));
        if (s.qwen2()) t.add(new Tensor(proj.module(layer) + ".bias", new long[] {out}, bias));
      }
      t.add(new Tensor(Projection.O.weight(layer), new long[] {hidden, qDim}, new Init(0, 1 / StrictMath.sqrt(qDim))));
      t.add(new Tensor(Qwen2TensorNames.postAttentionLayernorm(layer), new long[] {hidden}, norm));
      t.add(new Tensor(Projection.GATE.weight(layer), new long[] {inter, hidden}, fromHidden));
      t.add(new Tensor(Projection.UP.weight(layer), new long[] {inter, hidden}, fromHidden));
      t.add(new Tensor(Projection.DOWN.weight(layer), new long[] {hidden, inter}, new Init(0, 1 / StrictMath.sqrt(inter))));
    }
    t.add(new Tensor(Qwen2TensorNames.FINAL_NORM, new long[] {hidden}, norm));
    // Final hidden states have rms ~1, so this gives logits with std ~2.
    if (!s.tied()) {
      t.add(new Tensor(Qwen2TensorNames.LM_HEAD, new long[] {s.vocab(), hidden}, new Init(0, 2 / StrictMath.sqrt(hidden))));
    }
    return t;
  }

  /** Bytes of weights written so far, of all the shards, for the progress listener. */
  private static final class Written {
    final long total;
    final WriteProgress progress;
    final int layers;
    long done;

    Written(long total, WriteProgress progress, int layers) {
      this.total = total;
      this.progress = progress;
      this.layers = layers;
    }

    void add(long bytes, String tensor) {
      done += bytes;
      progress.update(done, total, WriteProgress.partOf(tensor, layers));
    }
  }

  private static void writeWeights(Spec spec, RandomWeights random, Path outDir, long maxShardBytes,
      WriteProgress progress) throws IOException {
    List<List<Tensor>> shards = new ArrayList<>();
    List<Tensor> shard = new ArrayList<>();
    long shardBytes = 0;
    long totalBytes = 0;
    for (Tensor t : tensors(spec)) {
      long bytes = t.entry(spec.dtype()).byteLength();
      if (!shard.isEmpty() && shardBytes + bytes > maxShardBytes) {
        shards.add(shard);
        shard = new ArrayList<>();
        shardBytes = 0;
      }
      shard.add(t);
      shardBytes += bytes;
      totalBytes += bytes;
    }
    shards.add(shard);
    Written written = new Written(totalBytes, progress, spec.layers());

    if (shards.size() == 1) {
      writeShard(spec, random, shards.get(0), outDir.resolve("model.safetensors"), written);
      return;
    }
    ObjectNode index = JSON.createObjectNode();
    index.putObject("metadata").put("total_size", totalBytes);
    ObjectNode weightMap = index.putObject("weight_map");
    for (int i = 0; i < shards.size(); i++) {
      String name = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
      writeShard(spec, random, shards.get(i), outDir.resolve(name), written);
      shards.get(i).forEach(t -> weightMap.put(t.name(), name));
    }
    writeJson(outDir.resolve("model.safetensors.index.json"), index);
  }

  /**
   * Generates the tensors in chunks on all cores into a ring of reused direct buffers, while this thread
   * writes the finished chunks to the file in order.
   */
  /** A chunk being generated, and the tensor it belongs to. */
  private record Chunk(Future<ByteBuffer> bytes, String tensor) {}

  private static void writeShard(Spec spec, RandomWeights random, List<Tensor> tensors, Path file, Written written)
      throws IOException {
    DType dtype = spec.dtype();
    int threads = Runtime.getRuntime().availableProcessors();
    ByteBuffer[] ring = new ByteBuffer[2 * threads];
    for (int i = 0; i < ring.length; i++) {
      ring[i] = ByteBuffer.allocateDirect(CHUNK_ELEMENTS * dtype.size()).order(ByteOrder.LITTLE_ENDIAN);
    }
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    Deque<Chunk> inFlight = new ArrayDeque<>();
    try (SafetensorsWriter writer = SafetensorsWriter.create(file, tensors.stream().map(t -> t.entry(dtype)).toList(),
        Map.of("format", "pt"))) {
      int next = 0;
      for (Tensor t : tensors) {
        long numel = TensorInfo.numel(t.shape());
        for (long start = 0; start < numel; start += CHUNK_ELEMENTS) {
          // The oldest chunk's buffer is the one reused next, so write it first.
          if (inFlight.size() == ring.length) write(writer, inFlight.removeFirst(), written);
          ByteBuffer buffer = ring[next++ % ring.length];
          long first = start;
          int count = (int) Math.min(CHUNK_ELEMENTS, numel - start);
          inFlight.add(new Chunk(pool.submit(() -> {
            buffer.clear();
            random.fill(t.name(), t.init(), dtype, first, count, buffer);
            return buffer.flip();
          }), t.name()));
        }
      }
      while (!inFlight.isEmpty()) write(writer, inFlight.removeFirst(), written);
    } finally {
      pool.shutdownNow();
    }
  }

  private static void write(SafetensorsWriter writer, Chunk chunk, Written written) throws IOException {
    ByteBuffer bytes = await(chunk.bytes());
    int length = bytes.remaining();
    writer.write(bytes);
    written.add(length, chunk.tensor());
  }

  private static ByteBuffer await(Future<ByteBuffer> chunk) throws IOException {
    try {
      return chunk.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while generating weights", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("generating weights failed: " + e.getCause(), e.getCause());
    }
  }

  /** A stale index or shard from an earlier run would shadow or mix with the new weights. */
  private static void deleteOldWeights(Path outDir) throws IOException {
    try (Stream<Path> files = Files.list(outDir)) {
      for (Path file : files.toList()) {
        String name = file.getFileName().toString();
        if (name.equals("model.safetensors.index.json") || (name.startsWith("model") && name.endsWith(".safetensors"))) {
          Files.delete(file);
        }
      }
    }
  }

  private static void writeJson(Path file, JsonNode json) throws IOException {
    JSON.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), json);
  }

  private static int or(Integer value, int preset) {
    return value != null ? value : preset;
  }

  private static boolean or(Boolean value, boolean preset) {
    return value != null ? value : preset;
  }
}
