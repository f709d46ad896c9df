package dev.performer.spark;

import java.util.List;

/**
 * The JVM options Spark 4.2 needs on JDK 25, and this project's. Spark's own list
 * ({@code JavaModuleOptions} in spark-launcher, less {@code sun.security.action}, which JDK 25 no
 * longer has), {@code --sun-misc-unsafe-memory-access=allow} (with {@code deny} Spark dies at
 * startup; without it Netty silently takes slower paths), Netty's reflective access, native
 * access, and the Vector API module the kernels use. They go to the driver's JVM and to every
 * executor's ({@code spark.driver.extraJavaOptions}, {@code spark.executor.extraJavaOptions}).
 */
public final class SparkJvm {

    private SparkJvm() {}

    /** Every option, in the order the launcher and the README give them. */
    public static final List<String> OPTIONS = List.of(
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
            "--add-opens=java.base/java.io=ALL-UNNAMED",
            "--add-opens=java.base/java.net=ALL-UNNAMED",
            "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
            "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.cs=ALL-UNNAMED",
            "--add-opens=java.base/sun.util.calendar=ALL-UNNAMED",
            "--add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
            "--sun-misc-unsafe-memory-access=allow",
            "-Dio.netty.tryReflectionSetAccessible=true",
            "--enable-native-access=ALL-UNNAMED",
            "--add-modules=jdk.incubator.vector");

    /** The options as one string, for {@code spark.executor.extraJavaOptions}. */
    public static String joined() { return String.join(" ", OPTIONS); }
}
