package dev.performer.spark;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

class SparkJvmTest {

    @Test
    void theOptionsInTheCodeAreThoseOfThePomThatTheLauncherAndTheTestsUse() {
        String pom = System.getProperty("performer.spark.jvmOptions");
        assertNotNull(pom, "surefire passes the pom's spark.jvm.options");
        assertEquals(List.of(pom.trim().split("\\s+")), SparkJvm.OPTIONS);
        assertTrue(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()
                .containsAll(SparkJvm.OPTIONS), "this JVM runs with them");
    }
}
