package barista.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The vLLM flag table against ServeOptions and docs/vllm-differences.md. After changing the table, regenerate the
 * document's table with {@code mvn -B -q -pl config verify -Dtest=VllmFlagsTest -Dbarista.regenerateDocs=true}.
 */
class VllmFlagsTest {
  private static final String BEGIN = "<!-- vllm-flags:begin (generated from VllmFlags; VllmFlagsTest checks it) -->\n";
  private static final String END = "<!-- vllm-flags:end -->";

  @Test
  void everyNameIsListedOnce() {
    Set<String> seen = new HashSet<>();
    for (VllmFlag flag : VllmFlags.ALL) {
      for (String name : flag.names()) assertTrue(seen.add(name), name + " is listed twice");
      assertTrue(flag.name().startsWith("--"), flag.name());
      if (flag.answer() != VllmFlag.Answer.HONOURED) assertNotNull(flag.reason(), flag.name() + " has no reason");
    }
  }

  /** An honoured flag is one of ServeOptions' own options, shown in --help; the others are not declared there. */
  @Test
  void honouredFlagsAreServeOptionsOwn() {
    CommandLine.Model.CommandSpec declared = new CommandLine(new ServeOptions()).getCommandSpec();
    for (VllmFlag flag : VllmFlags.ALL) {
      OptionSpec option = declared.findOption(flag.name());
      if (flag.answer() == VllmFlag.Answer.HONOURED) {
        assertNotNull(option, flag.name() + " is documented as honoured but ServeOptions has no such option");
        for (String alias : flag.names()) assertNotNull(declared.findOption(alias), alias);
        assertFalse(option.hidden(), flag.name());
      } else if (option != null) {
        assertTrue(ServeOptions.parse(args(flag)).ignoredFlags().contains(flag.name()),
            flag.name() + " is ServeOptions' own, documented as no effect, but not reported as ignored");
      }
    }
  }

  @Test
  void noEffectFlagsAreReportedAndRefusedOnesSayWhy() {
    for (VllmFlag flag : VllmFlags.ALL) {
      switch (flag.answer()) {
        case HONOURED -> { }
        case NO_EFFECT, NO_EFFECT_FOR -> {
          List<String> ignored = ServeOptions.parse(args(flag)).ignoredFlags();
          boolean own = new CommandLine(new ServeOptions()).getCommandSpec().findOption(flag.name()) != null;
          String shown = flag.takesValue() && !own ? flag.name() + " " + flag.testValue() : flag.name();
          assertTrue(ignored.contains(shown), flag.name() + ": " + ignored);
        }
        case REFUSED -> {
          IllegalArgumentException e =
              assertThrows(IllegalArgumentException.class, () -> ServeOptions.parse(args(flag)));
          assertEquals("vLLM's " + flag.name() + " is not supported by barista: " + flag.reason(), e.getMessage());
        }
      }
      if (flag.answer() == VllmFlag.Answer.NO_EFFECT_FOR) {
        List<String> other = new ArrayList<>(List.of(flag.name(), "other"));
        other.addAll(flag.companions());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> ServeOptions.parse(other.toArray(String[]::new)));
        assertEquals("vLLM's " + flag.name() + " other is not supported by barista: " + flag.reason(), e.getMessage());
      }
    }
  }

  @Test
  void enableReasoningNeedsAReasoningParser() {
    assertEquals(List.of("--enable-reasoning"),
        ServeOptions.parse("--enable-reasoning", "--reasoning-parser", "deepseek_r1").ignoredFlags());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ServeOptions.parse("--enable-reasoning"));
    assertEquals("vLLM's --enable-reasoning is not supported by barista: it needs --reasoning-parser deepseek_r1",
        e.getMessage());
  }

  @Test
  void aliasesAndEqualsFormsAreRecognized() {
    assertEquals(List.of("--pipeline-parallel-size 1"), ServeOptions.parse("-pp", "1").ignoredFlags());
    assertEquals(List.of("--kv-cache-dtype auto"), ServeOptions.parse("--kv-cache-dtype=auto").ignoredFlags());
    assertEquals(List.of("--compilation-config 3"), ServeOptions.parse("-O", "3").ignoredFlags());
  }

  @Test
  void docsShowTheTable() throws IOException {
    Path doc = repoFile("docs/vllm-differences.md");
    String text = Files.readString(doc, StandardCharsets.UTF_8);
    int begin = text.indexOf(BEGIN);
    int end = text.indexOf(END);
    assertTrue(begin >= 0 && end > begin, "docs/vllm-differences.md has no " + BEGIN.strip() + " ... " + END);
    String generated = VllmFlags.markdownTable();
    String shown = text.substring(begin + BEGIN.length(), end);
    if (Boolean.getBoolean("barista.regenerateDocs")) {
      Files.writeString(doc, text.substring(0, begin + BEGIN.length()) + generated + text.substring(end),
          StandardCharsets.UTF_8);
      return;
    }
    assertEquals(generated, shown, "docs/vllm-differences.md's flag table is not VllmFlags' (regenerate it: see "
        + "this test's javadoc)");
  }

  /** The flag with its tested value and the flags it needs beside it. */
  static String[] args(VllmFlag flag) {
    List<String> args = new ArrayList<>(List.of(flag.name()));
    if (flag.testValue() != null) args.add(flag.testValue());
    args.addAll(flag.companions());
    return args.toArray(String[]::new);
  }

  private static Path repoFile(String name) {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path file = dir.resolve(name);
      if (Files.isRegularFile(file) && Files.isRegularFile(dir.resolve("pom.xml"))) return file;
    }
    throw new AssertionError(name + " not found above " + Path.of("").toAbsolutePath());
  }
}
