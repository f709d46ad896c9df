package dev.performer.spark;

import java.nio.file.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/**
 * One local Spark for every test class of this module's JVM: local[2,2] (two task threads; a
 * failed task is retried once, as a cluster retries it), loopback only, no UI.
 */
final class LocalSpark {

    private LocalSpark() {}

    private static SparkSession session;

    static synchronized SparkSession get() {
        if (session == null) {
            session = SparkSession.builder().master("local[2,2]").appName("performer-spark-tests")
                    .config("spark.ui.enabled", "false")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.sql.shuffle.partitions", "2")
                    .getOrCreate();
            session.sparkContext().setLogLevel("WARN");
        }
        return session;
    }

    static JavaSparkContext context() { return JavaSparkContext.fromSparkContext(get().sparkContext()); }

    /** A file of the bundled protein sample (performer-cli's resources). */
    static Path sample(String name) { return Path.of(System.getProperty("performer.sample")).resolve(name); }
}
