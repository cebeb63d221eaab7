package barista.engine.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A Hugging Face model folder: config.json, optional generation_config.json, and the weights in
 * model.safetensors, in the shards named by model.safetensors.index.json, or in any *.safetensors files.
 */
public final class Checkpoint implements AutoCloseable {

  private final Path folder;
  private final ModelConfig config;
  private final GenerationConfig generationConfig;
  private final List<SafetensorsFile> files;
  private final Map<String, SafetensorsFile> fileOf;

  private Checkpoint(Path folder, ModelConfig config, GenerationConfig generationConfig,
                     List<SafetensorsFile> files, Map<String, SafetensorsFile> fileOf) {
    this.folder = folder;
    this.config = config;
    this.generationConfig = generationConfig;
    this.files = files;
    this.fileOf = fileOf;
  }

  public static Checkpoint open(Path folder) {
    if (!Files.isDirectory(folder)) throw new CheckpointException("model folder " + folder + " does not exist");
    ModelConfig config = ModelConfig.read(folder.resolve("config.json"));
    Path generation = folder.resolve("generation_config.json");
    GenerationConfig generationConfig = Files.exists(generation)
        ? GenerationConfig.read(generation, config) : GenerationConfig.defaults(config);
    List<SafetensorsFile> files = new ArrayList<>();
    try {
      Map<String, SafetensorsFile> fileOf = Files.exists(folder.resolve("model.safetensors.index.json"))
          ? openSharded(folder, files) : openUnindexed(folder, files);
      return new Checkpoint(folder, config, generationConfig, List.copyOf(files), Collections.unmodifiableMap(fileOf));
    } catch (RuntimeException e) {
      files.forEach(SafetensorsFile::close);
      throw e;
    }
  }

  public Path folder() {
    return folder;
  }

  public ModelConfig config() {
    return config;
  }

  public GenerationConfig generationConfig() {
    return generationConfig;
  }

  /** All tensor names, in file order. */
  public Set<String> names() {
    return fileOf.keySet();
  }

  public boolean has(String name) {
    return fileOf.containsKey(name);
  }

  public TensorInfo info(String name) {
    return file(name).tensors().get(name);
  }

  /** The stored bytes, mapped: read-only, little-endian, zero copy. */
  public ByteBuffer raw(String name) {
    return file(name).raw(name);
  }

  /** The tensor as a direct little-endian f16 buffer (zero copy when stored as F16). */
  public ByteBuffer f16(String name) {
    return DTypes.toF16(info(name), raw(name));
  }

  /**
   * The same, converted into {@code reuse} when it is large enough (see {@link DTypes#toF16(TensorInfo, ByteBuffer,
   * ByteBuffer)}): for a caller that copies each tensor away before converting the next.
   */
  public ByteBuffer f16(String name, ByteBuffer reuse) {
    return DTypes.toF16(info(name), raw(name), reuse);
  }

  /** The tensor as a direct little-endian f32 buffer (zero copy when stored as F32). */
  public ByteBuffer f32(String name) {
    return DTypes.toF32(info(name), raw(name));
  }

  public void expectShape(String name, long... shape) {
    TensorInfo info = info(name);
    if (!Arrays.equals(info.shape(), shape)) {
      throw new CheckpointException("tensor " + name + " in " + info.file() + " has shape " + info.shapeString()
          + ", expected " + Arrays.toString(shape));
    }
  }

  @Override
  public void close() {
    files.forEach(SafetensorsFile::close);
  }

  private SafetensorsFile file(String name) {
    SafetensorsFile file = fileOf.get(name);
    if (file == null) throw new CheckpointException("tensor " + name + " not found in " + folder);
    return file;
  }

  private static Map<String, SafetensorsFile> openSharded(Path folder, List<SafetensorsFile> files) {
    Path indexFile = folder.resolve("model.safetensors.index.json");
    JsonNode weightMap = JsonFiles.read(indexFile).path("weight_map");
    if (!weightMap.isObject()) throw new CheckpointException(indexFile + " has no weight_map object");
    Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
    Map<String, SafetensorsFile> fileOf = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = weightMap.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> entry = it.next();
      String shardName = entry.getValue().asText();
      SafetensorsFile shard = shards.computeIfAbsent(shardName, n -> {
        Path path = folder.resolve(n);
        if (!Files.isRegularFile(path)) throw new CheckpointException("shard " + n + " listed in " + indexFile + " is missing");
        SafetensorsFile opened = SafetensorsFile.open(path);
        files.add(opened);
        return opened;
      });
      if (!shard.tensors().containsKey(entry.getKey())) {
        throw new CheckpointException(indexFile + " places tensor " + entry.getKey() + " in " + shardName
            + ", but that file does not contain it");
      }
      fileOf.put(entry.getKey(), shard);
    }
    return fileOf;
  }

  private static Map<String, SafetensorsFile> openUnindexed(Path folder, List<SafetensorsFile> files) {
    List<Path> paths;
    Path single = folder.resolve("model.safetensors");
    if (Files.exists(single)) {
      paths = List.of(single);
    } else {
      try (Stream<Path> listing = Files.list(folder)) {
        paths = listing.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList();
      } catch (IOException e) {
        throw new CheckpointException("cannot list " + folder + ": " + e, e);
      }
    }
    if (paths.isEmpty()) throw new CheckpointException("no .safetensors files in " + folder);
    Map<String, SafetensorsFile> fileOf = new LinkedHashMap<>();
    for (Path path : paths) {
      SafetensorsFile file = SafetensorsFile.open(path);
      files.add(file);
      for (String name : file.tensors().keySet()) {
        SafetensorsFile previous = fileOf.put(name, file);
        if (previous != null) {
          throw new CheckpointException("tensor " + name + " appears in both " + previous.path() + " and " + path);
        }
      }
    }
    return fileOf;
  }
}
