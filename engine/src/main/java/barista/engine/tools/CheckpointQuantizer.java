package barista.engine.tools;

import barista.engine.checkpoint.Checkpoint;
import barista.engine.checkpoint.CheckpointException;
import barista.engine.checkpoint.DType;
import barista.engine.checkpoint.DTypes;
import barista.engine.checkpoint.ModelConfig;
import barista.engine.checkpoint.Qwen2TensorNames;
import barista.engine.checkpoint.TensorInfo;
import barista.engine.quant.AwqPacking;
import barista.engine.quant.Int8Weights;
import barista.engine.quant.PackQuantized;
import barista.engine.quant.Quantization;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Writes a quantized copy of a 16-bit checkpoint folder, in the formats other tools read too: AutoAWQ GEMM
 * ({@code qweight}/{@code qzeros}/{@code scales}, round-to-nearest with per-group zero points, fp16 elsewhere) or
 * compressed-tensors W8A16 {@code pack-quantized} ({@code weight_packed}/{@code weight_scale}/{@code weight_shape},
 * per output channel, other tensors as stored). The projections of every decoder layer are quantized; embeddings,
 * norms, biases and lm_head are not. Tokenizer and generation files are copied.
 */
public final class CheckpointQuantizer {
  /** AutoAWQ's default group size; smaller models get the largest power of two that divides every input dim. */
  public static final int MAX_AWQ_GROUP = 128;

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Checkpoint ckpt;
  private final Quantization.Method method;
  private final int group;

  private CheckpointQuantizer(Checkpoint ckpt, Quantization.Method method, int group) {
    this.ckpt = ckpt;
    this.method = method;
    this.group = group;
  }

  /** @param awqGroup null: {@link #awqGroupSize} of the model */
  public static void quantize(Path model, Path out, Quantization.Method method, Integer awqGroup) throws IOException {
    quantize(model, out, method, awqGroup, WriteProgress.NONE);
  }

  /** As {@link #quantize(Path, Path, Quantization.Method, Integer)}, telling {@code progress} of each tensor done. */
  public static void quantize(Path model, Path out, Quantization.Method method, Integer awqGroup,
      WriteProgress progress) throws IOException {
    if (Files.exists(out) && Files.isSameFile(model, out)) {
      throw new IllegalArgumentException("--out " + out + " is the model folder itself");
    }
    try (Checkpoint ckpt = Checkpoint.open(model)) {
      ModelConfig c = ckpt.config();
      if (c.quantizationConfig() != null) throw new CheckpointException(model + " is already quantized");
      int group = 0;
      if (method == Quantization.Method.AWQ) {
        group = awqGroup != null ? awqGroup : awqGroupSize(c);
        for (long in : new long[] {c.hiddenSize(), (long) c.numHeads() * c.headDim(), c.intermediateSize()}) {
          if (group <= 1 || group % 2 != 0 || in % group != 0) {
            throw new IllegalArgumentException("AWQ group size " + group + " must be even and divide every input dim ("
                + c.hiddenSize() + ", " + (long) c.numHeads() * c.headDim() + ", " + c.intermediateSize() + ")");
          }
        }
      }
      Files.createDirectories(out);
      new CheckpointQuantizer(ckpt, method, group).write(out, progress);
    }
  }

  /** The largest power of two up to {@link #MAX_AWQ_GROUP} dividing every projection's input dim. */
  public static int awqGroupSize(ModelConfig c) {
    int group = MAX_AWQ_GROUP;
    while (group > 1 && (c.hiddenSize() % group != 0 || c.numHeads() * c.headDim() % group != 0
        || c.intermediateSize() % group != 0)) {
      group /= 2;
    }
    return group;
  }

  private void write(Path out, WriteProgress progress) throws IOException {
    List<SafetensorsWriter.Entry> entries = new ArrayList<>();
    for (String name : ckpt.names()) entries.addAll(entries(ckpt.info(name)));
    try (Stream<Path> old = Files.list(out)) {
      for (Path p : old.toList()) {
        if (p.getFileName().toString().endsWith(".safetensors") || p.getFileName().toString().endsWith(".index.json")) {
          Files.delete(p);
        }
      }
    }
    try (SafetensorsWriter writer = SafetensorsWriter.create(out.resolve("model.safetensors"), entries,
        Map.of("format", "pt"))) {
      // Progress in bytes of the source tensors, which quantizing reads once each.
      long total = 0;
      for (String name : ckpt.names()) total += ckpt.info(name).byteLength();
      long done = 0;
      int layers = ckpt.config().numLayers();
      for (String name : ckpt.names()) {
        for (ByteBuffer data : data(ckpt.info(name))) writer.write(data);
        done += ckpt.info(name).byteLength();
        progress.update(done, total, WriteProgress.partOf(name, layers));
      }
    }
    writeConfig(out.resolve("config.json"));
    try (Stream<Path> files = Files.list(ckpt.folder())) {
      for (Path f : files.toList()) {
        String n = f.getFileName().toString();
        if (Files.isRegularFile(f) && !n.equals("config.json") && !n.endsWith(".safetensors") && !n.endsWith(".index.json")) {
          Files.copy(f, out.resolve(n), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }

  private boolean quantized(TensorInfo t) {
    return Qwen2TensorNames.isProjectionWeight(t.name());
  }

  private List<SafetensorsWriter.Entry> entries(TensorInfo t) {
    String module = t.name().substring(0, t.name().length() - ".weight".length());
    long out = t.shape()[0];
    long in = t.shape()[t.shape().length - 1];
    if (!quantized(t)) {
      DType dtype = method == Quantization.Method.AWQ && t.dtype().isFloat() ? DType.F16 : t.dtype();
      return List.of(new SafetensorsWriter.Entry(t.name(), dtype, t.shape()));
    }
    if (method == Quantization.Method.AWQ) {
      if (out % 8 != 0) throw new CheckpointException("tensor " + t.name() + ": output dim " + out + " is not a multiple of 8");
      return List.of(new SafetensorsWriter.Entry(module + ".qweight", DType.I32, new long[] {in, out / 8}),
          new SafetensorsWriter.Entry(module + ".qzeros", DType.I32, new long[] {in / group, out / 8}),
          new SafetensorsWriter.Entry(module + ".scales", DType.F16, new long[] {in / group, out}));
    }
    if (in % 4 != 0) throw new CheckpointException("tensor " + t.name() + ": input dim " + in + " is not a multiple of 4");
    return List.of(new SafetensorsWriter.Entry(module + ".weight_packed", DType.I32, new long[] {out, in / 4}),
        new SafetensorsWriter.Entry(module + ".weight_scale", int8ScaleType(t), new long[] {out, 1}),
        new SafetensorsWriter.Entry(module + ".weight_shape", DType.I64, new long[] {2}));
  }

  /** The bytes of {@link #entries}, in the same order. */
  private List<ByteBuffer> data(TensorInfo t) {
    if (!quantized(t)) {
      return List.of(method == Quantization.Method.AWQ && t.dtype().isFloat() ? ckpt.f16(t.name()) : ckpt.raw(t.name()));
    }
    int out = Math.toIntExact(t.shape()[0]);
    int in = Math.toIntExact(t.shape()[1]);
    float[] w = new float[out * in];
    FloatBuffer values = ckpt.f32(t.name()).asFloatBuffer();
    values.get(w);
    if (method == Quantization.Method.AWQ) {
      AwqWeights a = AwqWeights.quantize(w, out, in, group);
      return List.of(ints(AwqPacking.pack(a.q(), in, out)), ints(AwqPacking.pack(a.zeros(), in / group, out)),
          floats(a.scales(), DType.F16));
    }
    DType scaleType = int8ScaleType(t);
    Int8Weights q = Int8Weights.quantize(w, out, in, scaleType);
    ByteBuffer shape = buffer(16).putLong(out).putLong(in).flip();
    return List.of(ints(PackQuantized.pack(q.q(), out, in)), floats(q.scales(), scaleType), shape);
  }

  /** compressed-tensors keeps scales in the model's dtype; we keep them 16-bit. */
  private static DType int8ScaleType(TensorInfo t) {
    return t.dtype() == DType.BF16 ? DType.BF16 : DType.F16;
  }

  private void writeConfig(Path file) throws IOException {
    ObjectNode config = (ObjectNode) JSON.readTree(ckpt.folder().resolve("config.json").toFile());
    ObjectNode q = config.putObject("quantization_config");
    if (method == Quantization.Method.AWQ) {
      // AutoAWQ's fields; its checkpoints are fp16 throughout.
      q.put("bits", 4).put("group_size", group).putNull("modules_to_not_convert").put("quant_method", "awq")
          .put("version", "gemm").put("zero_point", true);
      config.put(config.has("dtype") ? "dtype" : "torch_dtype", "float16");
    } else {
      // llm-compressor's W8A16 scheme as vLLM's compressed-tensors loader reads it.
      ObjectNode group0 = q.putObject("config_groups").putObject("group_0");
      group0.putArray("targets").add("Linear");
      group0.putNull("input_activations");
      group0.putNull("output_activations");
      group0.put("format", "pack-quantized");
      ObjectNode weights = group0.putObject("weights");
      weights.putNull("actorder").putNull("block_structure").put("dynamic", false).putNull("group_size")
          .put("num_bits", 8).put("observer", "minmax").put("strategy", "channel").put("symmetric", true)
          .put("type", "int");
      weights.putObject("observer_kwargs");
      q.put("format", "pack-quantized");
      q.putArray("ignore").add(Qwen2TensorNames.LM_HEAD_MODULE);
      q.putNull("kv_cache_scheme");
      q.put("quant_method", "compressed-tensors");
      q.put("quantization_status", "compressed");
    }
    JSON.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), config);
  }

  private static ByteBuffer ints(int[] values) {
    ByteBuffer b = buffer(4L * values.length);
    b.asIntBuffer().put(values);
    return b;
  }

  private static ByteBuffer floats(float[] values, DType dtype) {
    ByteBuffer b = buffer((long) dtype.size() * values.length);
    for (float v : values) {
      switch (dtype) {
        case F16 -> b.putShort(DTypes.f32ToF16(v));
        case BF16 -> b.putShort(DTypes.f32ToBf16(v));
        default -> b.putFloat(v);
      }
    }
    return b.flip();
  }

  private static ByteBuffer buffer(long bytes) {
    return ByteBuffer.allocate(Math.toIntExact(bytes)).order(ByteOrder.LITTLE_ENDIAN);
  }
}
