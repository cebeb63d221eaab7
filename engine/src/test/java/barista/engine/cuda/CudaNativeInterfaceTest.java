package barista.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A libbarista_native built for another JNI interface is refused at load, with one line naming both versions. */
class CudaNativeInterfaceTest {
  @Test
  void matchingVersionIsAccepted() {
    assertEquals(Optional.empty(), CudaNative.interfaceMismatch(Path.of("lib.so"),
        "barista-native " + CudaNative.INTERFACE + " (archs 75;90, built with torch 2.11.0)", CudaNative.INTERFACE));
  }

  @Test
  void otherVersionsAreRefusedNamingBoth() {
    int need = CudaNative.INTERFACE;
    for (String v : new String[] {"barista-native " + (need - 1) + " (archs 90)", "barista-native " + need + "0 (x)",
        "barista-native " + need, "something else"}) {
      String why = CudaNative.interfaceMismatch(Path.of("/opt/lib.so"), v, need).orElseThrow();
      assertTrue(why.contains(v) && why.contains("interface " + need) && why.contains("/opt/lib.so"), why);
      assertFalse(why.contains("\n"), why);
    }
  }

  /**
   * The whole load path on a stub library whose only entry point is {@code version()}, reporting interface 1. Skipped
   * where a real library could be loaded in this JVM: once {@code version()} is linked to the stub it stays linked.
   */
  @Test
  void staleLibraryIsRefusedAtLoad(@TempDir Path dir) throws Exception {
    assumeTrue(System.getenv(CudaNative.ENV) == null, "a real library is configured for this JVM");
    assumeTrue(!Files.exists(Path.of("native", "build", CudaNative.FILE_NAME)), "a real library is built here");
    Path include = Path.of(System.getProperty("java.home"), "include");
    assumeTrue(Files.isRegularFile(include.resolve("jni.h")), "no JNI headers in this JDK");
    Path source = dir.resolve("stub.c");
    Files.writeString(source, """
        #include <jni.h>
        JNIEXPORT jstring JNICALL Java_barista_engine_cuda_CudaNative_version(JNIEnv* env, jclass c) {
          return (*env)->NewStringUTF(env, "barista-native 1 (stub)");
        }
        """);
    Path library = dir.resolve("libstub.so");
    Process cc;
    try {
      cc = new ProcessBuilder("cc", "-shared", "-fPIC", "-I" + include, "-I" + include.resolve("linux"),
          "-o", library.toString(), source.toString()).redirectErrorStream(true).start();
    } catch (java.io.IOException e) {
      assumeTrue(false, "no C compiler: " + e.getMessage());
      return;
    }
    assertTrue(cc.waitFor(60, TimeUnit.SECONDS), "cc did not finish");
    String ccOutput = new String(cc.getInputStream().readAllBytes());
    assumeTrue(cc.exitValue() == 0, "cc failed: " + ccOutput);

    String why = CudaNative.load(library).orElseThrow();
    assertTrue(why.contains("barista-native 1 (stub)") && why.contains("interface " + CudaNative.INTERFACE), why);
    assertFalse(why.contains("\n"), why);
    assertFalse(CudaNative.isLoaded());
  }
}
