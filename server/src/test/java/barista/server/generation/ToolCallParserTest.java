package barista.server.generation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** The tool-call parsers fed whole and in random pieces: the same content and calls, the name before arguments. */
class ToolCallParserTest {
  private static final String R1 = "Let me look.<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>"
      + "get_weather\n```json\n{\"city\": \"Paris `x`\"}\n```<｜tool▁call▁end｜>\n<｜tool▁call▁begin｜>function"
      + "<｜tool▁sep｜>get_time\n```json\n{}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜> Done.";
  private static final String REQUIRED = "[{\"name\":\"get_weather\",\"parameters\":{\"city\":\"a}\\\"]b\","
      + "\"n\":[1,{\"x\":[]}]}},{\"name\":\"get_time\",\"parameters\":{}}]";

  private record Parsed(String content, JsonNode calls, int deltas) {}

  private static Parsed run(ToolCallParser parser, String text, Random random) {
    StringBuilder content = new StringBuilder();
    List<ObjectNode> deltas = new ArrayList<>();
    int at = 0;
    while (at < text.length()) {
      int n = random == null ? text.length() : 1 + random.nextInt(6);
      ToolCallParser.Delta d = parser.feed(text.substring(at, Math.min(text.length(), at + n)));
      at += n;
      if (d.content() != null) content.append(d.content());
      for (ObjectNode call : d.calls()) {
        if (call.has("id")) assertTrue(call.get("function").has("name"), "a call opens with its name: " + call);
        deltas.add(call);
      }
    }
    ToolCallParser.Delta d = parser.finish();
    if (d.content() != null) content.append(d.content());
    deltas.addAll(d.calls());
    JsonNode merged = ToolCallParser.merge(deltas);
    for (JsonNode call : merged) ((ObjectNode) call).remove("id");
    return new Parsed(content.toString(), merged, deltas.size());
  }

  private static void sameWholeAndPieces(Supplier<ToolCallParser> parser, String text, String content,
      String... callsNameThenArgs) {
    Parsed whole = run(parser.get(), text, null);
    assertEquals(content, whole.content());
    assertEquals(callsNameThenArgs.length / 2, whole.calls().size(), whole.calls().toString());
    for (int i = 0; i < whole.calls().size(); i++) {
      assertEquals(callsNameThenArgs[2 * i], whole.calls().get(i).get("function").get("name").asText());
      assertEquals(callsNameThenArgs[2 * i + 1], whole.calls().get(i).get("function").get("arguments").asText());
    }
    Random random = new Random(11);
    for (int trial = 0; trial < 200; trial++) {
      Parsed pieces = run(parser.get(), text, random);
      assertEquals(whole.content(), pieces.content());
      assertEquals(whole.calls(), pieces.calls());
    }
  }

  @Test
  void deepSeekV3ReadsR1ToolCallsHoweverTheTextIsSplit() {
    sameWholeAndPieces(ToolCallParser.DeepSeekV3::new, R1, "Let me look. Done.",
        "get_weather", "{\"city\": \"Paris `x`\"}", "get_time", "{}");
    assertTrue(run(new ToolCallParser.DeepSeekV3(), R1, new Random(1)).deltas() > 4, "arguments stream in pieces");
  }

  @Test
  void deepSeekV3LeavesTextThatIsNotACallAsContent() {
    sameWholeAndPieces(ToolCallParser.DeepSeekV3::new, "a <｜tool▁call b ``` <｜tool▁calls▁begin｜>oops",
        "a <｜tool▁call b ``` oops");
  }

  @Test
  void requiredReadsTheConstrainedListHoweverTheTextIsSplit() {
    sameWholeAndPieces(ToolCallParser.Required::new, REQUIRED, "",
        "get_weather", "{\"city\":\"a}\\\"]b\",\"n\":[1,{\"x\":[]}]}", "get_time", "{}");
  }

  @Test
  void namedMakesTheWholeOutputTheArguments() {
    sameWholeAndPieces(() -> new ToolCallParser.Named("f"), "{\"a\":1}", "", "f", "{\"a\":1}");
  }
}
