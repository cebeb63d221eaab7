package barista.engine.tools;

import barista.engine.checkpoint.DType;
import barista.engine.checkpoint.TensorInfo;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Writes a safetensors file as a stream: the tensors are declared up front (the header needs every offset),
 * then their bytes are written in declaration order, in chunks of any size. The file is never held in memory.
 */
public final class SafetensorsWriter implements AutoCloseable {

  /** One declared tensor. */
  public record Entry(String name, DType dtype, long[] shape) {
    public long byteLength() {
      return TensorInfo.numel(shape) * dtype.size();
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Path file;
  private final FileChannel channel;
  private final List<Entry> entries;
  private int current;
  private long remaining; // bytes still owed to entries[current]
  private long totalLeft; // bytes still owed to all entries

  private SafetensorsWriter(Path file, FileChannel channel, List<Entry> entries) {
    this.file = file;
    this.channel = channel;
    this.entries = entries;
    this.remaining = entries.isEmpty() ? 0 : entries.get(0).byteLength();
    this.totalLeft = entries.stream().mapToLong(Entry::byteLength).sum();
    skipEmpty();
  }

  /** Creates (or replaces) the file and writes its header. */
  public static SafetensorsWriter create(Path file, List<Entry> entries, Map<String, String> metadata) throws IOException {
    ObjectNode header = JSON.createObjectNode();
    if (!metadata.isEmpty()) header.set("__metadata__", JSON.valueToTree(metadata));
    long offset = 0;
    for (Entry e : entries) {
      if (header.has(e.name())) throw new IllegalArgumentException("tensor " + e.name() + " declared twice for " + file);
      ObjectNode t = header.putObject(e.name());
      t.put("dtype", e.dtype().name());
      Arrays.stream(e.shape()).forEach(t.putArray("shape")::add);
      t.putArray("data_offsets").add(offset).add(offset + e.byteLength());
      offset += e.byteLength();
    }
    byte[] json = JSON.writeValueAsBytes(header);
    // Pad with spaces so the data starts 8-byte aligned, as the reference implementation does.
    int padded = (json.length + 7) / 8 * 8;
    ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
    head.putLong(padded).put(json);
    while (head.hasRemaining()) head.put((byte) ' ');
    FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING);
    try {
      writeFully(channel, head.flip());
    } catch (IOException e) {
      channel.close();
      throw e;
    }
    return new SafetensorsWriter(file, channel, List.copyOf(entries));
  }

  /** Appends the buffer's remaining bytes (little-endian data) to the tensors, in declaration order. */
  public void write(ByteBuffer data) throws IOException {
    if (data.remaining() > totalLeft) {
      throw new IllegalStateException(file + ": " + data.remaining() + " bytes written past the end of the declared tensors");
    }
    while (data.hasRemaining()) {
      int n = (int) Math.min(data.remaining(), remaining);
      ByteBuffer part = data.duplicate();
      part.limit(part.position() + n);
      writeFully(channel, part);
      data.position(data.position() + n);
      remaining -= n;
      totalLeft -= n;
      skipEmpty();
    }
  }

  /** Closes the file; fails when a declared tensor did not get all its bytes. */
  @Override
  public void close() throws IOException {
    channel.close();
    if (current < entries.size()) {
      Entry e = entries.get(current);
      throw new IllegalStateException(file + ": tensor " + e.name() + " got " + (e.byteLength() - remaining)
          + " of " + e.byteLength() + " bytes");
    }
  }

  /** Moves past finished (and zero-length) tensors. */
  private void skipEmpty() {
    while (remaining == 0 && current < entries.size()) {
      current++;
      if (current < entries.size()) remaining = entries.get(current).byteLength();
    }
  }

  private static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
    while (buffer.hasRemaining()) channel.write(buffer);
  }
}
