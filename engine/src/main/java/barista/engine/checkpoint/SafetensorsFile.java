package barista.engine.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A safetensors file read through memory maps: an 8-byte little-endian header length N, N bytes of JSON
 * header, then the raw little-endian tensor data. Each tensor is mapped on its own (a single map is limited
 * to 2 GB, files are larger), so nothing is copied onto the heap.
 */
public final class SafetensorsFile implements AutoCloseable {

  /** Real headers are a few hundred KB; anything this large is a corrupt or foreign file. */
  private static final long MAX_HEADER_BYTES = 100L << 20;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path path;
  private final FileChannel channel;
  private final Map<String, TensorInfo> tensors;
  private final Map<String, String> metadata;
  private final Map<String, ByteBuffer> mapped = new ConcurrentHashMap<>();

  private SafetensorsFile(Path path, FileChannel channel, Map<String, TensorInfo> tensors, Map<String, String> metadata) {
    this.path = path;
    this.channel = channel;
    this.tensors = tensors;
    this.metadata = metadata;
  }

  public static SafetensorsFile open(Path path) {
    FileChannel channel;
    try {
      channel = FileChannel.open(path, StandardOpenOption.READ);
    } catch (IOException e) {
      throw new CheckpointException("cannot open " + path + ": " + e, e);
    }
    try {
      long size = channel.size();
      if (size < 8) throw new CheckpointException(path + " is too short for a safetensors file (" + size + " bytes)");
      long headerLength = readFully(channel, 0, 8, path).order(ByteOrder.LITTLE_ENDIAN).getLong();
      if (headerLength <= 0 || headerLength > MAX_HEADER_BYTES || headerLength > size - 8) {
        throw new CheckpointException(path + " has an invalid safetensors header length " + headerLength
            + " (file size " + size + ")");
      }
      ByteBuffer headerBytes = readFully(channel, 8, (int) headerLength, path);
      JsonNode header;
      try {
        header = JSON.readTree(headerBytes.array());
      } catch (IOException e) {
        throw new CheckpointException(path + " has an unreadable safetensors header: " + e.getMessage(), e);
      }
      if (header == null || !header.isObject()) throw new CheckpointException(path + " has a safetensors header that is not a JSON object");
      long dataStart = 8 + headerLength;
      Map<String, TensorInfo> tensors = new LinkedHashMap<>();
      Map<String, String> metadata = new LinkedHashMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> field = it.next();
        if (field.getKey().equals("__metadata__")) {
          field.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
        } else {
          tensors.put(field.getKey(), tensorInfo(path, field.getKey(), field.getValue(), dataStart, size));
        }
      }
      return new SafetensorsFile(path, channel, Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
    } catch (IOException | RuntimeException e) {
      closeQuietly(channel, e);
      if (e instanceof CheckpointException ce) throw ce;
      throw new CheckpointException("cannot read " + path + ": " + e, e);
    }
  }

  public Path path() {
    return path;
  }

  /** Tensors by name, in header order. */
  public Map<String, TensorInfo> tensors() {
    return tensors;
  }

  /** The header's "__metadata__" entries (often {"format": "pt"}). */
  public Map<String, String> metadata() {
    return metadata;
  }

  /** The tensor's bytes: read-only, little-endian, mapped from the file (zero copy). */
  public ByteBuffer raw(String name) {
    TensorInfo info = tensors.get(name);
    if (info == null) throw new CheckpointException("tensor " + name + " not found in " + path);
    ByteBuffer map = mapped.computeIfAbsent(name, n -> map(info));
    return map.duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  /** Closes the file; buffers already returned stay valid until they are garbage collected. */
  @Override
  public void close() {
    try {
      channel.close();
    } catch (IOException e) {
      throw new CheckpointException("cannot close " + path + ": " + e, e);
    }
  }

  private ByteBuffer map(TensorInfo info) {
    try {
      return channel.map(FileChannel.MapMode.READ_ONLY, info.offset(), info.byteLength());
    } catch (IOException e) {
      throw new CheckpointException("cannot map tensor " + info.name() + " in " + path + ": " + e, e);
    }
  }

  private static TensorInfo tensorInfo(Path path, String name, JsonNode node, long dataStart, long fileSize) {
    String where = "tensor " + name + " in " + path;
    DType dtype = DType.fromHeader(node.path("dtype").asText());
    if (dtype == null) throw new CheckpointException(where + " has unknown dtype " + node.get("dtype"));
    JsonNode shapeNode = node.path("shape");
    JsonNode offsets = node.path("data_offsets");
    if (!shapeNode.isArray() || !offsets.isArray() || offsets.size() != 2) {
      throw new CheckpointException(where + " lacks a shape or a [begin, end] data_offsets pair");
    }
    long[] shape = new long[shapeNode.size()];
    for (int i = 0; i < shape.length; i++) {
      shape[i] = shapeNode.get(i).asLong(-1);
      if (shape[i] < 0) throw new CheckpointException(where + " has invalid shape " + shapeNode);
    }
    long begin = offsets.get(0).asLong(-1);
    long end = offsets.get(1).asLong(-1);
    if (begin < 0 || end < begin) throw new CheckpointException(where + " has invalid data_offsets " + offsets);
    long byteLength = end - begin;
    long expected = TensorInfo.numel(shape) * dtype.size();
    if (byteLength != expected) {
      throw new CheckpointException(where + " has " + byteLength + " bytes of data, but shape " + shapeNode
          + " of " + dtype + " needs " + expected);
    }
    if (dataStart + end > fileSize) {
      throw new CheckpointException(where + " is truncated: its data ends at byte " + (dataStart + end)
          + " but the file has " + fileSize + " bytes");
    }
    if (byteLength > Integer.MAX_VALUE) {
      throw new CheckpointException(where + " is larger than 2 GB (" + byteLength + " bytes), which cannot be mapped");
    }
    return new TensorInfo(name, dtype, shape, path, dataStart + begin, byteLength);
  }

  private static ByteBuffer readFully(FileChannel channel, long position, int length, Path path) throws IOException {
    ByteBuffer buffer = ByteBuffer.allocate(length);
    while (buffer.hasRemaining()) {
      if (channel.read(buffer, position + buffer.position()) < 0) {
        throw new CheckpointException(path + " ended inside its safetensors header");
      }
    }
    return buffer.flip();
  }

  private static void closeQuietly(FileChannel channel, Exception cause) {
    try {
      channel.close();
    } catch (IOException e) {
      cause.addSuppressed(e);
    }
  }
}
