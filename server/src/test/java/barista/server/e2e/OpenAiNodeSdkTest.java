package barista.server.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The official OpenAI Node SDK (npm package openai, pinned in scripts/sdk-tests/package.json), unchanged: runs
 * scripts/sdk-tests/openai-node.mjs against the real server. Needs node and npm on the PATH (CI installs npm); the
 * package is installed on first use.
 */
class OpenAiNodeSdkTest {
  private static final Path SCRIPTS = Path.of(System.getProperty("user.dir")).getParent().resolve("scripts/sdk-tests");

  @Test
  @Timeout(600)
  void nodeSdkRunsChatCompletionsModelsAndGetsTypedErrors() throws Exception {
    installPackages();
    try (RealServer server = RealServer.start("--served-model-name", "barista-tiny")) {
      Result sdk = run(120, "node", SCRIPTS.resolve("openai-node.mjs").toString(), server.baseUrl());
      assertEquals(0, sdk.exitCode, "openai-node.mjs failed:\n" + sdk.output);
      assertTrue(sdk.output.contains("models: barista-tiny\n"), sdk.output);
      assertTrue(sdk.output.contains("chat stream: chunks="), sdk.output);
      assertTrue(sdk.output.contains("structured output: json_object and json_schema valid"), sdk.output);
      assertTrue(sdk.output.contains("tool calls: required streamed calls="), sdk.output);
      assertTrue(sdk.output.contains("responses: create, json_schema, function_call, stream events="), sdk.output);
      assertTrue(sdk.output.contains("bad request: BadRequestError status=400"), sdk.output);
      assertTrue(sdk.output.contains("unknown model: NotFoundError status=404"), sdk.output);
      assertTrue(sdk.output.contains("openai-node: all checks passed"), sdk.output);
    }
  }

  /**
   * Structured output as the SDK's users write it: zod 4 and zod 3 schemas (zodResponseFormat, zodFunction with a
   * forced tool), each output validated by zod in the SDK and again by ajv; 200 bounded integers.
   */
  @Test
  @Timeout(900)
  void zodSchemasAndBoundedIntegersComeBackValid() throws Exception {
    installPackages();
    // Room for the tool definitions the template writes into the prompt (zod 4's patterns are long).
    try (RealServer server = RealServer.start("--served-model-name", "barista-tiny", "--max-model-len", "3072")) {
      Result sdk = run(600, "node", SCRIPTS.resolve("structured-node.mjs").toString(), server.baseUrl());
      assertEquals(0, sdk.exitCode, "structured-node.mjs failed:\n" + sdk.output);
      for (String label : List.of("zod 4", "zod 3")) {
        assertTrue(sdk.output.contains("parse " + label + ": zodResponseFormat outputs valid"), sdk.output);
        assertTrue(sdk.output.contains("zodFunction " + label + ": forced tool call valid"), sdk.output);
      }
      assertTrue(sdk.output.contains("tool beside response_format: the tool call is valid"), sdk.output);
      assertTrue(sdk.output.contains("bounded integers: 200 of 200 within [-5, 300]"), sdk.output);
      assertTrue(sdk.output.contains("structured-node: all checks passed"), sdk.output);
    }
  }

  /** npm install of package.json's pins, once: again whenever one of them is missing. */
  private static void installPackages() throws Exception {
    assertTrue(Files.isRegularFile(SCRIPTS.resolve("package.json")), "missing " + SCRIPTS.resolve("package.json"));
    for (String pkg : List.of("openai", "zod", "zod3", "ajv", "ajv-formats")) {
      if (Files.isDirectory(SCRIPTS.resolve("node_modules/" + pkg))) continue;
      Result install = run(300, "npm", "install", "--prefix", SCRIPTS.toString(), "--no-audit", "--no-fund",
          "--no-package-lock");
      assertEquals(0, install.exitCode, "npm install failed:\n" + install.output);
      return;
    }
  }

  private record Result(int exitCode, String output) {}

  /** Runs a command to its end; its stdout and stderr together. */
  private static Result run(int timeoutSeconds, String... command) throws IOException, InterruptedException {
    Process process;
    try {
      process = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new AssertionError("cannot run " + command[0] + " (" + e.getMessage() + "): the OpenAI Node SDK test "
          + "needs node and npm on the PATH (apt-get install npm)", e);
    }
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError(String.join(" ", List.of(command)) + " did not finish in " + timeoutSeconds + " s:\n"
          + output);
    }
    return new Result(process.exitValue(), output);
  }
}
