package barista.engine.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reading the JSON files of a model folder, with errors that name the file and field. */
final class JsonFiles {

  static final ObjectMapper MAPPER = new ObjectMapper();

  private JsonFiles() {}

  static JsonNode read(Path file) {
    if (!Files.isRegularFile(file)) throw new CheckpointException("missing " + file);
    try {
      JsonNode node = MAPPER.readTree(file.toFile());
      if (node == null || !node.isObject()) throw new CheckpointException(file + " is not a JSON object");
      return node;
    } catch (IOException e) {
      throw new CheckpointException("unreadable JSON in " + file + ": " + firstLine(e.getMessage()), e);
    }
  }

  static int requiredInt(JsonNode node, String field, String source) {
    JsonNode value = node.get(field);
    if (value == null || !value.canConvertToInt()) throw new CheckpointException(source + ": missing or invalid " + field);
    return value.intValue();
  }

  static int optionalInt(JsonNode node, String field, int fallback, String source) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) return fallback;
    if (!value.canConvertToInt()) throw new CheckpointException(source + ": invalid " + field + " " + value);
    return value.intValue();
  }

  static double optionalDouble(JsonNode node, String field, double fallback, String source) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) return fallback;
    if (!value.isNumber()) throw new CheckpointException(source + ": invalid " + field + " " + value);
    return value.doubleValue();
  }

  /** A token id field that may be a single int, a list of ints, or null/absent (empty list). */
  static List<Integer> tokenIds(JsonNode node, String field, String source) {
    JsonNode value = node.get(field);
    List<Integer> ids = new ArrayList<>();
    if (value == null || value.isNull()) return ids;
    if (value.canConvertToInt()) {
      ids.add(value.intValue());
    } else if (value.isArray()) {
      for (JsonNode id : value) {
        if (!id.canConvertToInt()) throw new CheckpointException(source + ": invalid " + field + " " + value);
        ids.add(id.intValue());
      }
    } else {
      throw new CheckpointException(source + ": invalid " + field + " " + value);
    }
    return List.copyOf(ids);
  }

  private static String firstLine(String message) {
    if (message == null) return "";
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }
}
