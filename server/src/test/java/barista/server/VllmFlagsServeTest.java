package barista.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.config.ServeOptions;
import barista.config.VllmFlag;
import barista.config.VllmFlags;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/**
 * {@code barista serve} with each flag of docs/vllm-differences.md's table at its tested value (vLLM's default where
 * it has one), through the real command line: a refused flag exits 2 with the documented reason before anything
 * loads; any other gets through option checking and binding the port to loading the model (a loader that records
 * the options stands in for the engine), with a no-effect flag among those logged as ignored.
 */
class VllmFlagsServeTest {

  static Stream<VllmFlag> flags() {
    return VllmFlags.ALL.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("flags")
  void serveAnswersTheFlagAsDocumented(VllmFlag flag) {
    List<String> args = new ArrayList<>(List.of("serve", flag.name()));
    boolean port = flag.name().equals("--port");
    if (flag.testValue() != null) args.add(port ? "0" : flag.testValue()); // 8000 may be taken on a test machine
    args.addAll(flag.companions());
    if (!port) args.addAll(List.of("--port", "0"));
    RecordingLoader loader = new RecordingLoader();
    StringWriter err = new StringWriter();
    int exit = run(loader, err, args.toArray(String[]::new));

    if (flag.answer() == VllmFlag.Answer.REFUSED) {
      assertEquals(2, exit, err.toString());
      assertEquals("barista: vLLM's " + flag.name() + " is not supported by barista: " + flag.reason(),
          err.toString().strip());
      assertNull(loader.options, "refused before loading");
      return;
    }
    assertEquals(1, exit, err.toString());
    assertEquals("barista: " + RecordingLoader.REACHED, err.toString().strip());
    assertNotNull(loader.options, "the model is loaded");
    if (flag.answer() != VllmFlag.Answer.HONOURED) {
      assertTrue(loader.options.ignoredFlags().stream().anyMatch(f -> f.equals(flag.name())
          || f.startsWith(flag.name() + " ")), flag.name() + " is not logged as having no effect: "
          + loader.options.ignoredFlags());
    }
  }

  /** Runs the command line as main does, with {@code loader} in place of the engine. */
  static int run(ServedModelLoader loader, StringWriter err, String... args) {
    CommandLine cli = Main.configure(new CommandLine(new Main(), new CommandLine.IFactory() {
      @Override
      public <K> K create(Class<K> type) throws Exception {
        return type == ServeCommand.class ? type.cast(new ServeCommand(loader)) : CommandLine.defaultFactory().create(type);
      }
    }));
    cli.setErr(new PrintWriter(err, true));
    cli.setOut(new PrintWriter(new StringWriter(), true));
    return cli.execute(Main.vllmSpelling(args));
  }

  /** Records the options it is asked to load with, then stops the command (exit 1) instead of loading. */
  static final class RecordingLoader implements ServedModelLoader {
    static final String REACHED = "model loading reached";
    volatile ServeOptions options;

    @Override
    public Loaded load(ServeOptions options) {
      this.options = options;
      throw new IllegalStateException(REACHED);
    }
  }
}
