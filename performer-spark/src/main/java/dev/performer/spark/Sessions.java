package dev.performer.spark;

import org.apache.spark.sql.SparkSession;

/** The Spark session of a command: the given master, spark-submit's, or local[*]. */
final class Sessions {

    private Sessions() {}

    /**
     * The active session, or a new one: master (null: spark-submit's {@code spark.master}, else
     * {@code local[*]}); executors get {@link SparkJvm#OPTIONS} unless the configuration sets
     * their options already.
     */
    static SparkSession start(String master, String app) {
        SparkSession.Builder b = SparkSession.builder().appName(app);
        String m = master != null ? master : System.getProperty("spark.master", "local[*]");
        b.master(m);
        if (System.getProperty("spark.executor.extraJavaOptions") == null)
            b.config("spark.executor.extraJavaOptions", SparkJvm.joined());
        if (m.startsWith("local")) b.config("spark.driver.host", "127.0.0.1").config("spark.ui.enabled", "false");
        SparkSession s = b.getOrCreate();
        s.sparkContext().setLogLevel("WARN");
        return s;
    }
}
