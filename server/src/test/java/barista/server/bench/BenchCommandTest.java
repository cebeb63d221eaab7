package barista.server.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import barista.server.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The command line: help, and bad flags refused in one line with exit code 2 before any request is sent. */
class BenchCommandTest {
  private final StringWriter err = new StringWriter();
  private final StringWriter out = new StringWriter();

  private int run(String... args) {
    CommandLine cli = Main.commandLine();
    cli.setErr(new PrintWriter(err, true));
    cli.setOut(new PrintWriter(out, true));
    return cli.execute(args);
  }

  @Test
  void helpListsTheFlags() {
    assertEquals(0, run("bench", "--help"));
    for (String flag : new String[] {"--base-url", "--endpoint", "--num-prompts", "--concurrency", "--request-rate",
        "--input-len", "--output-len", "--dataset", "--ignore-eos", "--[no-]stream", "--preset", "--json", "--timeout",
        "--json-schema-path"}) {
      assertTrue(out.toString().contains(flag), flag);
    }
  }

  @Test
  void unknownPreset() {
    assertEquals(2, run("bench", "--preset", "nope"));
    assertEquals("barista: unknown --preset nope (known: seed-32-users)", err.toString().strip());
  }

  @Test
  void nonPositiveRequestRate() {
    assertEquals(2, run("bench", "--request-rate", "0"));
    assertEquals("barista: --request-rate must be > 0, got 0.0", err.toString().strip());
  }

  @Test
  void presetAndDatasetExcludeEachOther() {
    assertEquals(2, run("bench", "--preset", "seed-32-users", "--dataset", "x.jsonl"));
    assertEquals("barista: --preset and --dataset exclude each other", err.toString().strip());
  }

  @Test
  void jsonSchemaPathMustBeAJsonFileAndExcludesIgnoreEos(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    assertEquals(2, run("bench", "--json-schema-path", dir.resolve("none.json").toString()));
    assertEquals("barista: --json-schema-path " + dir.resolve("none.json") + " is not a file", err.toString().strip());
    java.nio.file.Path broken = java.nio.file.Files.writeString(dir.resolve("broken.json"), "{\"type\":");
    err.getBuffer().setLength(0);
    assertEquals(2, run("bench", "--json-schema-path", broken.toString()));
    assertTrue(err.toString().startsWith("barista: --json-schema-path " + broken + " is not JSON: "), err.toString());
    assertEquals(1, err.toString().strip().lines().count(), err.toString());
    err.getBuffer().setLength(0);
    assertEquals(2, run("bench", "--json-schema-path", broken.toString(), "--ignore-eos"));
    assertEquals("barista: --json-schema-path and --ignore-eos exclude each other: the schema decides where each "
        + "output ends", err.toString().strip());
  }
}
