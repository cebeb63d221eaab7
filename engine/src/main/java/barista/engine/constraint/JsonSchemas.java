package barista.engine.constraint;

import barista.engine.sampling.RefusedRequestException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dk.brics.automaton.Automaton;
import dk.brics.automaton.State;
import dk.brics.automaton.Transition;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * JSON schemas (a subset) as automata over compact JSON text, the way Outlines turns a schema into a regular
 * expression (our own writing, building brics automata directly instead of a regex string). No whitespace is free
 * (as xgrammar with any-whitespace off), object members come in the schema's property order, nesting is bounded.
 *
 * <p>Supported: {@code type} (one or a list), {@code properties}, {@code required}, {@code additionalProperties:
 * false}, {@code items}, {@code enum}, {@code const}, {@code anyOf}, {@code minItems}/{@code maxItems},
 * {@code minLength}/{@code maxLength}, {@code $ref} to {@code $defs} (or {@code definitions}) without recursion,
 * the keywords of {@link SchemaKeywords} (numeric bounds, {@code pattern}, {@code format}, {@code nullable}, and
 * property counts and {@code uniqueItems} where they hold anyway), and the annotations that do not constrain
 * ({@code title}, {@code description}, ...). Any other keyword: RefusedRequestException naming it. Strings hold characters of the Basic Multilingual Plane; numbers have
 * at most 16 integer and 16 fraction digits and a two-digit exponent, so every value parses as a double.
 */
public final class JsonSchemas {
  /** How deep values nest where the schema leaves them free (json_object, an object without properties). */
  public static final int FREE_DEPTH = 4;
  static final int MAX_SCHEMA_DEPTH = 32;
  static final int MAX_LENGTH = 1024;
  static final int MAX_ITEMS = 256;

  private static final Set<String> KEYWORDS = union(Set.of("type", "properties", "required",
      "additionalProperties", "items", "enum", "const", "anyOf", "minItems", "maxItems", "minLength", "maxLength",
      "$ref", "$defs", "definitions"), SchemaKeywords.KEYWORDS);
  private static final Set<String> ANNOTATIONS = Set.of("title", "description", "$schema", "$id", "$comment",
      "examples", "default", "deprecated", "readOnly", "writeOnly");
  private static final ObjectMapper JSON = new ObjectMapper();

  private final JsonNode root;
  private final Deque<String> refs = new ArrayDeque<>();

  private JsonSchemas(JsonNode root) {
    this.root = root;
  }

  /** The compact JSON texts valid under the schema. */
  public static Automaton compile(JsonNode schema) {
    if (schema == null || !(schema.isObject() || schema.isBoolean())) {
      throw new IllegalArgumentException("a JSON schema must be an object");
    }
    return new JsonSchemas(schema).value(schema, "", 0);
  }

  /** Any JSON object (OpenAI's json_object), nested at most {@link #FREE_DEPTH} deep. */
  public static Automaton anyObject() {
    return freeObject(FREE_DEPTH);
  }

  /**
   * A list of tool calls, {@code [{"name":NAME,"parameters":ARGS},...]} (the shape vLLM constrains tool_choice
   * "required" to), each call one of the functions with arguments valid under its parameter schema (null: any
   * object); one call only unless {@code parallel}.
   */
  public static Automaton toolCalls(List<String> names, List<JsonNode> parameterSchemas, boolean parallel) {
    List<Automaton> calls = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      JsonNode schema = parameterSchemas.get(i);
      Automaton args = schema == null ? anyObject() : compile(schema);
      calls.add(Automaton.makeString("{\"name\":").concatenate(literal(JSON.getNodeFactory().textNode(names.get(i))))
          .concatenate(Automaton.makeString(",\"parameters\":")).concatenate(args)
          .concatenate(Automaton.makeChar('}')));
    }
    Automaton call = Automaton.union(calls);
    Automata.minimize(call);
    return list("[", call, "]", 1, parallel ? -1 : 1);
  }

  private Automaton value(JsonNode s, String path, int depth) {
    if (depth > MAX_SCHEMA_DEPTH) {
      throw new RefusedRequestException("depth", "the schema nests deeper than " + MAX_SCHEMA_DEPTH
          + " levels at " + where(path));
    }
    if (s.isBoolean()) {
      if (s.asBoolean()) return freeValue(FREE_DEPTH);
      throw new IllegalArgumentException("the schema at " + where(path) + " is false: nothing is valid");
    }
    if (!s.isObject()) throw new IllegalArgumentException("the schema at " + where(path) + " must be an object");
    for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!KEYWORDS.contains(k) && !ANNOTATIONS.contains(k)) {
        throw new RefusedRequestException(k, "JSON schema keyword '" + k + "' (at " + where(path)
            + ") is not supported; supported: " + String.join(", ", new java.util.TreeSet<>(KEYWORDS)));
      }
    }
    List<Automaton> facets = new ArrayList<>();
    if (s.has("$ref")) facets.add(ref(s.get("$ref"), path, depth));
    if (s.has("const")) facets.add(literal(s.get("const")));
    if (s.has("enum")) {
      JsonNode values = s.get("enum");
      if (!values.isArray() || values.isEmpty()) throw bad(path, "enum must be a non-empty array");
      List<String> options = new ArrayList<>();
      for (JsonNode v : values) options.add(text(v));
      facets.add(Automata.strings(options)); // linear in the values: 10,000 of them in milliseconds
    }
    if (s.has("anyOf")) {
      JsonNode options = s.get("anyOf");
      if (!options.isArray() || options.isEmpty()) throw bad(path, "anyOf must be a non-empty array");
      List<Automaton> list = new ArrayList<>();
      for (int i = 0; i < options.size(); i++) list.add(value(options.get(i), path + "/anyOf/" + i, depth + 1));
      facets.add(Automaton.union(list));
    }
    if (s.has("type")) {
      JsonNode type = s.get("type");
      List<Automaton> types = new ArrayList<>();
      if (type.isTextual()) {
        types.add(typed(type.asText(), s, path, depth));
      } else if (type.isArray() && !type.isEmpty()) {
        for (JsonNode t : type) {
          if (!t.isTextual()) throw bad(path, "type must be a string or a list of strings");
          types.add(typed(t.asText(), s, path, depth));
        }
      } else {
        throw bad(path, "type must be a string or a non-empty list of strings");
      }
      facets.add(types.size() == 1 ? types.get(0) : Automaton.union(types));
    } else if (facets.isEmpty()) {
      for (String k : SchemaKeywords.KEYWORDS) {
        if (s.has(k) && !k.equals("nullable")) {
          throw new RefusedRequestException(k, "JSON schema keyword '" + k + "' (at " + where(path)
              + ") is supported only beside a type");
        }
      }
      facets.add(s.has("properties") ? typed("object", s, path, depth) : s.has("items") ? typed("array", s, path,
          depth) : freeValue(FREE_DEPTH));
    }
    Automaton a = facets.get(0);
    for (int i = 1; i < facets.size(); i++) {
      Regexes.checkRepeat(a, facets.get(i).getNumberOfStates()); // an intersection is at most the product
      a = a.intersection(facets.get(i));
    }
    if (SchemaKeywords.nullable(s, path)) a = a.union(Automaton.makeString("null"));
    if (!a.isDeterministic()) Automata.minimize(a); // the builders' own automata are deterministic already
    if (a.isEmpty()) throw bad(path, "no JSON value satisfies the schema");
    return a;
  }

  private Automaton ref(JsonNode ref, String path, int depth) {
    if (!ref.isTextual()) throw bad(path, "$ref must be a string");
    String r = ref.asText();
    String name;
    JsonNode target;
    if (r.startsWith("#/$defs/")) {
      name = r.substring(8);
      target = root.path("$defs").get(name);
    } else if (r.startsWith("#/definitions/")) {
      name = r.substring(14);
      target = root.path("definitions").get(name);
    } else if (r.equals("#")) {
      throw new RefusedRequestException("$ref", "recursive $ref '#' is not supported");
    } else {
      throw new RefusedRequestException("$ref", "$ref '" + r + "' is not supported: only #/$defs/NAME");
    }
    if (target == null) throw bad(path, "$ref '" + r + "' points to nothing");
    if (refs.contains(r)) {
      throw new RefusedRequestException("$ref", "recursive $ref '" + r + "' is not supported");
    }
    refs.push(r);
    try {
      return value(target, r.substring(1), depth + 1);
    } finally {
      refs.pop();
    }
  }

  private Automaton typed(String type, JsonNode s, String path, int depth) {
    switch (type) {
      case "null": return Automaton.makeString("null");
      case "boolean": return Automaton.makeString("true").union(Automaton.makeString("false"));
      case "integer": return SchemaKeywords.integer(SchemaKeywords.bounds(s, path));
      case "number": return SchemaKeywords.number(SchemaKeywords.bounds(s, path));
      case "string": {
        Automaton a = string(count(s, "minLength", 0, MAX_LENGTH, path), count(s, "maxLength", -1, MAX_LENGTH,
            path));
        Automaton narrowed = SchemaKeywords.string(s, path);
        return narrowed == null ? a : a.intersection(narrowed);
      }
      case "array": return array(s, path, depth);
      case "object": return object(s, path, depth);
      default: throw bad(path, "unknown type '" + type + "'");
    }
  }

  private Automaton array(JsonNode s, String path, int depth) {
    int min = count(s, "minItems", 0, MAX_ITEMS, path);
    int max = count(s, "maxItems", -1, MAX_ITEMS, path);
    if (max >= 0 && max < min) throw bad(path, "maxItems is below minItems");
    SchemaKeywords.checkUniqueItems(s, max, path);
    Automaton item = s.has("items") ? value(s.get("items"), path + "/items", depth + 1) : freeValue(FREE_DEPTH - 1);
    return list("[", item, "]", min, max);
  }

  private Automaton object(JsonNode s, String path, int depth) {
    JsonNode additional = s.get("additionalProperties");
    JsonNode properties = s.get("properties");
    if (properties != null && !properties.isObject()) throw bad(path, "properties must be an object");
    if (additional != null && !(additional.isBoolean() && !additional.asBoolean())
        && !(additional.isBoolean() && properties == null)) {
      throw new RefusedRequestException("additionalProperties", "additionalProperties other than false is "
          + "not supported (at " + where(path) + ")");
    }
    Set<String> required = new HashSet<>();
    JsonNode req = s.get("required");
    if (req != null) {
      if (!req.isArray()) throw bad(path, "required must be an array of names");
      for (JsonNode r : req) {
        if (!r.isTextual()) throw bad(path, "required must be an array of names");
        required.add(r.asText());
      }
    }
    boolean closed = additional != null && !additional.asBoolean(); // only false reaches here with properties
    SchemaKeywords.checkPropertyCounts(s, properties == null ? 0 : properties.size(), required.size(), closed, path);
    if (properties == null) {
      if (!required.isEmpty()) throw bad(path, "required names properties that are not defined");
      return additional == null || additional.asBoolean() ? freeObject(FREE_DEPTH - 1) : Automaton.makeString("{}");
    }
    List<Automaton> members = new ArrayList<>();
    List<Boolean> isRequired = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = properties.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> p = it.next();
      Automaton v = value(p.getValue(), path + "/properties/" + p.getKey(), depth + 1);
      members.add(literal(JSON.getNodeFactory().textNode(p.getKey())).concatenate(Automaton.makeChar(':'))
          .concatenate(v));
      isRequired.add(required.remove(p.getKey()));
    }
    if (!required.isEmpty()) throw bad(path, "required names properties that are not defined: " + required);
    return members(members, isRequired);
  }

  /**
   * {@code {} members {@code }} in order, each optional one may be left out. Built as one automaton in which every
   * member appears once, entered by an empty move before any other member and by a comma after one, joined by empty
   * moves, then made deterministic once: linear in the members where minimizing after each one was quadratic
   * (docs/reliability.md).
   */
  private static Automaton members(List<Automaton> members, List<Boolean> isRequired) {
    int n = members.size();
    // node[i][c]: before member i; c = 1 once a member has been written, so a comma must come first.
    State[][] node = new State[n + 1][2];
    for (State[] pair : node) {
      pair[0] = new State();
      pair[1] = new State();
    }
    Map<State, List<State>> empty = new HashMap<>();
    for (int i = 0; i < n; i++) {
      CompileBudget.check();
      Automaton member = members.get(i); // built for this object alone: changed in place
      member.setInfo(null);
      member.expandSingleton();
      State entry = member.getInitialState();
      node[i][1].addTransition(new Transition(',', entry));
      empty.computeIfAbsent(node[i][0], k -> new ArrayList<>()).add(entry);
      for (State end : member.getAcceptStates()) {
        end.setAccept(false);
        empty.computeIfAbsent(end, k -> new ArrayList<>()).add(node[i + 1][1]);
      }
      if (!isRequired.get(i)) {
        for (int c = 0; c < 2; c++) empty.computeIfAbsent(node[i][c], k -> new ArrayList<>()).add(node[i + 1][c]);
      }
    }
    State start = new State();
    State done = new State();
    done.setAccept(true);
    start.addTransition(new Transition('{', node[0][0]));
    node[n][0].addTransition(new Transition('}', done));
    node[n][1].addTransition(new Transition('}', done));
    Automaton a = new Automaton();
    a.setInitialState(start);
    a.setDeterministic(false);
    Automata.minimize(a, empty);
    return a;
  }

  /** open item (, item)* close with min..max items (max -1: unbounded). */
  private static Automaton list(String open, Automaton item, String close, int min, int max) {
    Regexes.checkRepeat(item, Math.max(min, max));
    Automaton more = Automaton.makeChar(',').concatenate(item);
    Automaton body;
    if (max == 0) {
      body = Automaton.makeEmptyString();
    } else {
      Automaton tail = max < 0 ? more.repeat(Math.max(0, min - 1)) : more.repeat(Math.max(0, min - 1), max - 1);
      body = item.concatenate(tail);
      if (min == 0) body = body.optional();
    }
    Automaton a = Automaton.makeString(open).concatenate(body).concatenate(Automaton.makeString(close));
    Automata.minimize(a);
    return a;
  }

  private static Automaton freeValue(int depth) {
    Automaton scalar = Automaton.union(List.of(string(0, -1), number(), Automaton.makeString("true"),
        Automaton.makeString("false"), Automaton.makeString("null")));
    if (depth <= 0) return scalar;
    Automaton a = Automaton.union(List.of(scalar, freeObject(depth), list("[", freeValue(depth - 1), "]", 0, -1)));
    Automata.minimize(a);
    return a;
  }

  private static Automaton freeObject(int depth) {
    Automaton member = string(0, -1).concatenate(Automaton.makeChar(':')).concatenate(freeValue(depth - 1));
    return list("{", member, "}", 0, -1);
  }

  /**
   * A JSON string of min..max characters (max -1: unbounded), an escape counting as one. Built state by state as
   * a DFA (position i, and the escape states after it): brics's repeat(min, max) of a char automaton took a minute
   * to determinize at maxLength 4096.
   */
  static Automaton string(int min, int max) {
    int positions = max < 0 ? Math.max(min, 0) + 1 : max + 1; // with max -1 the last position loops
    dk.brics.automaton.State accept = new dk.brics.automaton.State();
    accept.setAccept(true);
    dk.brics.automaton.State[] at = new dk.brics.automaton.State[positions];
    for (int i = 0; i < positions; i++) at[i] = new dk.brics.automaton.State();
    for (int i = 0; i < positions; i++) {
      dk.brics.automaton.State next = i + 1 < positions ? at[i + 1] : max < 0 ? at[i] : null;
      if (i >= min) at[i].addTransition(new dk.brics.automaton.Transition('"', accept));
      if (next == null) continue;
      for (char[] range : new char[][] {{'\u0020', '\u0021'}, {'\u0023', '\u005b'}, {'\u005d', '\uffff'}}) {
        at[i].addTransition(new dk.brics.automaton.Transition(range[0], range[1], next));
      }
      dk.brics.automaton.State escape = new dk.brics.automaton.State();
      at[i].addTransition(new dk.brics.automaton.Transition('\\', escape));
      for (char c : "\"\\/bfnrt".toCharArray()) escape.addTransition(new dk.brics.automaton.Transition(c, next));
      dk.brics.automaton.State hex = next;
      for (int d = 0; d < 4; d++) { // \\uXXXX, built from the last digit back
        dk.brics.automaton.State digit = new dk.brics.automaton.State();
        digit.addTransition(new dk.brics.automaton.Transition('0', '9', hex));
        digit.addTransition(new dk.brics.automaton.Transition('a', 'f', hex));
        digit.addTransition(new dk.brics.automaton.Transition('A', 'F', hex));
        hex = digit;
      }
      escape.addTransition(new dk.brics.automaton.Transition('u', hex));
    }
    dk.brics.automaton.State start = new dk.brics.automaton.State();
    start.addTransition(new dk.brics.automaton.Transition('"', at[0]));
    Automaton a = new Automaton();
    a.setInitialState(start);
    a.setDeterministic(true);
    return a;
  }

  static Automaton integer() {
    Automaton digits = Automaton.makeCharRange('1', '9').concatenate(Automaton.makeCharRange('0', '9').repeat(0, 15));
    return Automaton.makeChar('-').optional().concatenate(Automaton.makeChar('0').union(digits));
  }

  private static final Automaton NUMBER = buildNumber();

  /** A JSON number (a copy: automata are changed in place by some operations). */
  static Automaton number() {
    return NUMBER.clone();
  }

  private static Automaton buildNumber() {
    Automaton digit = Automaton.makeCharRange('0', '9');
    Automaton fraction = Automaton.makeChar('.').concatenate(digit.repeat(1, 16)).optional();
    Automaton exponent = Automaton.makeCharSet("eE").concatenate(Automaton.makeCharSet("+-").optional())
        .concatenate(digit.repeat(1, 2)).optional();
    Automaton a = integer().concatenate(fraction).concatenate(exponent);
    Automata.minimize(a);
    return a;
  }

  private static Set<String> union(Set<String> a, java.util.Collection<String> b) {
    Set<String> all = new HashSet<>(a);
    all.addAll(b);
    return Set.copyOf(all);
  }

  private static Automaton literal(JsonNode value) {
    return Automaton.makeString(text(value));
  }

  private static String text(JsonNode value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("cannot write " + value, e);
    }
  }

  private static int count(JsonNode s, String keyword, int absent, int limit, String path) {
    JsonNode n = s.get(keyword);
    if (n == null) return absent;
    if (!n.canConvertToInt() || !n.isIntegralNumber() || n.asInt() < 0) {
      throw bad(path, keyword + " must be a non-negative integer");
    }
    if (n.asInt() > limit) {
      throw new RefusedRequestException(keyword, keyword + " above " + limit + " is not supported (at "
          + where(path) + ")");
    }
    return n.asInt();
  }

  static String where(String path) {
    return path.isEmpty() ? "the root" : path;
  }

  static IllegalArgumentException bad(String path, String message) {
    return new IllegalArgumentException("invalid JSON schema at " + where(path) + ": " + message);
  }
}
