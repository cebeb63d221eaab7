package barista.server.openai;

import barista.server.http.ApiException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * Typed reads of a JSON object's fields: a field that is absent or null reads as null, a field of the wrong type is
 * a 400 naming it. Remembers which fields were read, so the unknown ones can be logged.
 */
public final class JsonFields {
  private final ObjectNode object;
  private final String prefix;
  private final Set<String> read = new HashSet<>();

  public JsonFields(ObjectNode object) {
    this(object, "");
  }

  private JsonFields(ObjectNode object, String prefix) {
    this.object = object;
    this.prefix = prefix;
  }

  /** The full name of a field for messages and the error's "param", e.g. "stream_options.include_usage". */
  public String name(String field) {
    return prefix + field;
  }

  /** The names of the object's fields, in order. */
  public List<String> fieldNames() {
    List<String> names = new ArrayList<>();
    object.fieldNames().forEachRemaining(names::add);
    return names;
  }

  public boolean has(String field) {
    return node(field) != null;
  }

  /** The raw node, or null when absent or JSON null. */
  public JsonNode node(String field) {
    read.add(field);
    JsonNode node = object.get(field);
    return node == null || node.isNull() ? null : node;
  }

  public String string(String field) {
    JsonNode node = node(field);
    if (node == null) return null;
    if (!node.isTextual()) throw wrongType(field, "a string", node);
    return node.asText();
  }

  public Double number(String field) {
    JsonNode node = node(field);
    if (node == null) return null;
    if (!node.isNumber()) throw wrongType(field, "a number", node);
    return node.asDouble();
  }

  public Integer integer(String field) {
    Long value = longInteger(field);
    if (value == null) return null;
    if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
      throw ApiException.badRequest(name(field) + " is out of range: " + value, name(field));
    }
    return value.intValue();
  }

  /** Integers; a float with an integral value (2.0) is accepted, as pydantic does. */
  public Long longInteger(String field) {
    JsonNode node = node(field);
    if (node == null) return null;
    if (!node.isNumber() || !node.canConvertToExactIntegral()) throw wrongType(field, "an integer", node);
    if (!node.canConvertToLong()) {
      throw ApiException.badRequest(name(field) + " is out of range: it must be between " + Long.MIN_VALUE + " and "
          + Long.MAX_VALUE + ", got " + node.asText(), name(field));
    }
    return node.asLong();
  }

  public Boolean bool(String field) {
    JsonNode node = node(field);
    if (node == null) return null;
    if (!node.isBoolean()) throw wrongType(field, "a boolean", node);
    return node.asBoolean();
  }

  public boolean bool(String field, boolean absent) {
    Boolean value = bool(field);
    return value == null ? absent : value;
  }

  public ArrayNode array(String field) {
    JsonNode node = node(field);
    if (node == null) return null;
    if (!node.isArray()) throw wrongType(field, "an array", node);
    return (ArrayNode) node;
  }

  public JsonFields object(String field) {
    JsonNode node = node(field);
    if (node == null) return null;
    if (!node.isObject()) throw wrongType(field, "an object", node);
    return new JsonFields((ObjectNode) node, name(field) + ".");
  }

  /** A string or a list of strings (as OpenAI's "stop"); null when absent. */
  public List<String> stringOrStrings(String field) {
    JsonNode node = node(field);
    if (node == null) return null;
    if (node.isTextual()) return List.of(node.asText());
    if (!node.isArray()) throw wrongType(field, "a string or an array of strings", node);
    List<String> values = new ArrayList<>();
    for (JsonNode item : node) {
      if (!item.isTextual()) throw wrongType(field, "a string or an array of strings", node);
      values.add(item.asText());
    }
    return values;
  }

  public List<Integer> integers(String field) {
    JsonNode node = node(field);
    if (node == null) return null;
    if (!node.isArray()) throw wrongType(field, "an array of integers", node);
    List<Integer> values = new ArrayList<>();
    for (JsonNode item : node) {
      if (!item.isIntegralNumber() || !item.canConvertToInt()) throw wrongType(field, "an array of integers", node);
      values.add(item.asInt());
    }
    return values;
  }

  /** The fields present in the object that nobody read; a JSON null counts as absent. */
  public List<String> unread() {
    List<String> unread = new ArrayList<>();
    for (Iterator<String> names = object.fieldNames(); names.hasNext(); ) {
      String field = names.next();
      if (!read.contains(field) && !object.get(field).isNull()) unread.add(name(field));
    }
    return unread;
  }

  private ApiException wrongType(String field, String expected, JsonNode got) {
    return ApiException.badRequest(
        name(field) + " must be " + expected + ", got " + got.getNodeType().toString().toLowerCase(), name(field));
  }
}
