package barista.engine.tokenizer;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Renders each conversation of fixtures/chat-template (made by scripts/make-template-fixtures.py with Jinja2). */
class ChatTemplateTest {

  private static final String BOS = "<｜begin▁of▁sentence｜>";
  private static final String EOS = "<｜end▁of▁sentence｜>";

  static Stream<String> fixtures() throws IOException, URISyntaxException {
    Path dir = fixtureDir();
    try (Stream<Path> files = Files.list(dir)) {
      List<String> names = files.map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".json")).map(n -> n.substring(0, n.length() - 5)).sorted().toList();
      assertTrue(names.size() >= 10, "expected the chat template fixtures in " + dir);
      return names.stream();
    }
  }

  @ParameterizedTest
  @MethodSource("fixtures")
  void rendersLikeJinja2(String name) throws Exception {
    Path dir = fixtureDir();
    JsonNode inputs = new ObjectMapper().readTree(dir.resolve(name + ".json").toFile());
    List<Map<String, Object>> messages =
        new ObjectMapper().convertValue(inputs.get("messages"), new TypeReference<>() {});
    String source = inputs.has("source") ? inputs.get("source").asText() : revision(inputs.get("template").asText());
    ChatTemplate template = new ChatTemplate(source, BOS, EOS);

    Map<String, Object> extra = inputs.has("tools")
        ? Map.of("tools", new ObjectMapper().convertValue(inputs.get("tools"), new TypeReference<List<Object>>() {}))
        : Map.of();
    String rendered = template.render(messages, inputs.get("add_generation_prompt").asBoolean(), extra);

    byte[] expected = Files.readAllBytes(dir.resolve(name + ".txt"));
    assertEquals(new String(expected, StandardCharsets.UTF_8), rendered);
    assertArrayEquals(expected, rendered.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void raiseExceptionFailsTheRender() {
    ChatTemplate template = new ChatTemplate(
        "{% if messages[0]['role'] != 'user' %}{{ raise_exception('first turn must be the user') }}{% endif %}ok",
        BOS, EOS);

    ChatTemplate.Rejected error = assertThrows(ChatTemplate.Rejected.class,
        () -> template.render(List.of(Map.of("role", "assistant", "content", "hi")), false, Map.of()));
    assertEquals("chat template: first turn must be the user", error.getMessage());
    assertEquals("ok", template.render(List.of(Map.of("role", "user", "content", "hi")), false, Map.of()));
  }

  @Test
  void aRenderFailureIsNotARejection() {
    // Calling a string as a function is a fatal render error, not the template's raise_exception: callers (the
    // fuzz test) must be able to tell a broken template from a deliberate refusal.
    ChatTemplate template = new ChatTemplate("{{ messages[0]['content']() }}", BOS, EOS);

    IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
        () -> template.render(List.of(Map.of("role", "user", "content", "hi")), false, Map.of()));
    assertFalse(error instanceof ChatTemplate.Rejected, error.toString());
    assertTrue(error.getMessage().startsWith("chat template: "), error.getMessage());
  }

  @Test
  void extraVariablesReachTheTemplate() {
    ChatTemplate template = new ChatTemplate("{{ bos_token }}{{ greeting }}{{ eos_token }}", BOS, EOS);

    assertEquals(BOS + "hello" + EOS, template.render(List.of(), false, Map.of("greeting", "hello")));
  }

  @Test
  void messageTextIsNeverRenderedAsTemplateCode() {
    ChatTemplate template = new ChatTemplate("{% for m in messages %}[{{ m['content'] }}]{% endfor %}", BOS, EOS);
    String code = "{{ 7*7 }}{% for i in range(3) %}x{% endfor %}{{ raise_exception('injected') }}";

    assertEquals("[" + code + "]", template.render(List.of(Map.of("role", "user", "content", code)), false, Map.of()));
  }

  @Test
  void developerMessageRendersAsSystemWhenTheTemplateKnowsNoDeveloperRole() throws IOException {
    ChatTemplate r1 = new ChatTemplate(revision("feb2025"), BOS, EOS);
    Map<String, Object> user = Map.of("role", "user", "content", "What is 2 + 2?");
    String instructions = "Answer in French.";

    String asDeveloper = r1.render(List.of(Map.of("role", "developer", "content", instructions), user), true, Map.of());
    String asSystem = r1.render(List.of(Map.of("role", "system", "content", instructions), user), true, Map.of());

    assertEquals(asSystem, asDeveloper);
    assertTrue(asDeveloper.contains(instructions), asDeveloper);
    assertTrue(!asDeveloper.equals(r1.render(List.of(user), true, Map.of())), "the instructions must not vanish");
  }

  @Test
  void aTemplateWithADeveloperRoleSeesItUnchanged() {
    ChatTemplate template = new ChatTemplate(
        "{% for m in messages %}{% if m['role'] == 'developer' %}D:{% else %}{{ m['role'] }}:{% endif %}"
            + "{{ m['content'] }};{% endfor %}", BOS, EOS);

    assertEquals("D:be brief;user:hi;", template.render(List.of(Map.of("role", "developer", "content", "be brief"),
        Map.of("role", "user", "content", "hi")), false, Map.of()));
  }

  private static Path fixtureDir() throws URISyntaxException {
    return Path.of(ChatTemplateTest.class.getResource("/fixtures/chat-template").toURI());
  }

  private static String revision(String revision) throws IOException {
    try (InputStream in = ChatTemplate.class.getResourceAsStream("/barista/r1-distill/chat-template." + revision + ".jinja")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
