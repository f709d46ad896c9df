package dev.performer.spark;

import static org.junit.jupiter.api.Assertions.*;

import dev.performer.cli.Commands;
import dev.performer.model.PerformerModel;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end on a real standalone cluster on 127.0.0.1: a Master and two Workers (one core each)
 * started from this module's Maven classpath, the driver in a JVM of its own with the
 * application jar shipped through {@code spark.jars}; stopped afterwards by their process ids.
 */
class StandaloneClusterTest {

    @TempDir static Path tmp;
    static final List<Process> daemons = new ArrayList<>();
    static String master;
    static Path appJar;
    static final String JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) { return s.getLocalPort(); }
    }

    /** Spark's classpath as the Workers' SPARK_HOME/jars; this project's classes as the application jar. */
    static Path sparkHome() throws IOException {
        Path home = tmp.resolve("spark-home"), jars = home.resolve("jars");
        Files.createDirectories(jars);
        appJar = tmp.resolve("performer-app.jar");
        Set<String> seen = new HashSet<>();
        try (JarOutputStream app = new JarOutputStream(Files.newOutputStream(appJar))) {
            for (Class<?> c : List.of(SparkMain.class, PerformerModel.class, Commands.class))
                addToJar(app, Path.of(c.getProtectionDomain().getCodeSource().getLocation().getPath()), seen);
        }
        Set<Path> app = new HashSet<>();
        for (Class<?> c : List.of(SparkMain.class, PerformerModel.class, Commands.class))
            app.add(Path.of(c.getProtectionDomain().getCodeSource().getLocation().getPath()).toAbsolutePath());
        for (String e : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(e).toAbsolutePath();
            if (!e.endsWith(".jar") || app.contains(p)) continue;
            Path link = jars.resolve(p.getFileName());
            if (!Files.exists(link)) Files.createSymbolicLink(link, p);
        }
        return home;
    }

    private static void addToJar(JarOutputStream out, Path from, Set<String> seen) throws IOException {
        if (Files.isDirectory(from)) {
            try (Stream<Path> files = Files.walk(from)) {
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    String name = from.relativize(f).toString().replace(File.separatorChar, '/');
                    if (!seen.add(name)) continue;
                    out.putNextEntry(new JarEntry(name));
                    Files.copy(f, out);
                    out.closeEntry();
                }
            }
            return;
        }
        try (JarFile jar = new JarFile(from.toFile())) {
            for (JarEntry e : java.util.Collections.list(jar.entries())) {
                if (e.isDirectory() || e.getName().startsWith("META-INF/") || !seen.add(e.getName())) continue;
                out.putNextEntry(new JarEntry(e.getName()));
                try (InputStream in = jar.getInputStream(e)) { in.transferTo(out); }
                out.closeEntry();
            }
        }
    }

    static Process start(Path log, Path home, String... args) throws IOException {
        Path info = tmp.resolve("log4j2-daemons.properties");   // INFO: the lines awaited below
        if (!Files.exists(info))
            Files.writeString(info, String.join("\n", "rootLogger.level = info", "rootLogger.appenderRef.o.ref = o",
                    "appender.o.type = Console", "appender.o.name = o", "appender.o.layout.type = PatternLayout",
                    "appender.o.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n%ex", ""));
        List<String> cmd = new ArrayList<>(List.of(JAVA));
        cmd.addAll(SparkJvm.OPTIONS);
        cmd.addAll(List.of("-Xmx1g", "-Dlog4j2.configurationFile=" + info, "-cp",
                System.getProperty("java.class.path")));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("SPARK_HOME", home.toString());
        pb.environment().put("SPARK_SCALA_VERSION", "2.13");
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        return pb.start();
    }

    static void await(Path log, String text, int seconds) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < until) {
            if (Files.exists(log) && Files.readString(log).contains(text)) return;
            Thread.sleep(200);
        }
        fail("no '" + text + "' in " + log + " within " + seconds + " s:\n" + Files.readString(log));
    }

    @BeforeAll
    static void cluster() throws Exception {
        Path home = sparkHome();
        int port = freePort();
        master = "spark://127.0.0.1:" + port;
        Path mlog = tmp.resolve("master.log");
        daemons.add(start(mlog, home, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port",
                String.valueOf(port), "--webui-port", String.valueOf(freePort())));
        await(mlog, "I have been elected leader", 60);
        for (int w = 0; w < 2; w++) {
            Path wlog = tmp.resolve("worker" + w + ".log");
            daemons.add(start(wlog, home, "org.apache.spark.deploy.worker.Worker", master, "--host", "127.0.0.1",
                    "--cores", "1", "--memory", "2g", "--webui-port", String.valueOf(freePort()), "--work-dir",
                    tmp.resolve("work" + w).toString()));
            await(wlog, "Successfully registered with master", 60);
        }
    }

    @AfterAll
    static void stop() throws InterruptedException {
        for (Process p : daemons) {
            p.descendants().forEach(ProcessHandle::destroy);   // the executors the Workers started
            p.destroy();
        }
        for (Process p : daemons) if (!p.waitFor(20, TimeUnit.SECONDS)) p.destroyForcibly();
        for (Process p : daemons) assertFalse(p.isAlive(), "daemon " + p.pid() + " stopped");
    }

    /** performer spark ARGS in a driver JVM of its own, on the cluster; its output. */
    static String driver(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(JAVA));
        cmd.addAll(SparkJvm.OPTIONS);
        cmd.addAll(List.of("-Xmx2g", "-Dspark.jars=" + appJar, "-Dspark.driver.host=127.0.0.1",
                "-Dspark.executor.memory=1g", "-cp", System.getProperty("java.class.path"),
                SparkMain.class.getName()));
        cmd.addAll(List.of(args));
        cmd.addAll(List.of("--master", master));
        Path log = Files.createTempFile(tmp, "driver", ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "driver finished in 300 s");
        String out = Files.readString(log, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    @Test
    void embeddingsAndTrainingOnTwoWorkersEqualTheSingleMachineResults() throws Exception {
        Path fasta = LocalSpark.sample("swissprot2014_sample_heldout.fasta");
        Path model = tmp.resolve("model");
        TransformersTest.cli("train", "--steps", "2", "--L", "64", "--batch", "4", "--width", "32", "--ffn", "64",
                "--features", "16", "--run", model.toString(), "--threads", "1");
        Path cliOut = tmp.resolve("cli.npy"), sparkOut = tmp.resolve("cluster.npy");
        TransformersTest.cli("embed", "--checkpoint", model.toString(), "--data", fasta.toString(), "--out",
                cliOut.toString(), "--threads", "1");
        String out = driver("embed", "--checkpoint", model.toString(), "--data", fasta.toString(), "--out",
                sparkOut.toString(), "--partitions", "4");
        assertTrue(out.contains("600 embeddings of width 32"), out);
        assertArrayEquals(Files.readAllBytes(cliOut), Files.readAllBytes(sparkOut), "the same embeddings, bit for bit");
        assertEquals(Files.readAllLines(tmp.resolve("cli.ids.txt")),
                Files.readAllLines(tmp.resolve("cluster.ids.txt")));

        Path run = tmp.resolve("cluster-run");
        String t = driver("train", "--steps", "3", "--L", "64", "--batch", "4", "--width", "32", "--ffn", "64",
                "--features", "16", "--shards", "2", "--run", run.toString(), "--threads", "1");
        assertTrue(Files.exists(run.resolve("checkpoint-0000003.safetensors")), t);
        // a model trained on the cluster is an ordinary run: eval reads it
        assertTrue(TransformersTest.cli("eval", "--checkpoint", run.toString(), "--data", fasta.toString(),
                "--limit", "50").contains("loss"));
    }
}
