package io.starling.protocol;

import com.code_intelligence.jazzer.agent.AgentInstaller;
import com.code_intelligence.jazzer.driver.FuzzedDataProviderImpl;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The seed files are only worth their bytes if Jazzer reads them as {@link FuzzInput} wrote them;
 * this reads them back with the FuzzedDataProvider that Jazzer itself hands to a fuzz test.
 */
class FuzzInputTest {

    /**
     * FuzzedDataProviderImpl needs Jazzer's bootstrap classes on the boot class path. This is what
     * Jazzer does before a @FuzzTest in this regression run (jazzer.hooks is false, root pom), so
     * the result does not depend on whether a fuzz test ran first; the call is done once per JVM.
     */
    @BeforeAll
    static void jazzerBootstrapClasses() {
        AgentInstaller.install(false);
    }

    @Test
    void jazzerReadsBackIntegersStringsAndTheRemainingBytesAsWritten() {
        byte[] payload = {0x10, 0x00, (byte) 0xFF, '\\', 0x5C, 0x01};
        byte[] input = new FuzzInput()
                .consumedInt(65_535, 2, 65_536)
                .consumedInt(0, 0, 0)
                .consumedInt(7, 0, 16)
                .consumedInt(300, 0, 1 << 20)
                .consumedString("a\\b/+/é€\uD83D\uDE00\u0000z")
                .remainingBytes(payload)
                .build();
        try (FuzzedDataProviderImpl data = FuzzedDataProviderImpl.withJavaData(input)) {
            assertEquals(65_535, data.consumeInt(2, 65_536));
            assertEquals(0, data.consumeInt(0, 0));
            assertEquals(7, data.consumeInt(0, 16));
            assertEquals(300, data.consumeInt(0, 1 << 20));
            assertEquals("a\\b/+/é€\uD83D\uDE00\u0000z", data.consumeString(100));
            assertArrayEquals(payload, data.consumeRemainingAsBytes());
        }
    }
}
