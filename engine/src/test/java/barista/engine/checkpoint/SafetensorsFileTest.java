package barista.engine.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.engine.tools.SafetensorsWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class SafetensorsFileTest {

  @TempDir
  Path dir;

  @ParameterizedTest
  @EnumSource(DType.class)
  void writerAndReaderRoundTripEveryDType(DType dtype) throws IOException {
    List<SafetensorsWriter.Entry> entries = List.of(
        new SafetensorsWriter.Entry("a.weight", dtype, new long[] {3, 5}),
        new SafetensorsWriter.Entry("empty", dtype, new long[] {0, 4}),
        new SafetensorsWriter.Entry("scalar", dtype, new long[] {}),
        new SafetensorsWriter.Entry("b.bias", dtype, new long[] {7}));
    long total = entries.stream().mapToLong(SafetensorsWriter.Entry::byteLength).sum();
    byte[] data = new byte[(int) total];
    new Random(dtype.ordinal()).nextBytes(data);
    Path file = dir.resolve("t.safetensors");
    try (SafetensorsWriter writer = SafetensorsWriter.create(file, entries, Map.of("format", "pt"))) {
      for (int at = 0; at < data.length; at += 7) { // chunks that straddle tensor boundaries
        writer.write(ByteBuffer.wrap(data, at, Math.min(7, data.length - at)));
      }
    }

    try (SafetensorsFile st = SafetensorsFile.open(file)) {
      assertEquals(Map.of("format", "pt"), st.metadata());
      assertEquals(List.of("a.weight", "empty", "scalar", "b.bias"), List.copyOf(st.tensors().keySet()));
      int at = 0;
      for (SafetensorsWriter.Entry e : entries) {
        TensorInfo info = st.tensors().get(e.name());
        assertEquals(dtype, info.dtype());
        assertArrayEquals(e.shape(), info.shape());
        assertEquals(e.byteLength(), info.byteLength());
        ByteBuffer raw = st.raw(e.name());
        assertTrue(raw.isReadOnly());
        assertTrue(raw.isDirect());
        assertEquals(ByteOrder.LITTLE_ENDIAN, raw.order());
        byte[] read = new byte[raw.remaining()];
        raw.get(read);
        assertArrayEquals(java.util.Arrays.copyOfRange(data, at, at + read.length), read, e.name());
        at += read.length;
      }
      assertEquals(0, st.tensors().get("a.weight").offset() % 8, "data section is 8-byte aligned");
    }
  }

  @Test
  void rawIsLittleEndian() throws IOException {
    Path file = dir.resolve("f.safetensors");
    try (SafetensorsWriter writer = SafetensorsWriter.create(file,
        List.of(new SafetensorsWriter.Entry("x", DType.F32, new long[] {2})), Map.of())) {
      writer.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-2f).flip());
    }
    try (SafetensorsFile st = SafetensorsFile.open(file)) {
      ByteBuffer raw = st.raw("x");
      assertEquals(1.5f, raw.getFloat(0));
      assertEquals(-2f, raw.getFloat(4));
      assertTrue(st.metadata().isEmpty());
    }
  }

  @Test
  void truncatedFileErrorNamesFileAndTensor() throws IOException {
    Path file = dir.resolve("cut.safetensors");
    try (SafetensorsWriter writer = SafetensorsWriter.create(file, List.of(
        new SafetensorsWriter.Entry("first", DType.F16, new long[] {4}),
        new SafetensorsWriter.Entry("second", DType.F16, new long[] {4})), Map.of())) {
      writer.write(ByteBuffer.allocate(16));
    }
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      channel.truncate(channel.size() - 1);
    }
    CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(file));
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("tensor second"), e.getMessage());
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    assertFalse(e.getMessage().contains("\n"));
  }

  @Test
  void rejectsAbsurdHeaderLength() throws IOException {
    Path file = dir.resolve("bad.safetensors");
    Files.write(file, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).array());
    CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(file));
    assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("header length"), e.getMessage());
  }

  @Test
  void rejectsUnknownDType() throws IOException {
    Path file = rawFile("{\"x\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1);
    CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(file));
    assertTrue(e.getMessage().contains("tensor x") && e.getMessage().contains("F8_E4M3"), e.getMessage());
  }

  @Test
  void rejectsByteLengthThatDisagreesWithShape() throws IOException {
    Path file = rawFile("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4);
    CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(file));
    assertTrue(e.getMessage().contains("tensor x") && e.getMessage().contains("needs 8"), e.getMessage());
  }

  @Test
  void rejectsUnreadableHeader() throws IOException {
    Path file = rawFile("{not json", 0);
    CheckpointException e = assertThrows(CheckpointException.class, () -> SafetensorsFile.open(file));
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
  }

  @Test
  void writerChecksThatEveryDeclaredByteArrives() throws IOException {
    List<SafetensorsWriter.Entry> entries = List.of(new SafetensorsWriter.Entry("w", DType.I8, new long[] {4}));
    SafetensorsWriter shortWriter = SafetensorsWriter.create(dir.resolve("short.safetensors"), entries, Map.of());
    shortWriter.write(ByteBuffer.allocate(3));
    IllegalStateException missing = assertThrows(IllegalStateException.class, shortWriter::close);
    assertTrue(missing.getMessage().contains("tensor w got 3 of 4 bytes"), missing.getMessage());

    try (SafetensorsWriter longWriter = SafetensorsWriter.create(dir.resolve("long.safetensors"), entries, Map.of())) {
      assertThrows(IllegalStateException.class, () -> longWriter.write(ByteBuffer.allocate(5)));
      longWriter.write(ByteBuffer.allocate(4));
    }
  }

  /** A file with a hand-written header followed by dataBytes zero bytes. */
  private Path rawFile(String header, int dataBytes) throws IOException {
    byte[] json = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(json.length).put(json);
    Path file = dir.resolve("raw.safetensors");
    Files.write(file, b.array());
    return file;
  }
}
