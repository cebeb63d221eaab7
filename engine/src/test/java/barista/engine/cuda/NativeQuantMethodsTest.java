package barista.engine.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The startup log's reading of BARISTA_QUANT_DEQUANT_ROWS agrees with the native library's (atoi, at least 0). */
class NativeQuantMethodsTest {
  @Test
  void dequantRowsAreReadAsTheNativeLibraryReadsThem() {
    assertEquals(128, NativeQuantMethods.leadingDigits("128"));
    assertEquals(64, NativeQuantMethods.leadingDigits(" 64 "));
    assertEquals(12, NativeQuantMethods.leadingDigits("12rows"));
    assertEquals(0, NativeQuantMethods.leadingDigits("-5"));
    assertEquals(0, NativeQuantMethods.leadingDigits(""));
    assertEquals(0, NativeQuantMethods.leadingDigits("many"));
  }
}
