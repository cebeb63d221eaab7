package barista.server.generation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class ReasoningParserTest {

  /** Feeds the deltas and finishes; returns {reasoning, content} joined. */
  private static String[] run(List<String> deltas) {
    ReasoningParser parser = new ReasoningParser();
    StringBuilder reasoning = new StringBuilder();
    StringBuilder content = new StringBuilder();
    for (String delta : deltas) add(parser.feed(delta), reasoning, content);
    add(parser.finish(), reasoning, content);
    return new String[] {reasoning.toString(), content.toString()};
  }

  private static void add(ReasoningParser.Split split, StringBuilder reasoning, StringBuilder content) {
    if (split.reasoning() != null) reasoning.append(split.reasoning());
    if (split.content() != null) content.append(split.content());
  }

  @Test
  void promptOpenedTheThinkTag() {
    String[] out = run(List.of("I think", " so.</think>", "\n\nYes."));
    assertEquals("I think so.", out[0]);
    assertEquals("\n\nYes.", out[1]);
  }

  @Test
  void modelEmitsTheOpeningTagItself() {
    String[] out = run(List.of("<think>", "\nhm", "</think>ok"));
    assertEquals("\nhm", out[0]);
    assertEquals("ok", out[1]);
  }

  @Test
  void tagsSplitAcrossDeltas() {
    String[] out = run(List.of("<", "thi", "nk>", "why", "</", "thi", "nk", ">", "because"));
    assertEquals("why", out[0]);
    assertEquals("because", out[1]);
  }

  @Test
  void heldBackTextThatIsNotATagIsReleased() {
    ReasoningParser parser = new ReasoningParser();
    ReasoningParser.Split held = parser.feed("a </th");
    assertEquals("a ", held.reasoning(), "the possible tag start waits");
    assertEquals("</thing>", parser.feed("ing>").reasoning());
    assertEquals("x", parser.feed("x").reasoning());
    assertFalse(parser.reasoningEnded());
  }

  @Test
  void noClosingTagMeansAllReasoning() {
    String[] out = run(List.of("thinking </thi"));
    assertEquals("thinking </thi", out[0]);
    assertEquals("", out[1]);
  }

  @Test
  void afterTheTagEverythingIsContentEvenTags() {
    ReasoningParser parser = new ReasoningParser();
    ReasoningParser.Split split = parser.feed("r</think>c</think>");
    assertEquals("r", split.reasoning());
    assertEquals("c</think>", split.content());
    assertTrue(parser.reasoningEnded());
    assertEquals("<think>", parser.feed("<think>").content());
    assertNull(parser.finish().reasoning());
  }

  @Test
  void emptyReasoningBeforeTheTag() {
    ReasoningParser.Split split = new ReasoningParser().feed("</think>answer");
    assertNull(split.reasoning());
    assertEquals("answer", split.content());
  }
}
